/**
 * "Replay of the last 90 days" on a change request's impact analysis (ADR 041): the genealogy of
 * the 90 days before the data point replayed under the proposed rules — the cases per day (chart,
 * and the same numbers as a table), the totals per category and change, and the first samples. What
 * is shown is the stored replay (the bytes whose SHA-256 signatures bind), never a recomputation.
 */
import { REPLAY_CATEGORIES, REPLAY_CATEGORY_CODES, type ReplayReport } from "~/domain/replay/report";
import { DataTable, EmptyRow } from "./data-table";
import { Digest } from "./digest";
import { formatCount } from "./format";
import { ReplayChart } from "./impact-analysis-charts";

const SHORT: Record<(typeof REPLAY_CATEGORY_CODES)[number], string> = {
  UNSCANNABLE: "Scan the labels cannot give",
  AMBIGUOUS: "Ambiguous read",
  SUBSTITUTION_REFUSED: "Substitution refused",
  INEXPRESSIBLE: "Event not expressible",
};
const SERIES = REPLAY_CATEGORY_CODES.map((code, k) => ({ label: SHORT[code], className: `replay-seg-${k + 1}` }));

export interface ReplaySectionView {
  sha256: string;
  durationMs: number;
  report: ReplayReport;
}

export function ReplaySection({ replay }: { replay: ReplaySectionView | null }) {
  if (replay === null) {
    return (
      <section aria-labelledby="analysis-replay-heading" className="analysis-change analysis-replay">
        <h3 id="analysis-replay-heading">Replay of the last 90 days</h3>
        <p className="muted small">This analysis was stored before replays existed: run a fresh one to see the replay.</p>
      </section>
    );
  }
  const { report } = replay;
  const rows = report.days.map((d) => ({ day: d.day, counts: REPLAY_CATEGORY_CODES.map((c) => d.counts[c]) }));
  const withCases = rows.filter((r) => r.counts.some((n) => n > 0));
  const total = REPLAY_CATEGORY_CODES.reduce((a, c) => a + report.totals[c], 0);
  return (
    <section aria-labelledby="analysis-replay-heading" className="analysis-change analysis-replay">
      <h3 id="analysis-replay-heading">Replay of the last 90 days</h3>
      <p className="muted small">
        The genealogy of the {report.window.days} days before the data point (consumptions at routing steps, substitutions, splits, merges, repacks and rework
        of the changed materials) judged as the line would have judged it under the proposed rules. Stored beside the analysis with its own hash, bound to
        signatures with it; its time is not part of the analysis's.
      </p>
      <dl className="properties replay-facts">
        <div>
          <dt>Window</dt>
          <dd>
            {report.window.from.slice(0, 10)} to {report.window.to.slice(0, 10)} (UTC)
          </dd>
        </div>
        <div>
          <dt>Replay time</dt>
          <dd>{formatCount(replay.durationMs)} ms</dd>
        </div>
        <div className="wide">
          <dt>Replay SHA-256</dt>
          <dd>
            <Digest value={replay.sha256} full />
          </dd>
        </div>
      </dl>
      <ul className="replay-totals" aria-label="Replay totals by category">
        {REPLAY_CATEGORY_CODES.map((c) => (
          <li key={c}>
            <strong>{formatCount(report.totals[c])}</strong> {REPLAY_CATEGORIES[c].toLowerCase()}
          </li>
        ))}
      </ul>
      {total === 0 ? (
        <p className="muted small" id="analysis-replay-empty">
          No case in the {report.window.days} days: under the proposed rules the recorded production would have gone through as it did.
        </p>
      ) : (
        <>
          <ReplayChart id="analysis-replay-chart" rows={rows} series={SERIES} windowDays={report.window.days} />
          <details className="replay-table">
            <summary>The chart as a table (days with cases)</summary>
            <DataTable id="analysis-replay-table" caption="Replay cases per day">
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  {SERIES.map((s) => (
                    <th scope="col" key={s.label}>
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {withCases.length === 0 ? (
                  <EmptyRow colSpan={SERIES.length + 1}>No day with cases.</EmptyRow>
                ) : (
                  withCases.map((r) => (
                    <tr key={r.day}>
                      <th scope="row">{r.day}</th>
                      {r.counts.map((n, k) => (
                        <td key={SERIES[k]!.label}>{formatCount(n)}</td>
                      ))}
                    </tr>
                  ))
                )}
              </tbody>
            </DataTable>
          </details>
        </>
      )}
      {report.changes.map((change) => (
        <section key={`${change.partNumber}|${change.site}`} aria-labelledby={`replay-${change.site}-${change.partNumber}`} className="replay-change">
          <h4 id={`replay-${change.site}-${change.partNumber}`}>
            Replayed: {change.partNumber} at {change.site}, {change.from} → {change.to}
          </h4>
          <p className="muted small">
            Replayed: {formatCount(change.replayed.consumptions)} consumption(s), {formatCount(change.replayed.itemsMade)} item(s) made,{" "}
            {formatCount(change.replayed.substitutions)} substitution(s), {formatCount(change.replayed.structuralEvents)} split/merge/repack/rework event(s).
          </p>
          <ul className="replay-categories">
            {REPLAY_CATEGORY_CODES.map((c) => {
              const result = change.categories[c];
              const reasons = Object.entries(result.byReason);
              return (
                <li key={c}>
                  <strong>{formatCount(result.total)}</strong> {REPLAY_CATEGORIES[c].toLowerCase()}
                  {reasons.length ? ` (${reasons.map(([r, n]) => `${r}: ${formatCount(n)}`).join(", ")})` : ""}
                  {result.sample.length ? (
                    <details>
                      <summary>
                        First {formatCount(result.sample.length)} of {formatCount(result.total)}
                      </summary>
                      <ul className="sample-list">
                        {result.sample.map((line) => (
                          <li key={line}>
                            <code>{line}</code>
                          </li>
                        ))}
                      </ul>
                    </details>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </section>
  );
}
