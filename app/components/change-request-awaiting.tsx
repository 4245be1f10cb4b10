import { Link } from "@remix-run/react";
import { SiteCodes } from "./change-request-status";
import { DataTable, EmptyRow } from "./data-table";
import { UtcTime } from "./time";

export interface AwaitingRow {
  number: string;
  title: string;
  authorName: string;
  revision: number;
  updatedAt: Date | string;
  sites: { shown: readonly string[]; hidden: number };
}

/** The dashboard's "Awaiting my signature": change requests in review where the reader's reviewer role is still needed. */
export function AwaitingMySignature({ rows }: { rows: readonly AwaitingRow[] }) {
  return (
    <DataTable
      id="awaiting-signature"
      caption="Awaiting my signature"
      captionDetail={<Link to="/change-requests?status=in_review&awaiting=1">In the list of change requests</Link>}
    >
      <thead>
        <tr>
          <th scope="col">Number</th>
          <th scope="col">Title</th>
          <th scope="col">Sites</th>
          <th scope="col">Author</th>
          <th scope="col" className="num">
            Revision
          </th>
          <th scope="col">Updated (UTC)</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={6}>Nothing is waiting for your signature.</EmptyRow> : null}
        {rows.map((row) => (
          <tr key={row.number}>
            <th scope="row">
              <Link to={`/change-requests/${row.number}`}>{row.number}</Link>
            </th>
            <td className="wrap">{row.title}</td>
            <td>
              <SiteCodes sites={row.sites} />
            </td>
            <td>{row.authorName}</td>
            <td className="num">{row.revision}</td>
            <td>
              <UtcTime value={row.updatedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
