import { Link } from "@remix-run/react";
import { Badge, type BadgeTone } from "./badge";
import { DataTable, EmptyRow } from "./data-table";
import { formatQuantity } from "./format";
import { QualityEventBadges, type QualityEventMarkView } from "./quality-event-markers";
import { UtcTime } from "./time";
import { TrackingBadge } from "./tracking-badge";

export interface GenealogyEdgeView {
  id: number;
  eventRef: string;
  kind: string;
  quantity: string;
  unit: string;
  occurredAt: Date;
  workOrderNumber: string | null;
  provenanceKind: string;
  itemId: number;
  itemIdentifier: string;
  itemKind: string;
  itemStatus: string;
  itemPartNumber: string;
}

/** One direction of an item's direct genealogy, each neighbour linked to its own page. */
export function GenealogyEdges({
  id,
  caption,
  itemHeader,
  edges,
  truncated,
  withheld = 0,
  selfId,
}: {
  id: string;
  caption: string;
  itemHeader: string;
  edges: readonly GenealogyEdgeView[];
  /** The limit, when there were more edges than shown. */
  truncated: number | null;
  /** Links to items (or events) at sites the reader cannot see: counted, not shown. */
  withheld?: number;
  selfId: number;
}) {
  const shown = truncated !== null ? `first ${truncated} shown` : `${edges.length} ${edges.length === 1 ? "edge" : "edges"}`;
  return (
    <DataTable
      id={id}
      caption={caption}
      captionDetail={
        withheld > 0 ? (
          <>
            {shown} ·{" "}
            <strong className="withheld">
              {withheld} {withheld === 1 ? "link" : "links"} at sites you cannot see
            </strong>{" "}
            (not shown)
          </>
        ) : (
          shown
        )
      }
    >
      <thead>
        <tr>
          <th scope="col">{itemHeader}</th>
          <th scope="col">Material</th>
          <th scope="col">Item kind</th>
          <th scope="col">Item status</th>
          <th scope="col">Flow</th>
          <th scope="col" className="num">
            Quantity
          </th>
          <th scope="col">Time</th>
          <th scope="col">Work order</th>
          <th scope="col">Event</th>
        </tr>
      </thead>
      <tbody>
        {edges.length === 0 ? <EmptyRow colSpan={9}>{withheld > 0 ? "None at sites you can see." : "None recorded."}</EmptyRow> : null}
        {edges.map((edge) => (
          <tr key={edge.id}>
            <th scope="row">
              {edge.itemId === selfId ? (
                <>
                  <code>{edge.itemIdentifier}</code> <span className="muted">(this item)</span>
                </>
              ) : (
                <Link to={`/genealogy/${edge.itemId}`}>
                  <code>{edge.itemIdentifier}</code>
                </Link>
              )}
            </th>
            <td>
              <Link to={`/materials/${encodeURIComponent(edge.itemPartNumber)}`}>{edge.itemPartNumber}</Link>
            </td>
            <td>{edge.itemKind}</td>
            <td>{edge.itemStatus}</td>
            <td>{edge.kind}</td>
            <td className="num">
              {formatQuantity(edge.quantity)} {edge.unit}
            </td>
            <td>
              <UtcTime value={edge.occurredAt} />
            </td>
            <td>{edge.workOrderNumber ?? <span className="muted">—</span>}</td>
            <td>
              <code className="small">{edge.eventRef}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

/* ------------------------------------------------------------------------------------------ */
/* Multi-tier traces and the recall                                                            */
/* ------------------------------------------------------------------------------------------ */

type Precision = "unit" | "lot" | "none";
type Certainty = "certain" | "candidate";

export interface RuleView {
  state: "legacy" | "unruled" | "ruled";
  trackingMode: "serial" | "lot" | "none" | null;
  version: number | null;
}

export interface TraceNodeView {
  id: number;
  tier: number;
  identifier: string;
  kind: "serial" | "lot" | "container";
  status: string;
  partNumber: string;
  siteCode: string;
  via: { kind: string; quantity: string; unit: string; occurredAt: Date | string; eventRef: string; fromId: number; fromIdentifier: string } | null;
  eventAt: Date | string;
  moreLinks: number;
  rule: RuleView;
  precision: Precision;
}

const PRECISION_TONE: Record<Precision, BadgeTone> = { unit: "good", lot: "info", none: "bad" };

export function PrecisionBadge({ precision }: { precision: Precision }) {
  return <Badge tone={PRECISION_TONE[precision]}>{precision}</Badge>;
}

export function CertaintyBadge({ certainty }: { certainty: Certainty }) {
  return <Badge tone={certainty === "certain" ? "bad" : "warn"}>{certainty}</Badge>;
}

/** The tracking mode a node's material had then: its mode, "legacy" before the site's first version, "unruled" without a rule. */
export function RuleModeCell({ rule }: { rule: RuleView }) {
  if (rule.state === "legacy") return <Badge tone="warn">legacy</Badge>;
  if (rule.state === "unruled") return <Badge tone="neutral">unruled</Badge>;
  return <TrackingBadge mode={rule.trackingMode} />;
}

/** The rule-set version in force at the node's site then, or "legacy" before the first. */
export function RuleVersionCell({ rule }: { rule: RuleView }) {
  if (rule.state === "legacy") return <span className="legacy-mark">legacy</span>;
  return <>v{rule.version}</>;
}

/**
 * One direction of a multi-tier trace, one row per item (the start first): where it sits in the
 * trace, the event that linked it, the rule in force at its site at that event, and the path's
 * trace precision.
 */
export function TraceTable({
  id,
  caption,
  direction,
  nodes,
  truncated,
  nodeCap,
  withheld,
  marks = {},
}: {
  id: string;
  caption: string;
  direction: "backward" | "forward";
  /** Open quality events by item id (ADR 037). */
  marks?: Readonly<Record<number, readonly QualityEventMarkView[]>>;
  nodes: readonly TraceNodeView[];
  truncated: boolean;
  nodeCap: number;
  withheld: number;
}) {
  const tiers = nodes.reduce((deepest, n) => Math.max(deepest, n.tier), 0);
  return (
    <DataTable
      id={id}
      caption={caption}
      captionDetail={
        <>
          {nodes.length - 1} {nodes.length - 1 === 1 ? "item" : "items"} over {tiers} {tiers === 1 ? "tier" : "tiers"}
          {truncated ? (
            <>
              {" "}
              · <strong className="withheld">stopped at {nodeCap} items: the trace goes further</strong>
            </>
          ) : null}
          {withheld > 0 ? (
            <>
              {" "}
              ·{" "}
              <strong className="withheld">
                {withheld} {withheld === 1 ? "item" : "items"} linked through sites you cannot see
              </strong>{" "}
              (not shown, not traced beyond)
            </>
          ) : null}
        </>
      }
    >
      <thead>
        <tr>
          <th scope="col" className="num">
            Tier
          </th>
          <th scope="col">Item</th>
          <th scope="col">Kind</th>
          <th scope="col">Material</th>
          <th scope="col">Site</th>
          <th scope="col">Event</th>
          <th scope="col" className="num">
            Quantity
          </th>
          <th scope="col">Time</th>
          <th scope="col">Tracking then</th>
          <th scope="col">Rule set then</th>
          <th scope="col">Trace precision</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.id} className={n.rule.state === "legacy" ? "row-legacy" : undefined}>
            <td className="num">{n.tier}</td>
            <th scope="row">
              {n.tier === 0 ? (
                <>
                  <code>{n.identifier}</code> <span className="muted">(this item)</span>
                </>
              ) : (
                <Link to={`/genealogy/${n.id}`}>
                  <code>{n.identifier}</code>
                </Link>
              )}{" "}
              <QualityEventBadges events={marks[n.id] ?? []} />
            </th>
            <td>{n.kind}</td>
            <td>
              <Link to={`/materials/${encodeURIComponent(n.partNumber)}`}>{n.partNumber}</Link>
            </td>
            <td>{n.siteCode}</td>
            <td>
              {n.via ? (
                <>
                  {n.via.kind} {direction === "backward" ? "into" : "from"} <code>{n.via.fromIdentifier}</code>
                  {n.moreLinks > 0 ? (
                    <span className="muted">
                      {" "}
                      (+{n.moreLinks} more {n.moreLinks === 1 ? "link" : "links"})
                    </span>
                  ) : null}
                </>
              ) : (
                <span className="muted">created</span>
              )}
            </td>
            <td className="num">{n.via ? `${formatQuantity(n.via.quantity)} ${n.via.unit}` : <span className="muted">—</span>}</td>
            <td>
              <UtcTime value={n.eventAt} />
            </td>
            <td>
              <RuleModeCell rule={n.rule} />
            </td>
            <td>
              <RuleVersionCell rule={n.rule} />
            </td>
            <td>
              <PrecisionBadge precision={n.precision} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

export interface RecallRowView {
  id: number;
  identifier: string;
  kind: string;
  status: string;
  partNumber: string;
  siteCode: string;
  tier: number;
  certainty: Certainty;
  precision: Precision;
  eventAt: Date | string;
  rule: RuleView;
  /** Open quality events referencing or reaching it (ADR 037). */
  qualityEvents?: readonly QualityEventMarkView[];
}

/** Finished items a recall reaches, certain ones first. */
export function RecallTable({ rows, caption }: { rows: readonly RecallRowView[]; caption: string }) {
  return (
    <DataTable id="recall-items" caption={caption} captionDetail={`${rows.length} finished ${rows.length === 1 ? "item" : "items"}`}>
      <thead>
        <tr>
          <th scope="col">Finished item</th>
          <th scope="col">Kind</th>
          <th scope="col">Material</th>
          <th scope="col">Site</th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Tier
          </th>
          <th scope="col">Recall</th>
          <th scope="col">Trace precision</th>
          <th scope="col">Made</th>
          <th scope="col">Rule set then</th>
          <th scope="col">Open quality events</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={11}>No finished item reached.</EmptyRow> : null}
        {rows.map((r) => (
          <tr key={r.id}>
            <th scope="row">
              <Link to={`/genealogy/${r.id}`}>
                <code>{r.identifier}</code>
              </Link>
            </th>
            <td>{r.kind}</td>
            <td>
              <Link to={`/materials/${encodeURIComponent(r.partNumber)}`}>{r.partNumber}</Link>
            </td>
            <td>{r.siteCode}</td>
            <td>{r.status}</td>
            <td className="num">{r.tier}</td>
            <td>
              <CertaintyBadge certainty={r.certainty} />
            </td>
            <td>
              <PrecisionBadge precision={r.precision} />
            </td>
            <td>
              <UtcTime value={r.eventAt} />
            </td>
            <td>
              <RuleVersionCell rule={r.rule} />
            </td>
            <td>
              <QualityEventBadges events={r.qualityEvents ?? []} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
