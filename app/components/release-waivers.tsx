import { Link } from "@remix-run/react";
import { DataTable } from "./data-table";
import { UtcTime } from "./time";

export interface ReleaseWaiverRow {
  site: string;
  version: number;
  reason: string;
  disagreements: readonly string[];
  printedName: string;
  signedAt: Date | string;
}

/**
 * The waivers given with release signatures: why known ERP/PLM disagreements were left at release
 *, shown wherever the release is. Nothing when there is none.
 */
export function ReleaseWaivers({ waivers, id, caption = "Release waivers" }: { waivers: readonly ReleaseWaiverRow[]; id: string; caption?: string }) {
  if (waivers.length === 0) return null;
  return (
    <DataTable id={id} caption={caption} captionDetail="known ERP/PLM disagreements the release left, and why">
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Reason</th>
          <th scope="col">Disagreements left</th>
          <th scope="col">Signed by</th>
        </tr>
      </thead>
      <tbody>
        {waivers.map((w) => (
          <tr key={`${w.site}|${w.version}`}>
            <th scope="row">
              <Link to={`/rule-sets/${w.site}/${w.version}`}>
                {w.site} v{w.version}
              </Link>
            </th>
            <td className="wrap waiver-reason">{w.reason}</td>
            <td className="wrap">{w.disagreements.join(", ")}</td>
            <td>
              {w.printedName} at <UtcTime value={w.signedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
