import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { formatQuantity } from "~/components/format";
import { GenealogyEdges, RecallTable, TraceTable, type TraceNodeView } from "~/components/genealogy-edges";
import { GenealogyGraph } from "~/components/genealogy-graph";
import { QualityEventBadges, QualityEventTable, type QualityEventMarkView } from "~/components/quality-event-markers";
import { UtcTime } from "~/components/time";
import type { GraphLayout } from "~/domain/genealogy-trace";
import { exploreGenealogy } from "~/queries/genealogy.server";
import { traceItemGenealogy, traceItemSite } from "~/queries/trace-items.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord, siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

const paramsSchema = z.object({
  itemId: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/)
    .transform(Number),
});

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "TraceItem");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const found = await traceItemSite(db, { itemId: parsed.data.itemId });
  if (!found) throw notFound();
  // The record-level check comes before the item is read; its links are then scoped in the query.
  requireRecord(signedIn, "read", "TraceItem", { siteId: found.siteId });
  const sites = siteFilter(signedIn);
  const [genealogy, explorer] = await Promise.all([
    traceItemGenealogy(db, { itemId: parsed.data.itemId, sites }),
    exploreGenealogy(db, { itemId: parsed.data.itemId, sites }),
  ]);
  if (!genealogy || !explorer) throw notFound();
  return { ...genealogy, explorer };
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.item.identifier} · Genealogy · C-981` : "Trace item not found · C-981" },
];

export default function Genealogy() {
  const { item, inputs, outputs, moreInputs, moreOutputs, inputsWithheld, outputsWithheld, edgeLimit, explorer } = useLoaderData<typeof loader>();
  const { recall } = explorer;
  const ability = useAbility();
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">{item.kind}</span> <code>{item.identifier}</code>
          </>
        }
        lead={
          <>
            <Link to={`/materials/${encodeURIComponent(item.partNumber)}`}>{item.partNumber}</Link> — {item.materialDescription}
          </>
        }
      >
        <nav aria-label="On this page" className="page-toc">
          <a href="#quality-events-heading">Open quality events</a> · <a href="#backward-heading">Backward trace</a> ·{" "}
          <a href="#forward-heading">Forward trace</a> · <a href="#recall-heading">Recall</a>
        </nav>
      </PageHeader>
      <section aria-labelledby="item-heading" className="card">
        <h2 id="item-heading">Trace item</h2>
        <dl className="properties">
          <div>
            <dt>Identifier</dt>
            <dd>
              <code>{item.identifier}</code>
            </dd>
          </div>
          <div>
            <dt>Kind</dt>
            <dd>{item.kind}</dd>
          </div>
          <div>
            <dt>Material</dt>
            <dd>
              <Link to={`/materials/${encodeURIComponent(item.partNumber)}`}>{item.partNumber}</Link>
            </dd>
          </div>
          <div>
            <dt>Site</dt>
            <dd>{item.siteCode}</dd>
          </div>
          <div>
            <dt>Quantity</dt>
            <dd>
              {formatQuantity(item.quantity)} {item.unit}
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <Badge tone={item.status === "scrapped" ? "bad" : "neutral"}>{item.status}</Badge>
            </dd>
          </div>
          <div>
            {/* An imported item was created when its first event says, not when the file came in (ADR 014). */}
            <dt>{item.provenanceKind === "import" ? "First event" : "Created"}</dt>
            <dd>
              <UtcTime value={item.createdAt} />
            </dd>
          </div>
          {item.importedAt ? (
            <div>
              <dt>Imported</dt>
              <dd>
                <UtcTime value={item.importedAt} />
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Provenance</dt>
            <dd>{item.provenanceKind}</dd>
          </div>
          {item.provenanceFileDigest ? (
            <div className="wide">
              <dt>Source file digest</dt>
              <dd>
                <Digest value={item.provenanceFileDigest} full />
              </dd>
            </div>
          ) : null}
          {item.provenanceEventId ? (
            <div className="wide">
              <dt>Source event id</dt>
              <dd>
                <code>{item.provenanceEventId}</code>
              </dd>
            </div>
          ) : null}
        </dl>
      </section>

      <section aria-labelledby="quality-events-heading" className="trace-section">
        <h2 id="quality-events-heading">Open quality events</h2>
        <p className="section-note">
          Open (not closed) quality events that reference this item, or reference an item upstream of it and so reach it — <strong>certain</strong> or{" "}
          <strong>candidate</strong> as the recall from that item decides — and those referencing its material at {item.siteCode}.
        </p>
        <p>
          <QualityEventBadges events={explorer.qualityEvents.item} />
        </p>
        {ability.can("create", "QualityEvent") ? (
          <p>
            <Link
              to={`/quality-events/new?${new URLSearchParams({ site: item.siteCode, reference: item.kind, material: item.kind === "container" ? "" : item.partNumber, identifier: item.identifier })}`}
            >
              Raise a quality event on this {item.kind}
            </Link>
          </p>
        ) : null}
        <QualityEventTable
          id="item-quality-events"
          caption="Open quality events on this item"
          events={[...explorer.qualityEvents.item, ...explorer.qualityEvents.material.map((e): QualityEventMarkView => ({ ...e }))]}
          truncated={explorer.qualityEvents.truncated}
        />
      </section>

      <GenealogyEdges
        id="inputs"
        caption="Inputs: what went into this item"
        itemHeader="Input item"
        edges={inputs}
        truncated={moreInputs ? edgeLimit : null}
        withheld={inputsWithheld}
        selfId={item.id}
      />
      <GenealogyEdges
        id="outputs"
        caption="Outputs: what this item went into"
        itemHeader="Output item"
        edges={outputs}
        truncated={moreOutputs ? edgeLimit : null}
        withheld={outputsWithheld}
        selfId={item.id}
      />

      <TraceSection
        id="backward"
        heading="Backward trace: what went into it, through every tier"
        graphTitle="Backward trace graph"
        tableCaption="Backward trace"
        trace={explorer.backward}
        startId={item.id}
        marks={explorer.qualityEvents.nodes}
      />
      <TraceSection
        id="forward"
        heading="Forward trace: where it went, through every tier"
        graphTitle="Forward trace graph"
        tableCaption="Forward trace"
        trace={explorer.forward}
        startId={item.id}
        marks={explorer.qualityEvents.nodes}
      />

      <section aria-labelledby="recall-heading" className="trace-section">
        <h2 id="recall-heading">Recall: finished items that may contain {item.identifier}</h2>
        <p className="section-note">
          <strong>Finished</strong> means the item&apos;s material is a top tier of its site&apos;s bills of materials — the parent of some BOM line and a
          component or alternate of none (a device, or a part sold only as a spare) — and the item is not a container (a pallet holds finished items).{" "}
          <strong>Certain</strong>: some path from this item to it passes no commingling point. <strong>Candidate</strong>: every path passes one — a lot or
          container with inputs from more than one source item, such as a merge or a lot built from several serials — so it may contain this item, and which
          unit does is not recorded.
        </p>
        {recall.truncated ? (
          <p className="notice notice-warn" role="note">
            The forward trace stopped at {recall.nodeCap} items, so this list is incomplete. The CSV export traces up to the export limit and is refused rather
            than cut short.
          </p>
        ) : null}
        {recall.withheld > 0 ? (
          <p className="notice notice-warn" role="note">
            {recall.withheld} {recall.withheld === 1 ? "item" : "items"} of the forward trace {recall.withheld === 1 ? "is" : "are"} linked through sites you
            cannot see: not listed, and not traced beyond, so this recall may be incomplete.
          </p>
        ) : null}
        <div className="recall-summary">
          <p>
            <strong>{recall.rows.length}</strong> finished {recall.rows.length === 1 ? "item" : "items"}: <strong>{recall.certain}</strong> certain,{" "}
            <strong>{recall.candidate}</strong> candidate ({recall.reached - 1} items reached forward, {recall.commingling} commingling{" "}
            {recall.commingling === 1 ? "point" : "points"}).
          </p>
          <a className="button-link" href={`/genealogy/${item.id}/recall.csv`} download>
            Export recall (CSV)
          </a>
        </div>
        <DataTable id="recall-by-site" caption="Recall by site">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col" className="num">
                Certain
              </th>
              <th scope="col" className="num">
                Candidate
              </th>
              <th scope="col" className="num">
                Finished items
              </th>
            </tr>
          </thead>
          <tbody>
            {recall.bySite.length === 0 ? <EmptyRow colSpan={4}>No finished item reached.</EmptyRow> : null}
            {recall.bySite.map((s) => (
              <tr key={s.siteCode}>
                <th scope="row">{s.siteCode}</th>
                <td className="num">{s.certain}</td>
                <td className="num">{s.candidate}</td>
                <td className="num">{s.total}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
        <RecallTable rows={recall.rows} caption="Finished items reached forward" />
      </section>
    </>
  );
}

interface TraceView {
  direction: "backward" | "forward";
  nodeCap: number;
  truncated: boolean;
  withheld: number;
  nodes: TraceNodeView[];
  tiers: number;
  cycles: { items: number; path: { id: number; identifier: string }[] }[];
  graph: GraphLayout;
}

function TraceSection({
  id,
  heading,
  graphTitle,
  tableCaption,
  trace,
  startId,
  marks,
}: {
  id: string;
  heading: string;
  graphTitle: string;
  tableCaption: string;
  trace: TraceView;
  startId: number;
  marks: Record<number, QualityEventMarkView[]>;
}) {
  const legacy = trace.nodes.filter((n) => n.rule.state === "legacy").length;
  return (
    <section aria-labelledby={`${id}-heading`} className="trace-section">
      <h2 id={`${id}-heading`}>{heading}</h2>
      {trace.cycles.map((cycle, i) => (
        <div key={i} className="notice notice-warn" role="note" aria-label="Finding: cycle">
          <p>
            <strong>Finding: the genealogy loops.</strong>{" "}
            {cycle.path.map((step, j) => (
              <span key={j}>
                {j > 0 ? " → " : null}
                <code>{step.identifier}</code>
              </span>
            ))}
            {cycle.items > cycle.path.length - 1 ? ` (${cycle.items} items reach one another)` : null}. Material cannot flow in a circle: the imported data is
            wrong here. The trace lists each item once and stops at the loop.
          </p>
        </div>
      ))}
      {legacy > 0 ? (
        <p className="section-note">
          <span className="legacy-mark">legacy</span>: {legacy} {legacy === 1 ? "step happened" : "steps happened"} before the site&apos;s first rule-set
          version, when no tracking rule governed it.
        </p>
      ) : null}
      {trace.nodes.length > 1 ? (
        <GenealogyGraph
          id={`${id}-graph`}
          title={graphTitle}
          direction={trace.direction}
          layout={trace.graph}
          nodes={trace.nodes}
          startId={startId}
          marks={marks}
        />
      ) : null}
      <TraceTable
        id={`${id}-trace`}
        caption={tableCaption}
        direction={trace.direction}
        nodes={trace.nodes}
        truncated={trace.truncated}
        nodeCap={trace.nodeCap}
        withheld={trace.withheld}
        marks={marks}
      />
    </section>
  );
}
