/**
 * Read model for the runtime clients screen: each client with its sites and, per site, what it
 * last reported (version, digest, trusted keys, error) next to the site's version in force. The
 * token hash is never selected. Clients are administered centrally (read User needs a grant for
 * all sites), so nothing here is scoped by site.
 */
import { and, asc, desc, eq, gte, lte, sql } from "drizzle-orm";
import {
  ruleSetVersions,
  runtimeClientRefusals,
  runtimeClients,
  runtimeClientSites,
  runtimeClientStatus,
  scanReportCounts,
  signingKeys,
  sites,
} from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** A client that has not reported for longer than this is stale, whatever version it runs. */
export const STALE_AFTER_HOURS = 24;
const STALE_AFTER_MS = STALE_AFTER_HOURS * 60 * 60 * 1000;

export type SiteStatusFlag = "current" | "behind" | "ahead" | "no report" | "no version in force";

export interface RuntimeClientSiteRow {
  code: string;
  name: string;
  /** The site's version in force at `at`, or null before its first version takes effect. */
  inForce: number | null;
  report: {
    version: number;
    digest: string;
    /** False when the reported digest is not the stored digest of the version it names. */
    digestMatches: boolean;
    activatedAt: Date;
    trustedKeys: { kid: string; state: "active" | "retired" | "unknown" }[];
    error: string | null;
    reportedAt: Date;
  } | null;
  flag: SiteStatusFlag;
  /**
   * Updates this client refused at this site (stored apart from what it runs): how many, and the
   * latest — what it was offered (as claimed), whether that is a version the portal published with
   * that digest (false: forged or altered on the way), the reason code and what it kept running.
   */
  refusals: {
    count: number;
    latest: {
      offeredVersion: number | null;
      offeredDigest: string | null;
      /** The key the refused signature named, as reported (null: not reported). */
      offeredKid: string | null;
      offeredIsStored: boolean;
      code: string;
      source: string;
      message: string | null;
      runningVersion: number | null;
      reportedAt: Date;
    } | null;
  };
}

export interface RuntimeClientRow {
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
  sites: RuntimeClientSiteRow[];
  /** Why an active client is stale (empty when it is not, and always for a revoked one). */
  staleReasons: string[];
}

