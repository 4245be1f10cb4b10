/**
 * The traceability justification report for one site (issue 25 part 5, ADR 035 "Justification report"):
 * the evidence an auditor asks for — every product material, the requirement that governs it with its
 * justification, references and the change requests that set it, the rule actually in force at the
 * site, the verdict, the open deviations and the open quality events that rely on it. A read model:
 * it reads the requirement, deviation and quality-event tables and decides nothing itself (the verdict
 * is app/domain/traceability-justification.ts).
 */
import { and, asc, eq, isNull, ne } from "drizzle-orm";
import {
  changeRequests,
  materialFamilies,
  materials,
  qualityEventReferences,
  qualityEvents,
  ruleSetVersions,
  sites,
  traceabilityDeviations,
  trackingRules,
} from "../../db/schema";
import { isRegulatedFlag } from "../domain/impact-analysis/context";
import { todayIn } from "../domain/review-due";
import {
  describeRequiredLevel,
  describeRuleAtSite,
  JUSTIFICATION_STATUSES,
  justificationStatus,
  type JustificationReport,
  type JustificationRow,
  type JustificationStatus,
  type RuleAtSite,
} from "../domain/traceability-justification";
import { deviationExpired, describeTarget, requirementFor, targetKey } from "../domain/traceability-requirement";
import type { DbOrTx } from "../utils/db.server";
import { csvRecord } from "./audit.server";
import { rulesInForce, versionsInForce } from "./rules-in-force.server";
import { withinSites, type VisibleSites } from "./sites.server";
import { requirementHistory, requirementsInForce } from "./traceability-requirements.server";

export type { JustificationReport, JustificationRow } from "../domain/traceability-justification";

/** The site a reader may see, by code; null for an unknown site or one outside their sites (the same answer). */
export async function justificationSite(db: DbOrTx, params: { siteCode: string; sites: VisibleSites }) {
  const [site] = await db
    .select({ id: sites.id, code: sites.code, name: sites.name, timeZone: sites.timeZone })
    .from(sites)
    .where(and(eq(sites.code, params.siteCode), withinSites(sites.id, params.sites)));
  return site ?? null;
}

/**
 * The report for one site at `at` (the database clock). The caller has checked the reader may see the site.
 * `partNumber` limits the rows to that one material (the material page), the rest read as for the whole report.
 */
export async function traceabilityJustification(db: DbOrTx, params: { siteCode: string; at: Date; partNumber?: string }): Promise<JustificationReport | null> {
  const site = await justificationSite(db, { siteCode: params.siteCode, sites: null });
  if (!site) return null;
  const at = params.at;
  const rif = rulesInForce(db, at);
  const vif = versionsInForce(db, at);

  const [materialRows, [version], requirements, history, deviationRows, eventRows] = await Promise.all([
    db
      .select({
        id: materials.id,
        partNumber: materials.partNumber,
        description: materials.description,
        family: materialFamilies.code,
        riskClass: materials.riskClass,
        regulatoryFlags: materials.regulatoryFlags,
        version: rif.version,
        trackingMode: trackingRules.trackingMode,
        containerTracking: trackingRules.containerTracking,
        consumptionScan: trackingRules.consumptionScan,
      })
      .from(materials)
      .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId))
      .leftJoin(rif, and(eq(rif.materialId, materials.id), eq(rif.siteId, site.id)))
      // rulesInForce names the version that introduced the rule in force; its row carries the container and scan.
      .leftJoin(ruleSetVersions, and(eq(ruleSetVersions.siteId, site.id), eq(ruleSetVersions.version, rif.version)))
      .leftJoin(trackingRules, and(eq(trackingRules.ruleSetVersionId, ruleSetVersions.id), eq(trackingRules.materialId, materials.id)))
      .where(and(isNull(materials.systemRole), params.partNumber === undefined ? undefined : eq(materials.partNumber, params.partNumber)))
      .orderBy(asc(materials.partNumber)),
    db.select({ version: vif.version }).from(vif).where(eq(vif.siteId, site.id)),
    requirementsInForce(db, at),
    requirementHistory(db),
    db
      .select({
        materialId: traceabilityDeviations.materialId,
        changeRequest: changeRequests.number,
        reason: traceabilityDeviations.reason,
        riskAssessmentRef: traceabilityDeviations.riskAssessmentRef,
        compensatingControls: traceabilityDeviations.compensatingControls,
        expiresOn: traceabilityDeviations.expiresOn,
        shortfalls: traceabilityDeviations.shortfalls,
      })
      .from(traceabilityDeviations)
      .innerJoin(changeRequests, eq(changeRequests.id, traceabilityDeviations.changeRequestId))
      .where(and(eq(traceabilityDeviations.siteId, site.id), isNull(traceabilityDeviations.closedAt)))
      .orderBy(asc(traceabilityDeviations.id)),
    // Open events raised at the site that reference the material or one of its items (every reference names its material).
    db
      .selectDistinct({
        materialId: qualityEventReferences.materialId,
        number: qualityEvents.number,
        kind: qualityEvents.kind,
        severity: qualityEvents.severity,
        status: qualityEvents.status,
        title: qualityEvents.title,
      })
      .from(qualityEventReferences)
      .innerJoin(qualityEvents, eq(qualityEvents.id, qualityEventReferences.qualityEventId))
      .where(and(eq(qualityEvents.siteId, site.id), ne(qualityEvents.status, "closed")))
      .orderBy(asc(qualityEventReferences.materialId), asc(qualityEvents.number)),
  ]);

  const today = todayIn(at, site.timeZone);
  const deviationsOf = groupBy(deviationRows, (d) => d.materialId);
  const eventsOf = groupBy(eventRows, (e) => e.materialId);
  const stated = history.filter((r) => Date.parse(r.effectiveFrom) <= at.getTime());
  const siteVersion = version?.version ?? null;

  const rows = materialRows.map((m): JustificationRow => {
    const regulated = m.regulatoryFlags.some(isRegulatedFlag);
    const governing = requirementFor({ partNumber: m.partNumber, family: m.family, riskClass: m.riskClass, regulated }, requirements);
    const rule: RuleAtSite =
      m.version !== null && m.trackingMode !== null && m.containerTracking !== null && m.consumptionScan !== null
        ? { state: "ruled", version: m.version, trackingMode: m.trackingMode, containerTracking: m.containerTracking, consumptionScan: m.consumptionScan }
        : siteVersion === null
          ? { state: "legacy" }
          : { state: "unruled", version: siteVersion };
    const deviations = (deviationsOf.get(m.id) ?? []).map(({ materialId: _, ...d }) => ({ ...d, expired: deviationExpired(d.expiresOn, today) }));
    const verdict = justificationStatus(governing, rule, deviations.length);
    const key = governing ? targetKey(governing) : null;
    return {
      partNumber: m.partNumber,
      description: m.description,
      family: m.family,
      riskClass: m.riskClass,
      regulatoryFlags: m.regulatoryFlags,
      regulated,
      requirement: governing
        ? {
            scope: governing.scope,
            target: describeTarget(governing),
            minimumTracking: governing.minimumTracking,
            containerRequired: governing.containerRequired,
            requiredScan: governing.requiredScan,
            level: describeRequiredLevel(governing),
            justification: governing.justification,
            references: governing.references,
            effectiveFrom: governing.effectiveFrom,
            reason: governing.reason,
          }
        : null,
      setBy: stated
        .filter((r) => key !== null && targetKey(r) === key && r.id <= governing!.id)
        .map((r) => ({ changeRequest: r.changeRequest, reason: r.reason, effectiveFrom: r.effectiveFrom, effectiveTo: r.effectiveTo })),
      rule,
      ruleText: describeRuleAtSite(rule),
      status: verdict.status,
      shortfalls: verdict.shortfalls,
      deviations,
      qualityEvents: (eventsOf.get(m.id) ?? []).map(({ materialId: _, ...e }) => e),
    };
  });

  const byStatus = Object.fromEntries(JUSTIFICATION_STATUSES.map((s) => [s, 0])) as Record<JustificationStatus, number>;
  for (const r of rows) byStatus[r.status] += 1;
  return {
    site,
    generatedAt: at.toISOString(),
    today,
    versionInForce: siteVersion,
    rows,
    summary: {
      materials: rows.length,
      byStatus,
      openDeviations: rows.reduce((n, r) => n + r.deviations.length, 0),
      expiredDeviations: rows.reduce((n, r) => n + r.deviations.filter((d) => d.expired).length, 0),
      openQualityEvents: new Set(rows.flatMap((r) => r.qualityEvents.map((e) => e.number))).size,
    },
  };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** "CR-0007, CR-0012" or "initial policy" (a row without a change request), oldest first, each once. */
