import type { QualityEventMarkView } from "./quality-event-markers";
import { SAME_TIER_BEND, type GraphLayout, type TraceDirection, type TraceItemKind } from "~/domain/genealogy-trace";

/** What the graph needs of each traced item (the loader sends more). */
export interface GraphNodeView {
  id: number;
  tier: number;
  identifier: string;
  kind: TraceItemKind;
  partNumber: string;
  siteCode: string;
  rule: { state: "legacy" | "unruled" | "ruled"; version: number | null };
}

const MAX_LABEL = 20;
/** Wider graphs keep their natural size in a scrolling box: scaled to a page they would be unreadable. */
const SCALE_TO_FIT_MAX_WIDTH = 1600;
const clip = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);

/**
 * A trace drawn as a layered graph, rendered on the server as plain SVG (no script, no inline
 * style, so the strict CSP holds): one column per tier with material flowing left to right, nodes
 * coloured by kind, legacy nodes (before the site's first rule-set version) dashed and labelled.
 * Each node links to its item (for the mouse); the table below it is the complete, accessible listing.
 */
export function GenealogyGraph({
  id,
  title,
  direction,
  layout,
  nodes,
  startId,
  marks = {},
}: {
  id: string;
  title: string;
  direction: TraceDirection;
  layout: GraphLayout;
  nodes: readonly GraphNodeView[];
  startId: number;
  /** Open quality events by item id (ADR 037): marked on the node and named in its title. */
  marks?: Readonly<Record<number, readonly QualityEventMarkView[]>>;
}) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const arrowId = `${id}-arrow`;
  const h = layout.nodeHeight;
  const legacy = layout.nodes.filter((n) => byId.get(n.id)?.rule.state === "legacy").length;
  return (
    <figure className="trace-graph" aria-labelledby={titleId}>
      <figcaption id={titleId}>
        {title}{" "}
        <span className="caption-detail">
          {layout.nodes.length} {layout.nodes.length === 1 ? "item" : "items"} drawn
          {layout.omitted > 0 ? (
            <>
              {" "}
              · <strong>{layout.omitted} more not drawn</strong> (the nearest tiers come first; the table lists every item)
            </>
          ) : null}
        </span>
      </figcaption>
      <section className="trace-graph-scroll" aria-label={`${title} (scrollable)`} tabIndex={0}>
        {/* A group, not role="img": an image's children are presentational, and the nodes are links
            (axe nested-interactive, WCAG 4.1.2); as a group, each node is a link named by its title. */}
        {/* biome-ignore lint/a11y/useSemanticElements: a <fieldset> cannot be an SVG; role="group" is the SVG's own role here */}
        <svg
          role="group"
          aria-labelledby={`${titleId} ${descId}`}
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          className={layout.width > SCALE_TO_FIT_MAX_WIDTH ? "trace-graph-svg trace-graph-svg-wide" : "trace-graph-svg"}
        >
          <desc id={descId}>
            {direction === "backward" ? "Inputs on the left flow into this item on the right" : "This item on the left flows into its outputs on the right"}
            {legacy > 0 ? `; ${legacy} legacy ${legacy === 1 ? "item" : "items"} (before the site's first rule-set version) drawn dashed` : ""}.
          </desc>
          <defs>
            <marker id={arrowId} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" className="trace-graph-arrow" />
            </marker>
          </defs>
          <g className="trace-graph-edges">
            {layout.edges.map((e) => {
              const reach = Math.max(24, Math.abs(e.x2 - e.x1) / 2);
              const d =
                e.shape === "forward"
                  ? `M ${e.x1} ${e.y1} C ${e.x1 + reach} ${e.y1}, ${e.x2 - reach} ${e.y2}, ${e.x2} ${e.y2}`
                  : e.shape === "same-tier"
                    ? `M ${e.x1} ${e.y1} C ${e.x1 + SAME_TIER_BEND} ${e.y1}, ${e.x2 + SAME_TIER_BEND} ${e.y2}, ${e.x2} ${e.y2}`
                    : `M ${e.x1} ${e.y1} C ${e.x1 - reach} ${e.y1}, ${e.x2 + reach} ${e.y2}, ${e.x2} ${e.y2}`;
              const classes = ["trace-graph-edge", e.shape === "forward" ? "" : "trace-graph-edge-other", e.inCycle ? "trace-graph-edge-cycle" : ""];
              return <path key={`${e.inputItemId}-${e.outputItemId}`} d={d} className={classes.filter(Boolean).join(" ")} markerEnd={`url(#${arrowId})`} />;
            })}
          </g>
          {layout.nodes.map((placed) => {
            const node = byId.get(placed.id);
            if (!node) return null;
            const isLegacy = node.rule.state === "legacy";
            const events = marks[node.id] ?? [];
            const eventText = events
              .map((e) => `${e.number} ${e.kind} ${e.severity}${e.relation === "certain" || e.relation === "candidate" ? ` (reached, ${e.relation})` : ""}`)
              .join(", ");
            const ruleText = isLegacy ? "legacy" : `v${node.rule.version}${node.rule.state === "unruled" ? " unruled" : ""}`;
            const classes = [
              "trace-graph-node",
              `trace-graph-node-${node.kind}`,
              isLegacy ? "trace-graph-node-legacy" : "",
              node.id === startId ? "trace-graph-node-start" : "",
              events.length ? "trace-graph-node-quality" : "",
            ]
              .filter(Boolean)
              .join(" ");
            return (
              // Out of the tab order: a large graph would add dozens of stops; keyboard users get the
              // same links in the table (screen readers still find them here, named by their title).
              <a key={node.id} href={`/genealogy/${node.id}`} className={classes} tabIndex={-1}>
                <title>
                  {`${node.kind} ${node.identifier} · ${node.partNumber} at ${node.siteCode} · tier ${node.tier} · ${isLegacy ? "legacy (before the site's first rule-set version)" : `rule set ${ruleText}`}${events.length ? ` · open quality events: ${eventText}` : ""}`}
                </title>
                <rect x={placed.x} y={placed.y} width={layout.nodeWidth} height={h} rx={4} />
                <text x={placed.x + 8} y={placed.y + 15} className="trace-graph-id">
                  {clip(node.identifier)}
                </text>
                {events.length ? (
                  <text x={placed.x + layout.nodeWidth - 6} y={placed.y + 15} textAnchor="end" className="trace-graph-quality">
                    {events.length === 1 ? events[0]!.number : `${events.length} QE`}
                  </text>
                ) : null}
                <text x={placed.x + 8} y={placed.y + h - 8} className="trace-graph-sub">
                  {`${node.partNumber} · ${node.siteCode} · ${ruleText}`}
                </text>
              </a>
            );
          })}
        </svg>
      </section>
      <ul className="trace-graph-legend" aria-label="Legend">
        <li>
          <span className="legend-swatch trace-graph-node-serial" aria-hidden="true" /> serial
        </li>
        <li>
          <span className="legend-swatch trace-graph-node-lot" aria-hidden="true" /> lot
        </li>
        <li>
          <span className="legend-swatch trace-graph-node-container" aria-hidden="true" /> container
        </li>
        <li>
          <span className="legend-swatch legend-legacy" aria-hidden="true" /> legacy: before the site&apos;s first rule-set version
        </li>
        <li>
          <span className="legend-swatch legend-start" aria-hidden="true" /> this item
        </li>
        <li>
          <span className="trace-graph-quality-legend">QE-…</span> open quality event on the item (or reaching it)
        </li>
      </ul>
    </figure>
  );
}