/** Every runtime client, active ones first, then by name; "now" is the database clock's `at`. */
export async function runtimeClientOverview(db: DbOrTx, params: { at: Date }): Promise<RuntimeClientRow[]> {
  const [clients, scopes, reports, inForce, keys, refusalCounts, latestRefusals] = await Promise.all([
    db
      .select({
        id: runtimeClients.id,
        name: runtimeClients.name,
        createdAt: runtimeClients.createdAt,
        revokedAt: runtimeClients.revokedAt,
        lastSeenAt: runtimeClients.lastSeenAt,
      })
      .from(runtimeClients)
      .orderBy(sql`${runtimeClients.revokedAt} is not null`, asc(runtimeClients.name)),
    db
      .select({ clientId: runtimeClientSites.runtimeClientId, siteId: sites.id, code: sites.code, name: sites.name })
      .from(runtimeClientSites)
      .innerJoin(sites, eq(sites.id, runtimeClientSites.siteId))
      .orderBy(asc(sites.code)),
    db
      .select({
        clientId: runtimeClientStatus.runtimeClientId,
        siteId: runtimeClientStatus.siteId,
        version: runtimeClientStatus.version,
        digest: runtimeClientStatus.digest,
        activatedAt: runtimeClientStatus.activatedAt,
        trustedKeys: runtimeClientStatus.trustedKeys,
        error: runtimeClientStatus.error,
        reportedAt: runtimeClientStatus.reportedAt,
        storedDigest: ruleSetVersions.digest,
        storedDigestV2: ruleSetVersions.digestV2,
      })
      .from(runtimeClientStatus)
      .leftJoin(ruleSetVersions, and(eq(ruleSetVersions.siteId, runtimeClientStatus.siteId), eq(ruleSetVersions.version, runtimeClientStatus.version))),
    // Each site's version in force: its highest version already effective at `at`.
    db
      .selectDistinctOn([ruleSetVersions.siteId], { siteId: ruleSetVersions.siteId, version: ruleSetVersions.version })
      .from(ruleSetVersions)
      .where(lte(ruleSetVersions.effectiveFrom, params.at))
      .orderBy(ruleSetVersions.siteId, desc(ruleSetVersions.version)),
    db.select({ kid: signingKeys.kid, state: signingKeys.state }).from(signingKeys),
    db
      .select({ clientId: runtimeClientRefusals.runtimeClientId, siteId: runtimeClientRefusals.siteId, count: sql<number>`count(*)::int` })
      .from(runtimeClientRefusals)
      .groupBy(runtimeClientRefusals.runtimeClientId, runtimeClientRefusals.siteId),
    db
      .selectDistinctOn([runtimeClientRefusals.runtimeClientId, runtimeClientRefusals.siteId], {
        clientId: runtimeClientRefusals.runtimeClientId,
        siteId: runtimeClientRefusals.siteId,
        offeredVersion: runtimeClientRefusals.offeredVersion,
        offeredDigest: runtimeClientRefusals.offeredDigest,
        offeredKid: runtimeClientRefusals.offeredKid,
        code: runtimeClientRefusals.code,
        source: runtimeClientRefusals.source,
        message: runtimeClientRefusals.message,
        runningVersion: runtimeClientRefusals.runningVersion,
        reportedAt: runtimeClientRefusals.reportedAt,
        storedDigest: ruleSetVersions.digest,
        storedDigestV2: ruleSetVersions.digestV2,
      })
      .from(runtimeClientRefusals)
      .leftJoin(
        ruleSetVersions,
        and(eq(ruleSetVersions.siteId, runtimeClientRefusals.siteId), eq(ruleSetVersions.version, runtimeClientRefusals.offeredVersion)),
      )
      .orderBy(runtimeClientRefusals.runtimeClientId, runtimeClientRefusals.siteId, desc(runtimeClientRefusals.id)),
  ]);

  const versionInForce = new Map(inForce.map((r) => [r.siteId, r.version]));
  const keyState = new Map(keys.map((k) => [k.kid, k.state]));
  const staleBefore = params.at.getTime() - STALE_AFTER_MS;

  return clients.map((client) => {
    const siteRows: RuntimeClientSiteRow[] = scopes
      .filter((s) => s.clientId === client.id)
      .map((s) => {
        const current = versionInForce.get(s.siteId) ?? null;
        const r = reports.find((x) => x.clientId === client.id && x.siteId === s.siteId);
        const report = r
          ? {
              version: r.version,
              digest: r.digest,
              // Either form's digest (ADR 039).
              digestMatches:
                (r.storedDigest !== null && r.digest === `sha256:${r.storedDigest}`) ||
                (r.storedDigestV2 !== null && r.digest === `sha256:${r.storedDigestV2}`),
              activatedAt: r.activatedAt,
              trustedKeys: r.trustedKeys.map((kid) => ({ kid, state: keyState.get(kid) ?? ("unknown" as const) })),
              error: r.error,
              reportedAt: r.reportedAt,
            }
          : null;
        const flag: SiteStatusFlag =
          current === null
            ? "no version in force"
            : report === null
              ? "no report"
              : report.version < current
                ? "behind"
                : report.version > current
                  ? "ahead"
                  : "current";
        const latest = latestRefusals.find((x) => x.clientId === client.id && x.siteId === s.siteId);
        const refusals = {
          count: refusalCounts.find((x) => x.clientId === client.id && x.siteId === s.siteId)?.count ?? 0,
          latest: latest
            ? {
                offeredVersion: latest.offeredVersion,
                offeredDigest: latest.offeredDigest,
                offeredKid: latest.offeredKid,
                offeredIsStored:
                  (latest.storedDigest !== null && latest.offeredDigest === `sha256:${latest.storedDigest}`) ||
                  (latest.storedDigestV2 !== null && latest.offeredDigest === `sha256:${latest.storedDigestV2}`),
                code: latest.code,
                source: latest.source,
                message: latest.message,
                runningVersion: latest.runningVersion,
                reportedAt: latest.reportedAt,
              }
            : null,
        };
        return { code: s.code, name: s.name, inForce: current, report, flag, refusals };
      });

    const staleReasons: string[] = [];
    if (client.revokedAt === null) {
      for (const s of siteRows) {
        if (s.flag === "behind") staleReasons.push(`${s.code}: runs v${s.report!.version}, v${s.inForce} is in force`);
      }
      // A client never seen counts from its creation: a new one is given a day to report.
      const seen = client.lastSeenAt ?? client.createdAt;
      if (seen.getTime() < staleBefore) {
        staleReasons.push(
          client.lastSeenAt ? `not seen for more than ${STALE_AFTER_HOURS} h` : `never seen in the ${STALE_AFTER_HOURS} h since it was created`,
        );
      }
    }
    const { id: _id, ...shown } = client;
    return { ...shown, sites: siteRows, staleReasons };
  });
}

export interface ScanVolumeRow {
  client: string;
  site: string;
  parent: string;
  /** Null: decisions whose step was unknown. */
  step: number | null;
  scans24h: number;
  /** Refused or ambiguous (the line stops either way). */
  refused24h: number;
  scans7d: number;
  refused7d: number;
}

/**
 * Scan volumes and refusals per client and routing step (ADR 042), from the reported counts: the
 * last 24 hours and 7 days before `at`, by hour bucket (a bucket counts when its hour starts inside
 * the window).
 */
