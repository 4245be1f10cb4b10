import { DataTable, EmptyRow } from "~/components/data-table";

export interface ReportedScansView {
  /** The end of the 7-day window (database clock). */
  at: string;
  rows: {
    site: string;
    parent: string;
    step: number | null;
    expected: string;
    clients: number;
    scans: number;
    refused: number;
    ambiguous: number;
    topReason: string | null;
  }[];
}

/** "12 (3.0 %)", or "—" without scans. */
function share(count: number, scans: number): string {
  if (scans === 0) return "—";
  return `${count} (${((count / scans) * 100).toFixed(1)} %)`;
}

/**
 * Beside an impact analysis: what stations reported deciding at the steps that consume the changed
 * materials (ADR 042), last 7 days. The analysis's SCAN_STEPS finding estimates scans from the
 * genealogy; these are the decisions the line actually made. Live telemetry, not under the
 * analysis's hash or the signatures.
 */
export function ReportedScans({ view }: { view: ReportedScansView }) {
  return (
    <DataTable
      id="reported-scans"
      caption="Scans reported by stations at the affected steps"
      captionDetail={`last 7 days to ${view.at.slice(0, 16).replace("T", " ")} UTC; live telemetry from runtime clients, not part of the signed analysis`}
    >
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">Material</th>
          <th scope="col">Parent</th>
          <th scope="col">Step</th>
          <th scope="col">Stations</th>
          <th scope="col">Scans</th>
          <th scope="col">Refused</th>
          <th scope="col">Ambiguous</th>
          <th scope="col">Most frequent stop</th>
        </tr>
      </thead>
      <tbody>
        {view.rows.length === 0 ? <EmptyRow colSpan={9}>No station reported scans of these materials in the last 7 days.</EmptyRow> : null}
        {view.rows.map((r) => (
          <tr key={`${r.site}|${r.expected}|${r.parent}|${r.step}`}>
            <td>{r.site}</td>
            <th scope="row">{r.expected}</th>
            <td>{r.parent}</td>
            <td>{r.step ?? <span className="muted">unknown</span>}</td>
            <td className="num">{r.clients}</td>
            <td className="num">{r.scans}</td>
            <td className="num">{share(r.refused, r.scans)}</td>
            <td className="num">{share(r.ambiguous, r.scans)}</td>
            <td>{r.topReason ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
