/**
 * The EPCIS import history and the record of one import (ADR 033). An attempt is read from the
 * audit row the import wrote in its transaction — `epcis.import` for a document that changed
 * something, `epcis.import_refused` for a refused one — so refused attempts are listed beside the
 * imports and nothing is stored twice. What a document placed in the genealogy is read live from
 * its provenance (the file digest on trace items, edges and events). Rows are limited to the sites
 * the reader may see; another site's attempt is answered as not found.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "../utils/db.server";
import type { VisibleSites } from "./sites.server";

export const EPCIS_HISTORY_PAGE_SIZE = 20;

const IMPORT_ACTIONS = ["epcis.import", "epcis.import_refused"] as const;

/** The audit row's `after`, as the import service writes it (older rows may lack counts). */
const count = z.coerce.number().int().nullable().catch(null);
const attemptAfter = z.object({
  fileName: z.string().catch(""),
  site: z.string().catch(""),
  events: count.optional().default(null),
  applied: count.optional().default(null),
  quarantined: count.optional().default(null),
  itemsCreated: count.optional().default(null),
  edgesCreated: count.optional().default(null),
  unknownGtins: z.array(z.string()).catch([]).optional().default([]),
  errorCount: count.optional().default(null),
  errors: z
    .array(
      z.object({
        eventIndex: z.number().int().nullable().catch(null),
        path: z.string().catch(""),
        message: z.string().catch(""),
        location: z.object({ byte: z.number(), line: z.number(), column: z.number() }).optional().catch(undefined),
      }),
    )
    .catch([])
    .optional()
    .default([]),
});

export interface EpcisImportAttempt {
  /** The audit row's sequence number: the attempt's id. */
  id: number;
  at: Date;
  actor: string;
  outcome: "imported" | "refused";
  fileName: string;
  fileDigest: string;
  site: string;
  events: number | null;
  applied: number | null;
  quarantined: number | null;
  itemsCreated: number | null;
  edgesCreated: number | null;
  unknownGtins: string[];
  errorCount: number | null;
  /** The first errors, located (the audit row keeps 20). */
  errors: z.infer<typeof attemptAfter>["errors"];
}

type AttemptRow = {
  seq: number;
  recorded_at: Date | string;
  actor: string;
  action: string;
  entity_id: string;
  after: unknown;
};

function toAttempt(row: AttemptRow): EpcisImportAttempt {
  const after = attemptAfter.parse(row.after ?? {});
  return {
    id: Number(row.seq),
    at: new Date(row.recorded_at),
    actor: row.actor,
    outcome: row.action === "epcis.import" ? "imported" : "refused",
    fileName: after.fileName,
    fileDigest: row.entity_id,
    site: after.site,
    events: after.events,
    applied: after.applied,
    quarantined: after.quarantined,
    itemsCreated: after.itemsCreated,
    edgesCreated: after.edgesCreated,
    unknownGtins: after.unknownGtins,
    errorCount: after.errorCount,
    errors: after.errors,
  };
}

/** The attempts at the visible sites (the audit row names the site by code). */
function attemptsWhere(sites: VisibleSites) {
  const visible = sites === null ? sql`true` : sql`s.id in (select jsonb_array_elements_text(${JSON.stringify(sites)}::jsonb)::int)`;
  return sql`a.entity_type = 'epcis_document'
    and a.action in (select jsonb_array_elements_text(${JSON.stringify(IMPORT_ACTIONS)}::jsonb))
    and ${visible}`;
}