export async function scanVolumes(db: DbOrTx, params: { at: Date }): Promise<ScanVolumeRow[]> {
  const day = new Date(params.at.getTime() - 24 * 3600_000);
  const week = new Date(params.at.getTime() - 7 * 24 * 3600_000);
  const refused = sql`${scanReportCounts.outcome} in ('refuse', 'ambiguous')`;
  const inDay = sql`${scanReportCounts.bucket} >= ${day.toISOString()}::timestamptz`;
  return db
    .select({
      client: runtimeClients.name,
      site: sites.code,
      parent: scanReportCounts.parent,
      step: scanReportCounts.step,
      // float8, not int: sums of reported counts may pass 2^31 (exact up to 2^53).
      scans24h: sql<number>`coalesce(sum(${scanReportCounts.count}) filter (where ${inDay}), 0)::float8`,
      refused24h: sql<number>`coalesce(sum(${scanReportCounts.count}) filter (where ${inDay} and ${refused}), 0)::float8`,
      scans7d: sql<number>`sum(${scanReportCounts.count})::float8`,
      refused7d: sql<number>`coalesce(sum(${scanReportCounts.count}) filter (where ${refused}), 0)::float8`,
    })
    .from(scanReportCounts)
    .innerJoin(runtimeClients, eq(runtimeClients.id, scanReportCounts.runtimeClientId))
    .innerJoin(sites, eq(sites.id, scanReportCounts.siteId))
    .where(and(gte(scanReportCounts.bucket, week), lte(scanReportCounts.bucket, params.at)))
    .groupBy(runtimeClients.name, sites.code, scanReportCounts.parent, scanReportCounts.step)
    .orderBy(asc(runtimeClients.name), asc(sites.code), asc(scanReportCounts.parent), asc(scanReportCounts.step));
}

export interface ReportedScanRow {
  site: string;
  parent: string;
  /** Null: decisions whose step was unknown to the station's rule set. */
  step: number | null;
  /** The component the BOM line expects (a material the request changes). */
  expected: string;
  clients: number;
  scans: number;
  refused: number;
  ambiguous: number;
  /** The most frequent reason among refused and ambiguous decisions, or null when none. */
  topReason: string | null;
}

/**
 * What stations reported deciding at the steps that consume the given materials at the given
 * sites (ADR 042): the last 7 days before `at` (hour buckets starting inside the window), summed
 * over clients. Live telemetry shown beside an impact analysis — the analysis itself estimates
 * scans from the genealogy and does not read these (they are not under its hash).
 */
export async function reportedScansOf(db: DbOrTx, params: { at: Date; lines: readonly { site: string; partNumber: string }[] }): Promise<ReportedScanRow[]> {
  if (params.lines.length === 0) return [];
  const week = new Date(params.at.getTime() - 7 * 24 * 3600_000);
  const wanted = sql`(${sites.code}, ${scanReportCounts.expected}) in (${sql.join(
    params.lines.map((l) => sql`(${l.site}, ${l.partNumber})`),
    sql`, `,
  )})`;
  const where = and(gte(scanReportCounts.bucket, week), lte(scanReportCounts.bucket, params.at), wanted);
  const key = [sites.code, scanReportCounts.parent, scanReportCounts.step, scanReportCounts.expected] as const;
  const [totals, reasons] = await Promise.all([
    db
      .select({
        site: sites.code,
        parent: scanReportCounts.parent,
        step: scanReportCounts.step,
        expected: scanReportCounts.expected,
        clients: sql<number>`count(distinct ${scanReportCounts.runtimeClientId})::int`,
        // float8, not int: sums of reported counts may pass 2^31 (exact up to 2^53).
        scans: sql<number>`sum(${scanReportCounts.count})::float8`,
        refused: sql<number>`coalesce(sum(${scanReportCounts.count}) filter (where ${scanReportCounts.outcome} = 'refuse'), 0)::float8`,
        ambiguous: sql<number>`coalesce(sum(${scanReportCounts.count}) filter (where ${scanReportCounts.outcome} = 'ambiguous'), 0)::float8`,
      })
      .from(scanReportCounts)
      .innerJoin(sites, eq(sites.id, scanReportCounts.siteId))
      .where(where)
      .groupBy(...key)
      .orderBy(asc(sites.code), asc(scanReportCounts.expected), asc(scanReportCounts.parent), sql`${scanReportCounts.step} asc nulls last`),
    db
      .select({
        site: sites.code,
        parent: scanReportCounts.parent,
        step: scanReportCounts.step,
        expected: scanReportCounts.expected,
        reason: scanReportCounts.reason,
        count: sql<number>`sum(${scanReportCounts.count})::float8`,
      })
      .from(scanReportCounts)
      .innerJoin(sites, eq(sites.id, scanReportCounts.siteId))
      .where(and(where, sql`${scanReportCounts.outcome} in ('refuse', 'ambiguous')`))
      .groupBy(...key, scanReportCounts.reason)
      .orderBy(desc(sql`sum(${scanReportCounts.count})`), asc(scanReportCounts.reason)),
  ]);
  const rowKey = (r: { site: string; parent: string; step: number | null; expected: string }) => `${r.site}|${r.parent}|${r.step}|${r.expected}`;
  const topReason = new Map<string, string>();
  for (const r of reasons) if (!topReason.has(rowKey(r))) topReason.set(rowKey(r), r.reason);
  return totals.map((r) => ({
    ...r,
    scans: Number(r.scans),
    refused: Number(r.refused),
    ambiguous: Number(r.ambiguous),
    topReason: topReason.get(rowKey(r)) ?? null,
  }));
}
