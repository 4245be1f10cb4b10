import { Link } from "@remix-run/react";
import { QUALITY_EVENT_KIND_LABELS, type QualityEventKind, type QualityEventSeverity, type QualityEventStatus } from "~/domain/quality-event";
import { Badge, type BadgeTone } from "./badge";
import { DataTable, EmptyRow } from "./data-table";

/**
 * Where open quality events show (ADR 037): a badge per event on an item (genealogy explorer, search,
 * trace graph and tables, material page), and lists of the events on an item or a material. An event
 * links to its page, `/quality-events/<number>`.
 */
export interface QualityEventMarkView {
  number: string;
  kind: QualityEventKind;
  severity: QualityEventSeverity;
  status: QualityEventStatus;
  siteCode: string;
  title: string;
  /** How it touches the item: referenced, or reached (certain / candidate) from `via`. */
  relation?: "referenced" | "certain" | "candidate";
  via?: { id: number; identifier: string } | null;
}

const SEVERITY_TONE: Record<QualityEventSeverity, BadgeTone> = { critical: "bad", major: "warn", minor: "neutral" };

export const qualityEventHref = (number: string) => `/quality-events/${encodeURIComponent(number)}`;

/** "QE-0003 nonconformance major" — the words the CSV and the analysis use too. */
export const qualityEventWords = (e: { number: string; kind: QualityEventKind; severity: QualityEventSeverity }) => `${e.number} ${e.kind} ${e.severity}`;

const relationWords = (e: QualityEventMarkView) =>
  e.relation === undefined || e.relation === "referenced"
    ? "references this item"
    : `reaches it (${e.relation}) from ${e.via?.identifier ?? "an item upstream"}`;

/** One badge per open event, linked to it; the words say number, kind and severity (the tone only repeats the severity). */
export function QualityEventBadges({ events }: { events: readonly QualityEventMarkView[] }) {
  if (events.length === 0) return null;
  return (
    <span className="quality-event-badges">
      {events.map((e) => (
        <Link key={e.number} to={qualityEventHref(e.number)} title={`${QUALITY_EVENT_KIND_LABELS[e.kind]}, ${e.severity}, ${e.status}: ${relationWords(e)}`}>
          <Badge tone={SEVERITY_TONE[e.severity]}>
            {e.number} {e.kind.replace("_", " ")} {e.severity}
            {e.relation === "certain" || e.relation === "candidate" ? ` · reached (${e.relation})` : ""}
          </Badge>
        </Link>
      ))}
    </span>
  );
}

/** The open events on an item: those referencing it and those reaching it from upstream. */
export function QualityEventTable({
  id,
  caption,
  events,
  truncated,
}: {
  id: string;
  caption: string;
  events: readonly QualityEventMarkView[];
  truncated?: boolean;
}) {
  return (
    <DataTable
      id={id}
      caption={caption}
      captionDetail={
        <>
          {events.length} open {events.length === 1 ? "event" : "events"}
          {truncated ? (
            <>
              {" "}
              · <strong className="withheld">a reach stopped at its item limit: events further upstream may be missing</strong>
            </>
          ) : null}
        </>
      }
    >
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Kind</th>
          <th scope="col">Severity</th>
          <th scope="col">Status</th>
          <th scope="col">Site</th>
          <th scope="col">Title</th>
          <th scope="col">How it touches the item</th>
        </tr>
      </thead>
      <tbody>
        {events.length === 0 ? <EmptyRow colSpan={7}>No open quality event.</EmptyRow> : null}
        {events.map((e) => (
          <tr key={e.number}>
            <th scope="row">
              <Link to={qualityEventHref(e.number)}>{e.number}</Link>
            </th>
            <td>{QUALITY_EVENT_KIND_LABELS[e.kind]}</td>
            <td>
              <Badge tone={SEVERITY_TONE[e.severity]}>{e.severity}</Badge>
            </td>
            <td>{e.status}</td>
            <td>{e.siteCode}</td>
            <td>{e.title}</td>
            <td>
              {e.relation === "certain" || e.relation === "candidate" ? (
                <>
                  reaches it from{" "}
                  {e.via ? (
                    <Link to={`/genealogy/${e.via.id}`}>
                      <code>{e.via.identifier}</code>
                    </Link>
                  ) : (
                    "upstream"
                  )}{" "}
                  <Badge tone={e.relation === "certain" ? "bad" : "warn"}>{e.relation}</Badge>
                </>
              ) : e.relation === "referenced" ? (
                "references this item"
              ) : (
                "references the material"
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

export interface MaterialQualityEventView extends QualityEventMarkView {
  items: { id: number; identifier: string; kind: string }[];
  material: boolean;
}

/** The material page's "Open quality events": per site, the events on its items or on the material. */
export function MaterialQualityEvents({ events }: { events: readonly MaterialQualityEventView[] }) {
  return (
    <section aria-labelledby="quality-events-heading">
      <h2 id="quality-events-heading">Open quality events</h2>
      <DataTable id="material-quality-events" caption="Open quality events referencing this material or its items, by site">
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Event</th>
            <th scope="col">Kind</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col">Title</th>
            <th scope="col">References</th>
          </tr>
        </thead>
        <tbody>
          {events.length === 0 ? <EmptyRow colSpan={7}>No open quality event references this material at your sites.</EmptyRow> : null}
          {events.map((e) => (
            <tr key={`${e.siteCode}-${e.number}`}>
              <td>{e.siteCode}</td>
              <th scope="row">
                <Link to={qualityEventHref(e.number)}>{e.number}</Link>
              </th>
              <td>{QUALITY_EVENT_KIND_LABELS[e.kind]}</td>
              <td>
                <Badge tone={SEVERITY_TONE[e.severity]}>{e.severity}</Badge>
              </td>
              <td>{e.status}</td>
              <td>{e.title}</td>
              <td>
                {e.material ? <span>the material{e.items.length ? "; " : ""}</span> : null}
                {e.items.map((item, i) => (
                  <span key={item.id}>
                    {i > 0 ? ", " : null}
                    {item.kind}{" "}
                    <Link to={`/genealogy/${item.id}`}>
                      <code>{item.identifier}</code>
                    </Link>
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </section>
  );
}
