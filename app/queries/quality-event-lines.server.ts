/**
 * Quality events as the CLI lists them (`quality:list`, ADR 038) and the row version a status change
 * starts from (`quality:close`). Reads only; the writes are app/services/quality-events.server.ts.
 */
import { sql } from "drizzle-orm";
import type { QualityDisposition, QualityEventKind, QualityEventSeverity, QualityEventStatus } from "../domain/quality-event";
import type { DbOrTx } from "../utils/db.server";

export interface QualityEventLine {
  number: string;
  site: string;
  kind: QualityEventKind;
  severity: QualityEventSeverity;
  status: QualityEventStatus;
  disposition: QualityDisposition;
  externalId: string | null;
  /** ISO 8601 UTC. */
  raisedAt: string;
  title: string;
  /** The references as written in a QMS export (`lot:RES-1001:RSPLIT001;material:FIN-1001`). */
  references: string;
}

/** Newest first (by number), at most `limit`; optionally one site (code) and one status. */
export async function qualityEventLines(db: DbOrTx, filter: { site?: string; status?: QualityEventStatus; limit?: number } = {}): Promise<QualityEventLine[]> {
  const rows = await db.execute<{
    number: string;
    site: string;
    kind: QualityEventKind;
    severity: QualityEventSeverity;
    status: QualityEventStatus;
    disposition: QualityDisposition;
    external_id: string | null;
    raised_at: string;
    title: string;
    refs: string | null;
  }>(sql`
    select e.number, s.code as site, e.kind, e.severity, e.status, e.disposition, e.external_id, e.title,
           to_char(e.raised_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as raised_at,
           (select string_agg(
                     case r.kind when 'material' then 'material:' || m.part_number
                                 when 'container' then 'container:' || t.identifier
                                 else r.kind::text || ':' || m.part_number || ':' || t.identifier end,
                     ';' order by r.id)
              from quality_event_references r
              join materials m on m.id = r.material_id
              left join trace_items t on t.id = r.trace_item_id
             where r.quality_event_id = e.id) as refs
    from quality_events e join sites s on s.id = e.site_id
    where (${filter.site ?? null}::text is null or s.code = upper(${filter.site ?? null}::text))
      and (${filter.status ?? null}::text is null or e.status::text = ${filter.status ?? null}::text)
    order by e.id desc
    limit ${filter.limit ?? 1000}`);
  return rows.map((r) => ({
    number: r.number,
    site: r.site,
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    disposition: r.disposition,
    externalId: r.external_id,
    raisedAt: r.raised_at,
    title: r.title,
    references: r.refs ?? "",
  }));
}

/** The status and row version of one event, or null. */
export async function qualityEventVersion(db: DbOrTx, number: string): Promise<{ status: QualityEventStatus; rowVersion: number } | null> {
  const [row] = await db.execute<{ status: QualityEventStatus; row_version: number }>(
    sql`select status, row_version from quality_events where number = ${number}`,
  );
  return row ? { status: row.status, rowVersion: row.row_version } : null;
}
