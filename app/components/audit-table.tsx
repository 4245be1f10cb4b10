import type { ReactNode } from "react";
import { AuditEntity } from "./audit-entity";
import { DataTable, EmptyRow } from "./data-table";
import { JsonDetails } from "./json-details";
import { UtcTime } from "./time";

type Json = Parameters<typeof JsonDetails>[0]["json"];

export interface AuditTableRow {
  seq: number;
  recordedAt: Date | string;
  actor: string;
  action: string;
  reason: string | null;
  /** Shown with `entity`. */
  entityType?: string;
  entityId?: string;
  /** Shown with `changes`. */
  before?: Json;
  after?: Json;
}

/**
 * Audit entries, newest first: the audit trail, one record's history (a user's page, a change
 * request's page; no entity column) and the dashboard's latest entries (no before and after).
 */
export function AuditTable({
  id,
  caption,
  captionDetail,
  rows,
  empty,
  entity,
  changes,
  seqAsRowHeader = true,
}: {
  id: string;
  caption: string;
  captionDetail: ReactNode;
  rows: readonly AuditTableRow[];
  empty: string;
  /** An Entity column (what each entry is about). */
  entity: boolean;
  /** Before and After columns. */
  changes: boolean;
  /** The seq as the row's header cell (the dashboard's short list has it as a plain cell). */
  seqAsRowHeader?: boolean;
}) {
  const columns = 5 + (entity ? 1 : 0) + (changes ? 2 : 0);
  return (
    <DataTable id={id} caption={caption} captionDetail={captionDetail}>
      <thead>
        <tr>
          <th scope="col" className="num">
            Seq
          </th>
          <th scope="col">Time</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          {entity ? <th scope="col">Entity</th> : null}
          <th scope="col">Reason</th>
          {changes ? (
            <>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={columns}>{empty}</EmptyRow> : null}
        {rows.map((row) => (
          <tr key={row.seq}>
            {seqAsRowHeader ? (
              <th scope="row" className="num">
                {row.seq}
              </th>
            ) : (
              <td className="num">{row.seq}</td>
            )}
            <td>
              <UtcTime value={row.recordedAt} />
            </td>
            <td>{row.actor}</td>
            <td>
              <code>{row.action}</code>
            </td>
            {entity ? (
              <td>
                <AuditEntity entityType={row.entityType ?? ""} entityId={row.entityId ?? ""} attempt={{ seq: row.seq, action: row.action }} />
              </td>
            ) : null}
            <td className="wrap">{row.reason ?? <span className="muted">—</span>}</td>
            {changes ? (
              <>
                <td>
                  <JsonDetails summary="before" json={row.before ?? null} />
                </td>
                <td>
                  <JsonDetails summary="after" json={row.after ?? null} />
                </td>
              </>
            ) : null}
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
