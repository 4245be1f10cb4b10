/**
 * Charts of an impact analysis, drawn as inline SVG by the server (and the same markup on
 * hydration): no chart library, and no `style` attribute anywhere — the Content-Security-Policy
 * allows styles from the stylesheet only (style-src 'self'), so colours come from CSS classes and
 * sizes from SVG presentation attributes. Every chart has a title, axis labels and the same
 * numbers as a table for assistive technology.
 */
import { ITEM_STATUSES } from "~/domain/genealogy-graph/graph";
import type { ReactNode } from "react";
import { formatCount } from "./format";

/** Positions are rounded so server and browser render the same text. */
const r1 = (n: number) => Math.round(n * 10) / 10;

/** A round axis maximum (1, 2, 2.5 or 5 × 10^k) at or above `max`, and its tick step. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return { max: step * Math.ceil(max / step - 1e-9), step };
}

const tickLabel = (value: number) => (Number.isInteger(value) ? formatCount(value) : String(Math.round(value * 100) / 100));

export function ChartFigure({
  id,
  title,
  description,
  children,
  table,
}: {
  id: string;
  title: string;
  description: string;
  children: ReactNode;
  table: ReactNode;
}) {
  return (
    <figure className="chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className="chart-title">
        {title}
      </figcaption>
      {children}
      <p className="visually-hidden" id={`${id}-desc`}>
        {description}
      </p>
      {table}
    </figure>
  );
}

// --- label and scan volume, before and after ----------------------------------------------------

export interface VolumeRow {
  /** "SUB-1008 at EIN" */
  change: string;
  measure: "Labels per day" | "Scans per day";
  /** As the finding states them ("1.5"): shown as is, drawn by their value. */
  before: string;
  after: string;
}

/**
 * Horizontal bars, two per row (before, after): how many labels are printed and scans made per
 * day for each changed material, from the LABELS and SCAN_STEPS findings.
 */