export function setByText(row: Pick<JustificationRow, "setBy">): string {
  const names = row.setBy.map((s) => s.changeRequest ?? "initial policy");
  return [...new Set(names)].join(", ");
}

export const JUSTIFICATION_CSV_HEADER = [
  "site",
  "part_number",
  "description",
  "family",
  "risk_class",
  "regulatory_flags",
  "requirement_scope",
  "requirement_target",
  "minimum_tracking",
  "container_required",
  "required_scan",
  "justification",
  "references",
  "set_by",
  "rule_state",
  "rule_set_version",
  "tracking_mode",
  "container_tracking",
  "consumption_scan",
  "status",
  "shortfalls",
  "open_deviations",
  "open_quality_events",
] as const;

const yesNo = (value: boolean | null | undefined) => (value === null || value === undefined ? null : value ? "yes" : "no");

/**
 * The report as CSV (RFC 4180, CRLF), formula-looking cells quoted as the audit export does. Lists in a
 * cell are separated by " | " (a justification may hold commas and semicolons); a deviation reads
 * "CR (expires YYYY-MM-DD[, expired]): reason; risk assessment; controls", an event "QE-0001 kind severity status".
 */
export function justificationCsv(report: JustificationReport): string {
  let out = csvRecord(JUSTIFICATION_CSV_HEADER);
  for (const r of report.rows) {
    const ruled = r.rule.state === "ruled" ? r.rule : null;
    out += csvRecord([
      report.site.code,
      r.partNumber,
      r.description,
      r.family,
      r.riskClass,
      r.regulatoryFlags.join(" | "),
      r.requirement?.scope ?? null,
      r.requirement?.target ?? null,
      r.requirement?.minimumTracking ?? null,
      yesNo(r.requirement?.containerRequired),
      r.requirement?.requiredScan ?? null,
      r.requirement?.justification ?? null,
      r.requirement?.references.join(" | ") ?? null,
      r.requirement ? setByText(r) : null,
      r.rule.state,
      r.rule.state === "legacy" ? null : r.rule.version,
      ruled?.trackingMode ?? null,
      yesNo(ruled?.containerTracking),
      ruled?.consumptionScan ?? null,
      r.status,
      r.shortfalls.join(" | "),
      r.deviations
        .map(
          (d) =>
            `${d.changeRequest} (${d.expiresOn ? `expires ${d.expiresOn}${d.expired ? ", expired" : ""}` : "no expiry"}): ${d.reason}; risk assessment ${d.riskAssessmentRef}; controls: ${d.compensatingControls}`,
        )
        .join(" | "),
      r.qualityEvents.map((e) => `${e.number} ${e.kind} ${e.severity} ${e.status}`).join(" | "),
    ]);
  }
  return out;
}
