import type { ReactNode } from "react";
import { DataTable, EmptyRow } from "./data-table";
import { JsonDetails } from "./json-details";
import { UtcTime } from "./time";

type Json = Parameters<typeof JsonDetails>[0]["json"];

export interface HistoryRow {
  seq: number;
  recordedAt: Date | string;
  actor: string;
  action: string;
  reason: string | null;
  before: Json;
  after: Json;
}

/** One record's audit history, newest first (a user's page, a change request's page). */
export function EntityHistory({ id, caption, captionDetail, rows, empty }: { id: string; caption: string; captionDetail: ReactNode; rows: readonly HistoryRow[]; empty: string }) {
  return (
    <DataTable id={id} caption={caption} captionDetail={captionDetail}>
      <thead>
        <tr>
          <th scope="col" className="num">
            Seq
          </th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Reason</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={7}>{empty}</EmptyRow> : null}
        {rows.map((row) => (
          <tr key={row.seq}>
            <th scope="row" className="num">
              {row.seq}
            </th>
            <td>
              <UtcTime value={row.recordedAt} />
            </td>
            <td>{row.actor}</td>
            <td>
              <code>{row.action}</code>
            </td>
            <td className="wrap">{row.reason ?? <span className="muted">—</span>}</td>
            <td>
              <JsonDetails summary="before" json={row.before} />
            </td>
            <td>
              <JsonDetails summary="after" json={row.after} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