export function VolumeChart({ id, rows, windowDays }: { id: string; rows: readonly VolumeRow[]; windowDays: number }) {
  const labelWidth = 210;
  const plotWidth = 360;
  const valueRoom = 56;
  const bar = 14;
  const group = bar * 2 + 14;
  const top = 34;
  const axis = 40;
  const height = top + rows.length * group + axis;
  const width = labelWidth + plotWidth + valueRoom;
  const scale = niceScale(Math.max(0, ...rows.flatMap((r) => [Number(r.before), Number(r.after)])));
  const x = (v: number | string) => r1(labelWidth + ((Number(v) || 0) / scale.max) * plotWidth);
  const ticks = Array.from({ length: Math.round(scale.max / scale.step) + 1 }, (_, i) => i * scale.step);
  const description = rows.map((r) => `${r.change}, ${r.measure.toLowerCase()}: ${r.before} before, ${r.after} after`).join("; ");
  return (
    <ChartFigure
      id={id}
      title={`Label and scan volume per day, before and after (mean of the ${windowDays} days before the data point)`}
      description={description}
      table={
        <table className="visually-hidden">
          <caption>Label and scan volume per day, before and after</caption>
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col">Measure</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.change}|${r.measure}`}>
                <th scope="row">{r.change}</th>
                <td>{r.measure}</td>
                <td>{r.before}</td>
                <td>{r.after}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      {/* All-zero rows never reach here: the analysis says so in one line instead (impact-analysis.tsx). */}
      <svg
        className="chart-svg"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-labelledby={`${id}-caption`}
        aria-describedby={`${id}-desc`}
      >
        <g className="chart-legend" aria-hidden="true">
          <rect className="bar-before" x={labelWidth} y={8} width={12} height={12} />
          <text className="chart-text" x={labelWidth + 18} y={18}>
            before
          </text>
          <rect className="bar-after" x={labelWidth + 80} y={8} width={12} height={12} />
          <text className="chart-text" x={labelWidth + 98} y={18}>
            after
          </text>
        </g>
        {ticks.map((t) => (
          <g key={t} aria-hidden="true">
            <line className="chart-grid" x1={x(t)} x2={x(t)} y1={top - 4} y2={top + rows.length * group} />
            <text className="chart-text chart-tick" x={x(t)} y={top + rows.length * group + 14} textAnchor="middle">
              {tickLabel(t)}
            </text>
          </g>
        ))}
        {rows.map((r, i) => {
          const y = top + i * group;
          return (
            <g key={`${r.change}|${r.measure}`}>
              <text className="chart-text" x={labelWidth - 8} y={y + bar - 2} textAnchor="end">
                {r.change}
              </text>
              <text className="chart-text chart-muted" x={labelWidth - 8} y={y + 2 * bar + 2} textAnchor="end">
                {r.measure.toLowerCase()}
              </text>
              <rect className="bar-before" x={labelWidth} y={y} width={r1(x(r.before) - labelWidth)} height={bar}>
                <title>{`${r.change}, ${r.measure.toLowerCase()} before: ${r.before}`}</title>
              </rect>
              <text className="chart-text" x={x(r.before) + 4} y={y + bar - 3}>
                {r.before}
              </text>
              <rect className="bar-after" x={labelWidth} y={y + bar} width={r1(x(r.after) - labelWidth)} height={bar}>
                <title>{`${r.change}, ${r.measure.toLowerCase()} after: ${r.after}`}</title>
              </rect>
              <text className="chart-text" x={x(r.after) + 4} y={y + 2 * bar - 3}>
                {r.after}
              </text>
            </g>
          );
        })}
        <line className="chart-axis" x1={labelWidth} x2={labelWidth} y1={top - 4} y2={top + rows.length * group} />
        <text className="chart-text chart-axis-label" x={labelWidth + plotWidth / 2} y={height - 6} textAnchor="middle">
          per day
        </text>
      </svg>
    </ChartFigure>
  );
}

// --- affected items by tier and status ----------------------------------------------------------

const STATUS_LABELS: Record<(typeof ITEM_STATUSES)[number], string> = {
  wip: "WIP",
  stock: "stock",
  consumed: "consumed",
  shipped: "shipped",
  scrapped: "scrapped",
};

/** The REACH finding's detail.byTier as sorted rows: tier → count per status. */
export function tierRows(byTier: Record<string, Record<string, number>>): { tier: number; counts: Record<string, number>; total: number }[] {
  return Object.entries(byTier)
    .map(([tier, counts]) => ({ tier: Number(tier), counts, total: Object.values(counts).reduce((a, b) => a + b, 0) }))
    .sort((a, b) => a.tier - b.tier);
}

/** Vertical bars per tier (0: the material's own items), stacked by status. */
export function TierChart({ id, subject, byTier }: { id: string; subject: string; byTier: Record<string, Record<string, number>> }) {
  const rows = tierRows(byTier);
  const left = 56;
  const top = 30;
  const plotHeight = 180;
  const column = 56;
  const gap = 24;
  const bottom = 46;
  const plotWidth = Math.max(rows.length, 1) * (column + gap) + gap;
  const statuses = ITEM_STATUSES.filter((s) => rows.some((r) => (r.counts[s] ?? 0) > 0));
  const legendItem = 84;
  const width = Math.max(left + plotWidth + 16, left + statuses.length * legendItem + 16, 420);
  const height = top + plotHeight + bottom;
  const scale = niceScale(Math.max(0, ...rows.map((r) => r.total)));
  const y = (v: number) => r1(top + plotHeight - (v / scale.max) * plotHeight);
  const ticks = Array.from({ length: Math.round(scale.max / scale.step) + 1 }, (_, i) => i * scale.step);
  const description = rows
    .map(
      (r) =>
        `tier ${r.tier}: ${
          statuses
            .filter((s) => r.counts[s])
            .map((s) => `${r.counts[s]} ${STATUS_LABELS[s]}`)
            .join(", ") || "none"
        }`,
    )
    .join("; ");
  return (
    <ChartFigure
      id={id}
      title={`Affected items of ${subject} by tier and status`}
      description={description}
      table={
        <table className="visually-hidden">
          <caption>Affected items of {subject} by tier and status</caption>
          <thead>
            <tr>
              <th scope="col">Tier</th>
              {statuses.map((s) => (
                <th scope="col" key={s}>
                  {STATUS_LABELS[s]}
                </th>
              ))}
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.tier}>
                <th scope="row">{r.tier}</th>
                {statuses.map((s) => (
                  <td key={s}>{r.counts[s] ?? 0}</td>
                ))}
                <td>{r.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      <svg
        className="chart-svg"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-labelledby={`${id}-caption`}
        aria-describedby={`${id}-desc`}
      >
        <g className="chart-legend" aria-hidden="true">
          {statuses.map((s, i) => (
            <g key={s}>
              <rect className={`seg-${s}`} x={left + i * legendItem} y={6} width={12} height={12} />
              <text className="chart-text" x={left + i * legendItem + 16} y={16}>
                {STATUS_LABELS[s]}
              </text>
            </g>
          ))}
        </g>
        {ticks.map((t) => (
          <g key={t} aria-hidden="true">
            <line className="chart-grid" x1={left} x2={left + plotWidth} y1={y(t)} y2={y(t)} />
            <text className="chart-text chart-tick" x={left - 6} y={y(t) + 4} textAnchor="end">
              {tickLabel(t)}
            </text>
          </g>
        ))}
        {rows.map((r, i) => {
          const x0 = left + gap + i * (column + gap);
          let base = 0;
          return (
            <g key={r.tier}>
              {statuses.map((s) => {
                const n = r.counts[s] ?? 0;
                if (n === 0) return null;
                const segment = (
                  <rect key={s} className={`seg-${s}`} x={x0} y={y(base + n)} width={column} height={r1(y(base) - y(base + n))}>
                    <title>{`tier ${r.tier}: ${n} ${STATUS_LABELS[s]}`}</title>
                  </rect>
                );
                base += n;
                return segment;
              })}
              <text className="chart-text" x={x0 + column / 2} y={y(r.total) - 4} textAnchor="middle">
                {formatCount(r.total)}
              </text>
              <text className="chart-text chart-tick" x={x0 + column / 2} y={top + plotHeight + 14} textAnchor="middle">
                {r.tier}
              </text>
            </g>
          );
        })}
        <line className="chart-axis" x1={left} x2={left + plotWidth} y1={top + plotHeight} y2={top + plotHeight} />
        <line className="chart-axis" x1={left} x2={left} y1={top} y2={top + plotHeight} />
        <text className="chart-text chart-axis-label" x={left + plotWidth / 2} y={height - 8} textAnchor="middle">
          tier (0: its own items; 1, 2, …: what they went into)
        </text>
        <text className="chart-text chart-axis-label" x={14} y={top + plotHeight / 2} textAnchor="middle" transform={`rotate(-90 14 ${top + plotHeight / 2})`}>
          items
        </text>
      </svg>
    </ChartFigure>
  );
}

// --- replay of the last 90 days, cases per day ------------------------------------------------

export interface ReplayDayRow {
  day: string;
  /** Cases per category that day, in `series` order. */
  counts: readonly number[];
}

/**
 * Vertical stacked bars, one per UTC day of the replay's window (ADR 041): the cases of each
 * category that day. The same numbers are given as a table by the caller (days with cases) and, for
 * assistive technology, summarised in the figure's description.
 */
export function ReplayChart({
  id,
  rows,
  series,
  windowDays,
}: {
  id: string;
  rows: readonly ReplayDayRow[];
  series: readonly { label: string; className: string }[];
  windowDays: number;
}) {
  const left = 44;
  const barStep = 7;
  const bar = 5;
  const top = 16 + 18 * Math.ceil(series.length / 2);
  const plot = 160;
  const bottom = 44;
  const width = left + rows.length * barStep + 16;
  const height = top + plot + bottom;
  const totals = rows.map((r) => r.counts.reduce((a, b) => a + b, 0));
  const scale = niceScale(Math.max(0, ...totals));
  const y = (v: number) => r1(top + plot - (v / scale.max) * plot);
  const ticks = Array.from({ length: Math.round(scale.max / scale.step) + 1 }, (_, i) => i * scale.step);
  const withCases = rows.filter((_, i) => totals[i]! > 0);
  const sums = series.map((_, k) => rows.reduce((a, r) => a + (r.counts[k] ?? 0), 0));
  const description =
    `${rows.length} days from ${rows[0]?.day ?? "–"} to ${rows.at(-1)?.day ?? "–"}; ${withCases.length} with cases. ` +
    series.map((s, k) => `${s.label}: ${formatCount(sums[k]!)}`).join("; ");
  return (
    <ChartFigure id={id} title={`Cases per day under the proposed rules (the ${windowDays} days before the data point)`} description={description} table={null}>
      <svg
        className="chart-svg"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-labelledby={`${id}-caption`}
        aria-describedby={`${id}-desc`}
      >
        <g className="chart-legend" aria-hidden="true">
          {series.map((s, k) => (
            <g key={s.label}>
              <rect className={s.className} x={left + (k % 2) * 300} y={6 + 18 * Math.floor(k / 2)} width={12} height={12} />
              <text className="chart-text" x={left + (k % 2) * 300 + 18} y={16 + 18 * Math.floor(k / 2)}>
                {s.label}
              </text>
            </g>
          ))}
        </g>
        {ticks.map((t) => (
          <g key={t} aria-hidden="true">
            <line className="chart-grid" x1={left} x2={width - 8} y1={y(t)} y2={y(t)} />
            <text className="chart-text chart-tick" x={left - 6} y={y(t) + 4} textAnchor="end">
              {tickLabel(t)}
            </text>
          </g>
        ))}
        {rows.map((r, i) => {
          const x = left + i * barStep + 1;
          let base = 0;
          return (
            <g key={r.day}>
              {series.map((s, k) => {
                const v = r.counts[k] ?? 0;
                if (v === 0) return null;
                const y1 = y(base + v);
                const y0 = y(base);
                base += v;
                return (
                  <rect key={s.label} className={s.className} x={x} y={y1} width={bar} height={r1(y0 - y1)}>
                    <title>{`${r.day}, ${s.label.toLowerCase()}: ${formatCount(v)}`}</title>
                  </rect>
                );
              })}
              {i % 15 === 0 ? (
                <text className="chart-text chart-tick" x={x + bar / 2} y={top + plot + 14} textAnchor="middle" aria-hidden="true">
                  {r.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
        <line className="chart-axis" x1={left} x2={width - 8} y1={top + plot} y2={top + plot} />
        <text className="chart-text chart-axis-label" x={left + (rows.length * barStep) / 2} y={height - 8} textAnchor="middle">
          day (UTC, month-day)
        </text>
      </svg>
    </ChartFigure>
  );
}