/** A page of the import history, newest first, with the total number of attempts. */
export async function epcisImportHistory(db: DbOrTx, params: { sites: VisibleSites; page: number; pageSize?: number }) {
  const pageSize = params.pageSize ?? EPCIS_HISTORY_PAGE_SIZE;
  const [totalRow] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from audit_trail a join sites s on s.code = a.after->>'site' where ${attemptsWhere(params.sites)}`);
  const total = Number(totalRow?.n ?? 0);
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(1, params.page), pageCount);
  const rows = await db.execute<AttemptRow>(sql`
    select a.seq, a.recorded_at, a.actor, a.action, a.entity_id, a.after
    from audit_trail a join sites s on s.code = a.after->>'site'
    where ${attemptsWhere(params.sites)}
    order by a.seq desc
    limit ${pageSize} offset ${(page - 1) * pageSize}`);
  return { attempts: rows.map(toAttempt), total, page, pageCount };
}

/** One attempt, or null when there is none at a visible site. */
export async function epcisImportAttempt(db: DbOrTx, params: { id: number; sites: VisibleSites }): Promise<EpcisImportAttempt | null> {
  const [row] = await db.execute<AttemptRow>(sql`
    select a.seq, a.recorded_at, a.actor, a.action, a.entity_id, a.after
    from audit_trail a join sites s on s.code = a.after->>'site'
    where a.seq = ${params.id} and ${attemptsWhere(params.sites)}`);
  return row ? toAttempt(row) : null;
}

/** The latest record of a document's import (or refusal), if any: the screen links its result to it. */
export async function latestEpcisAttemptOf(db: DbOrTx, fileDigest: string, outcome: EpcisImportAttempt["outcome"]): Promise<number | null> {
  const action = outcome === "imported" ? "epcis.import" : "epcis.import_refused";
  const [row] = await db.execute<{ seq: number | null }>(sql`
    select max(seq) as seq from audit_trail where entity_type = 'epcis_document' and action = ${action} and entity_id = ${fileDigest}`);
  return row?.seq == null ? null : Number(row.seq);
}

export interface CreatedItem {
  id: number;
  kind: string;
  identifier: string;
  partNumber: string;
  siteCode: string;
}

/**
 * The trace items a document created (their provenance names its digest) at a site, the first
 * `limit` by id, and how many there are. Items applied later from its quarantined events count too:
 * their first event came in this document.
 */
export async function itemsCreatedByDocument(db: DbOrTx, params: { fileDigest: string; siteCode: string; limit: number }) {
  const where = sql`t.provenance_kind = 'import' and t.provenance_file_digest = ${params.fileDigest} and s.code = ${params.siteCode}`;
  const [totalRow] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from trace_items t join sites s on s.id = t.site_id where ${where}`);
  const rows = await db.execute<{ id: number; kind: string; identifier: string; part_number: string; site_code: string }>(sql`
    select t.id, t.kind::text as kind, t.identifier, m.part_number, s.code as site_code
    from trace_items t join sites s on s.id = t.site_id join materials m on m.id = t.material_id
    where ${where}
    order by t.id
    limit ${params.limit}`);
  const items: CreatedItem[] = rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    identifier: r.identifier,
    partNumber: r.part_number,
    siteCode: r.site_code,
  }));
  return { items, total: Number(totalRow?.n ?? 0) };
}

/** What a document's events are now (applied, quarantined, superseded) and its edges in the genealogy. */
export async function documentFootprint(db: DbOrTx, params: { fileDigest: string; siteCode: string }) {
  const [row] = await db.execute<{ applied: number; quarantined: number; superseded: number; edges: number; waiting_gtins: string[] | null }>(sql`
    select
      (select count(*)::int from epcis_events e join sites s on s.id = e.site_id
         where e.file_digest = ${params.fileDigest} and s.code = ${params.siteCode} and e.status = 'applied') as applied,
      (select count(*)::int from epcis_events e join sites s on s.id = e.site_id
         where e.file_digest = ${params.fileDigest} and s.code = ${params.siteCode} and e.status = 'quarantined') as quarantined,
      (select count(*)::int from epcis_events e join sites s on s.id = e.site_id
         where e.file_digest = ${params.fileDigest} and s.code = ${params.siteCode} and e.status = 'superseded') as superseded,
      (select count(*)::int from genealogy_edges g join sites s on s.id = g.site_id
         where g.provenance_kind = 'import' and g.provenance_file_digest = ${params.fileDigest} and s.code = ${params.siteCode}) as edges,
      (select array_agg(distinct g order by g) from epcis_events e join sites s on s.id = e.site_id, unnest(e.unknown_gtins) as g
         where e.file_digest = ${params.fileDigest} and s.code = ${params.siteCode} and e.status = 'quarantined') as waiting_gtins`);
  return {
    applied: Number(row?.applied ?? 0),
    quarantined: Number(row?.quarantined ?? 0),
    superseded: Number(row?.superseded ?? 0),
    edges: Number(row?.edges ?? 0),
    waitingGtins: row?.waiting_gtins ?? [],
  };
}
