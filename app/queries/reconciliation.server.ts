import { OPEN_STATUSES } from "../domain/change-request-lifecycle";
import { desc, inArray, sql } from "drizzle-orm";
import { changeRequests, externalSnapshots, materials, sites, systemOfRecord } from "../../db/schema";
import type { ExpandedChange } from "../domain/change-request";
import {
  DEFAULT_SYSTEM_OF_RECORD,
  describeResolution,
  IDENTIFIER_TYPES,
  reconcile,
  type ExternalRecordInput,
  type OpenChangeRequestInput,
  type ReconciliationInput,
  type ReconciliationReport,
  type RecordSystem,
  type SystemOfRecord,
} from "../domain/reconciliation";
import type { TrackingMode } from "../domain/tracking-rule";
import type { ChangeRequestContent } from "../schemas/change-request";
import type { DbOrTx } from "../utils/db.server";
import { csvRecord } from "./audit.server";

export async function loadSystemOfRecord(db: DbOrTx): Promise<SystemOfRecord & { updated: Partial<Record<keyof SystemOfRecord, { by: string; at: Date }>> }> {
  const rows = await db
    .select({
      identifierType: systemOfRecord.identifierType,
      system: systemOfRecord.system,
      updatedBy: systemOfRecord.updatedBy,
      updatedAt: systemOfRecord.updatedAt,
    })
    .from(systemOfRecord);
  const out = { ...DEFAULT_SYSTEM_OF_RECORD, updated: {} as Partial<Record<keyof SystemOfRecord, { by: string; at: Date }>> };
  for (const r of rows) {
    if (!(IDENTIFIER_TYPES as readonly string[]).includes(r.identifierType)) continue;
    const type = r.identifierType as keyof SystemOfRecord;
    out[type] = r.system as RecordSystem;
    out.updated[type] = { by: r.updatedBy, at: r.updatedAt };
  }
  return out;
}

/**
 * What the reconciliation compares: C-981's open rules (the latest version's, per site), the current
 * ERP and PLM records, the system of record and the open change requests. `ruleOverrides` replaces
 * rules by `PART@SITE` (a release checks the rules it is about to publish).
 */
export async function loadReconciliationInput(
  db: DbOrTx,
  options: { ruleOverrides?: ReadonlyMap<string, { partNumber: string; site: string; trackingMode: TrackingMode }> } = {},
): Promise<ReconciliationInput> {
  const [siteRows, materialRows, ruleRows, externalRows, crRows, sor] = await Promise.all([
    db.select({ code: sites.code }).from(sites),
    db.select({ partNumber: materials.partNumber }).from(materials),
    db.execute<{ part_number: string; site: string; tracking_mode: TrackingMode }>(sql`
      select m.part_number, s.code as site, r.tracking_mode
      from tracking_rules r join materials m on m.id = r.material_id join sites s on s.id = r.site_id
      where r.effective_to is null`),
    db.execute<{ system: "erp" | "plm"; external_key: string; site: string | null; tracking_flag: string; tracking_mode: TrackingMode }>(sql`
      select x.system, x.external_key, s.code as site, x.tracking_flag, x.tracking_mode
      from external_master_records x left join sites s on s.id = x.site_id`),
    db
      .select({
        number: changeRequests.number,
        title: changeRequests.title,
        status: changeRequests.status,
        content: changeRequests.content,
        expanded: changeRequests.expandedChanges,
      })
      .from(changeRequests)
      .where(inArray(changeRequests.status, [...OPEN_STATUSES])),
    loadSystemOfRecord(db),
  ]);
  const rules = new Map(ruleRows.map((r) => [`${r.part_number}@${r.site}`, { partNumber: r.part_number, site: r.site, trackingMode: r.tracking_mode }]));
  for (const [key, rule] of options.ruleOverrides ?? []) rules.set(key, rule);
  const external: ExternalRecordInput[] = externalRows.map((x) => ({
    system: x.system,
    partNumber: x.external_key,
    site: x.site,
    trackingFlag: x.tracking_flag,
    trackingMode: x.tracking_mode,
  }));
  const open: OpenChangeRequestInput[] = crRows.map((cr) => {
    const expanded = cr.expanded as ExpandedChange[];
    return {
      number: cr.number,
      title: cr.title,
      status: cr.status,
      tracking: expanded.flatMap((c) => (c.kind === "tracking" ? [{ partNumber: c.partNumber, site: c.site }] : [])),
      creates: expanded.flatMap((c) => (c.kind === "new_material" ? [c.partNumber] : [])),
      cites: (cr.content as ChangeRequestContent).resolvesDisagreements ?? [],
    };
  });
  return {
    sites: siteRows.map((s) => s.code),
    materials: new Set(materialRows.map((m) => m.partNumber)),
    rules: [...rules.values()],
    external,
    systemOfRecord: { serial: sor.serial, lot: sor.lot },
    changeRequests: open,
  };
}

export async function reconciliationReport(db: DbOrTx): Promise<ReconciliationReport> {
  return reconcile(await loadReconciliationInput(db));
}

export interface SnapshotView {
  id: number;
  system: "erp" | "plm";
  fileName: string;
  digest: string;
  rowCount: number;
  unknownCount: number;
  importedBy: string;
  importedAt: Date;
}

/** The latest snapshots, newest first (the first of each system is its current view). */
export async function snapshotHistory(db: DbOrTx, limit = 50): Promise<SnapshotView[]> {
  return db
    .select({
      id: externalSnapshots.id,
      system: externalSnapshots.system,
      fileName: externalSnapshots.fileName,
      digest: externalSnapshots.digest,
      rowCount: externalSnapshots.rowCount,
      unknownCount: externalSnapshots.unknownCount,
      importedBy: externalSnapshots.importedBy,
      importedAt: externalSnapshots.importedAt,
    })
    .from(externalSnapshots)
    .orderBy(desc(externalSnapshots.id))
    .limit(limit);
}

export async function latestSnapshot(db: DbOrTx, system: "erp" | "plm"): Promise<SnapshotView | null> {
  const [row] = (await snapshotHistory(db, 100)).filter((s) => s.system === system);
  return row ?? null;
}

export const RECONCILIATION_CSV_HEADER = [
  "disagreement",
  "part_number",
  "site",
  "known_to_c981",
  "c981",
  "erp",
  "erp_flag",
  "plm",
  "plm_flag",
  "identifier_type",
  "system_of_record",
  "expected",
  "resolution",
  "change_requests",
] as const;

/** The report as CSV (RFC 4180, CRLF), formula-looking cells quoted as the audit export does. */
export function reconciliationCsv(report: ReconciliationReport): string {
  let out = csvRecord(RECONCILIATION_CSV_HEADER);
  for (const r of report.rows) {
    out += csvRecord([
      r.key,
      r.partNumber,
      r.site,
      r.knownToC981 ? "yes" : "no",
      r.c981,
      r.erp?.mode ?? null,
      r.erp?.flag ?? null,
      r.plm?.mode ?? null,
      r.plm?.flag ?? null,
      r.identifierType,
      r.systemOfRecord,
      r.expected,
      describeResolution(r),
      r.changeRequests.map((c) => `${c.number}${c.cites ? " (cites)" : ""}`).join(" "),
    ]);
  }
  return out;
}
