/**
 * Read models for releasing: the release board (per site the latest rule-set version and the
 * approved change requests waiting to be released there, with what they would change), a version's
 * release facts (kind, expiry, change requests, the release signature) and where a change request
 * is live. Nothing here writes: the write model is app/services/releases.server.ts. Staleness and
 * conflicts use the same digests and helpers the service and the change-request screens use, so
 * the board says what the release will decide.
 */
import { and, asc, desc, eq, inArray, isNull, type Column } from "drizzle-orm";
import {
  changeRequestBases,
  changeRequests,
  changeRequestSiteReleases,
  impactAnalyses,
  materialFamilies,
  materials,
  releaseSignatures,
  releaseWaivers,
  ruleSetVersions,
  signatures,
  sites,
  users,
} from "../../db/schema";
import { bomLineKey, ruleKey, structuredDiff, type Catalog, type DiffRow, type ExpandedChange } from "../domain/change-request";
import type { ChangeRequestStatus } from "../domain/change-request-lifecycle";
import type { RuleSetDocument } from "../domain/rule-set";
import type { TrackingRuleContent } from "../domain/tracking-rule";
import type { ChangeRequestContent } from "../schemas/change-request";
import { conflictsOf } from "./change-request-context.server";
import { afterRelease, type BaseWorld } from "../domain/request-base";
import { loadBaseWorld, readStates, siteBases, staleIn, staleness, type ReadState, type SiteBase, type StaleSite } from "./request-bases.server";
import type { DbOrTx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { assertCanSign, loadKeyRing } from "../utils/signing.server";

/* ------------------------------------------------------------------------------------------ */
/* Whether this instance can sign (who may release where: policies/review-and-release.ts)     */
/* ------------------------------------------------------------------------------------------ */

/** Null when this instance can sign a rule set; else why not (the message the release would answer with). */
export async function signingProblem(db: DbOrTx, keysDir: string): Promise<string | null> {
  const keyRing = await loadKeyRing(db, keysDir);
  try {
    assertCanSign(keyRing);
    return null;
  } catch (error) {
    if (error instanceof DomainError) return error.message;
    throw error;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The release board                                                                           */
/* ------------------------------------------------------------------------------------------ */

const RELEASABLE: ChangeRequestStatus[] = ["approved", "partly_released"];

function parseDocument(bytes: Uint8Array): RuleSetDocument | null {
  try {
    return JSON.parse(new TextDecoder("utf-8").decode(bytes)) as RuleSetDocument;
  } catch {
    return null;
  }
}

/**
 * The rules of a site's latest document as the diff's "from": tracking rules by `part|site`, and
 * the BOM lines' alternates. structuredDiff reads only `bomLines` of the catalog for alternates;
 * the other lookups stay empty because nothing else is compared here.
 */
function baseOf(site: string, document: RuleSetDocument | null): { current: Map<string, TrackingRuleContent>; catalog: Catalog } {
  const current = new Map<string, TrackingRuleContent>();
  const bomLines = new Map<string, { alternates: string[] }>();
  for (const rule of document?.rules ?? []) {
    current.set(ruleKey(rule.partNumber, site), {
      trackingMode: rule.trackingMode,
      containerTracking: rule.containerTracking,
      identifierFormatCodes: [...rule.identifierFormats].sort(),
      consumptionScan: rule.consumptionScan,
    });
    for (const line of rule.allowedAlternates ?? []) bomLines.set(bomLineKey(site, rule.partNumber, line.component), { alternates: [...line.alternates] });
  }
  return { current, catalog: { materials: new Map(), families: new Set(), sites: new Map(), formats: new Map(), bomLines } };
}

export interface ReleaseCandidate {
  number: string;
  title: string;
  status: ChangeRequestStatus;
  authorName: string;
  /** The viewer wrote it: they never release it (the service refuses). */
  mine: boolean;
  approvedBy: string[];
  /** What it read at this site moved since it was approved: the release would answer 409. */
  stale: boolean;
  /** What moved, when stale. */
  moved: string[];
  /**
   * The other open change requests (in review, approved, partly released) that releasing this one
   * here would make stale, with what would move under them.
   */
  wouldMakeStale: { number: string; status: ChangeRequestStatus; stale: StaleSite[] }[];
  /** Other open change requests changing the same material at this site. */
  conflicts: { number: string; status: ChangeRequestStatus; partNumber: string }[];
  /** When revalidation is required: its tasks and how many lack evidence (the release refuses unless all have it). */
  revalidation: { tasks: number; withoutEvidence: number } | null;
  /** What releasing it here would change, material by material, against the latest version. */
  diff: DiffRow[];
  /**
   * The critical and warning findings of the impact analysis it was approved with (the latest live
   * approval's); null when no approval names a stored analysis.
   */
  analysisFindings: { critical: number; warning: number; sha256: string } | null;
}

export interface ReleaseSite {
  site: { code: string; name: string };
  latest: {
    version: number;
    effectiveFrom: Date;
    expiresAt: Date | null;
    kind: "release" | "renewal";
    digest: string;
    status: "in force" | "scheduled";
  } | null;
  candidates: ReleaseCandidate[];
}

/**
 * For each site (`siteIds` null: all), its latest version and the approved or partly released
 * change requests written against it and not yet released there.
 */
export async function releaseBoard(db: DbOrTx, params: { siteIds: readonly number[] | null; viewerId: number; at: Date }): Promise<ReleaseSite[]> {
  if (params.siteIds !== null && params.siteIds.length === 0) return [];
  const inScope = (column: Column) => (params.siteIds === null ? undefined : inArray(column, [...params.siteIds]));
  const [siteRows, latestRows, candidateRows] = await Promise.all([
    db.select({ id: sites.id, code: sites.code, name: sites.name }).from(sites).where(inScope(sites.id)).orderBy(asc(sites.code)),
    db
      .selectDistinctOn([ruleSetVersions.siteId], {
        siteId: ruleSetVersions.siteId,
        version: ruleSetVersions.version,
        effectiveFrom: ruleSetVersions.effectiveFrom,
        expiresAt: ruleSetVersions.expiresAt,
        kind: ruleSetVersions.kind,
        digest: ruleSetVersions.digest,
        canonical: ruleSetVersions.canonical,
      })
      .from(ruleSetVersions)
      .where(inScope(ruleSetVersions.siteId))
      .orderBy(ruleSetVersions.siteId, desc(ruleSetVersions.version)),
    db
      .select({
        id: changeRequests.id,
        siteId: changeRequestBases.siteId,
        baseRulesDigest: changeRequestBases.baseRulesDigest,
        number: changeRequests.number,
        title: changeRequests.title,
        status: changeRequests.status,
        authorId: changeRequests.authorId,
        authorName: users.displayName,
        content: changeRequests.content,
        expandedChanges: changeRequests.expandedChanges,
      })
      .from(changeRequestBases)
      .innerJoin(changeRequests, eq(changeRequests.id, changeRequestBases.changeRequestId))
      .innerJoin(users, eq(users.id, changeRequests.authorId))
      // Not yet released at this site.
      .leftJoin(
        changeRequestSiteReleases,
        and(eq(changeRequestSiteReleases.changeRequestId, changeRequestBases.changeRequestId), eq(changeRequestSiteReleases.siteId, changeRequestBases.siteId)),
      )
      .where(and(inArray(changeRequests.status, RELEASABLE), isNull(changeRequestSiteReleases.siteId), inScope(changeRequestBases.siteId)))
      .orderBy(asc(changeRequests.number)),
  ]);

  const ids = [...new Set(candidateRows.map((c) => c.id))];
  const attributeParts = [
    ...new Set(
      candidateRows.flatMap((c) =>
        c.status === "approved" ? (c.expandedChanges as ExpandedChange[]).filter((x) => x.kind === "attributes").map((x) => x.partNumber) : [],
      ),
    ),
  ];
  const [approvalRows, conflictLists, attributeRows] = await Promise.all([
    ids.length
      ? db
          .select({ changeRequestId: signatures.changeRequestId, printedName: signatures.printedName })
          .from(signatures)
          .where(and(inArray(signatures.changeRequestId, ids), eq(signatures.meaning, "approved"), isNull(signatures.voidedAt)))
          .orderBy(asc(signatures.signedAt))
      : Promise.resolve([]),
    Promise.all(ids.map(async (id) => [id, await conflictsOf(db, id)] as const)),
    attributeParts.length
      ? db
          .select({
            partNumber: materials.partNumber,
            riskClass: materials.riskClass,
            regulatoryFlags: materials.regulatoryFlags,
            family: materialFamilies.code,
            gtin: materials.gtin,
          })
          .from(materials)
          .innerJoin(materialFamilies, eq(materialFamilies.id, materials.familyId))
          .where(inArray(materials.partNumber, attributeParts))
      : Promise.resolve([]),
  ]);
  const conflicts = new Map(conflictLists);
  const approvedWith = await approvedAnalysisSummaries(db, ids);
  const [world, currentBases, others] = await Promise.all([loadBaseWorld(db), siteBases(db), watchedRequests(db)]);
  const stale = await staleness(db, ids, world);
  const attributes = new Map<string, Record<string, unknown>>(
    attributeRows.map((m) => [m.partNumber, { riskClass: m.riskClass, regulatoryFlags: [...m.regulatoryFlags].sort(), family: m.family, gtin: m.gtin }]),
  );

  return siteRows.map((site) => {
    const latest = latestRows.find((v) => v.siteId === site.id);
    const document = latest ? parseDocument(latest.canonical) : null;
    const base = baseOf(site.code, document);
    return {
      site: { code: site.code, name: site.name },
      latest: latest
        ? {
            version: latest.version,
            effectiveFrom: latest.effectiveFrom,
            expiresAt: latest.expiresAt,
            kind: latest.kind,
            digest: latest.digest,
            status: latest.effectiveFrom.getTime() > params.at.getTime() ? ("scheduled" as const) : ("in force" as const),
          }
        : null,
      candidates: candidateRows
        .filter((c) => c.siteId === site.id)
        .map((c) => {
          const content = c.content as ChangeRequestContent;
          const expanded = c.expandedChanges as ExpandedChange[];
          // Rules and alternates of this site; new materials and attributes ride with the first release.
          const here = expanded.filter((x) => (x.kind === "tracking" || x.kind === "alternates" ? x.site === site.code : c.status === "approved"));
          return {
            number: c.number,
            title: c.title,
            status: c.status,
            authorName: c.authorName,
            mine: c.authorId === params.viewerId,
            approvedBy: [...new Set(approvalRows.filter((a) => a.changeRequestId === c.id).map((a) => a.printedName))],
            stale: (stale.get(c.id) ?? []).some((x) => x.site === site.code),
            moved: (stale.get(c.id) ?? []).find((x) => x.site === site.code)?.moved ?? [],
            wouldMakeStale: madeStaleBy(world, currentBases, site.code, { id: c.id, expanded, firstRelease: c.status === "approved" }, others),
            conflicts: (conflicts.get(c.id) ?? [])
              .filter((x) => x.site === site.code)
              .map(({ number, status, partNumber }) => ({ number, status, partNumber })),
            revalidation: content.revalidationRequired
              ? { tasks: content.revalidationTasks.length, withoutEvidence: content.revalidationTasks.filter((t) => !t.evidenceUrl).length }
              : null,
            diff: structuredDiff(here, base.current, base.catalog, attributes),
            analysisFindings: approvedWith.get(c.id) ?? null,
          };
        }),
    };
  });
}

/**
 * Per change request, the severity counts of the impact analysis its latest live approval signed
 * with (the stored summary of that analysis, ADR 010).
 */
async function approvedAnalysisSummaries(db: DbOrTx, ids: readonly number[]): Promise<Map<number, { critical: number; warning: number; sha256: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([signatures.changeRequestId], {
      changeRequestId: signatures.changeRequestId,
      sha256: impactAnalyses.sha256,
      summary: impactAnalyses.summary,
    })
    .from(signatures)
    .innerJoin(impactAnalyses, and(eq(impactAnalyses.changeRequestId, signatures.changeRequestId), eq(impactAnalyses.sha256, signatures.analysisHash)))
    .where(and(inArray(signatures.changeRequestId, [...ids]), eq(signatures.meaning, "approved"), isNull(signatures.voidedAt)))
    .orderBy(signatures.changeRequestId, desc(signatures.signedAt), desc(signatures.id));
  return new Map(
    rows.map((r) => {
      const summary = r.summary as { critical?: number; warning?: number };
      return [r.changeRequestId, { critical: summary.critical ?? 0, warning: summary.warning ?? 0, sha256: r.sha256 }];
    }),
  );
}

/** Open change requests whose signatures or review a release could make stale, with their bases. */
const WATCHED: ChangeRequestStatus[] = ["in_review", "approved", "partly_released"];

interface Watched {
  id: number;
  number: string;
  status: ChangeRequestStatus;
  /** Its bases where it is not released yet and what its signed analyses read. */
  state: ReadState;
}

async function watchedRequests(db: DbOrTx): Promise<Watched[]> {
  const rows = await db
    .select({ id: changeRequests.id, number: changeRequests.number, status: changeRequests.status })
    .from(changeRequests)
    .where(inArray(changeRequests.status, WATCHED))
    .orderBy(asc(changeRequests.number));
  const states = new Map(
    (
      await readStates(
        db,
        rows.map((r) => r.id),
      )
    ).map((st) => [st.id, st]),
  );
  return rows.map((r) => ({ ...r, state: states.get(r.id)! }));
}

/**
 * The requests a release of `candidate` at `site` would make stale: current now, and stale in the
 * world as the release leaves it (the same comparison the service makes at the next signature or
 * release). A base from before per-request bases goes stale with any release at its site.
 */
function madeStaleBy(
  world: BaseWorld,
  current: ReadonlyMap<string, SiteBase>,
  site: string,
  candidate: { id: number; expanded: ExpandedChange[]; firstRelease: boolean },
  others: readonly Watched[],
): { number: string; status: ChangeRequestStatus; stale: StaleSite[] }[] {
  const after = afterRelease(world, site, [candidate]);
  const moved = new Map(current);
  const here = current.get(site);
  if (here) moved.set(site, { ...here, rulesDigest: `${here.rulesDigest} (released)` });
  const out: { number: string; status: ChangeRequestStatus; stale: StaleSite[] }[] = [];
  for (const other of others) {
    if (other.id === candidate.id) continue;
    const already = new Set(staleIn(other.state, world, current).map((s) => s.site));
    const stale = staleIn(other.state, after, moved).filter((s) => !already.has(s.site));
    if (stale.length) out.push({ number: other.number, status: other.status, stale });
  }
  return out;
}

/* ------------------------------------------------------------------------------------------ */
/* One version's release                                                                       */
/* ------------------------------------------------------------------------------------------ */

function keyIdsOf(jws: string | null): string[] {
  if (!jws) return [];
  try {
    const parsed = JSON.parse(jws) as { signatures?: { protected?: string }[] };
    return (parsed.signatures ?? []).map((s) => {
      const header = JSON.parse(Buffer.from(s.protected ?? "", "base64url").toString("utf8")) as { kid?: string };
      return header.kid ?? "?";
    });
  } catch {
    return ["(unreadable JWS)"];
  }
}

/** Kind, expiry, the change requests a version released and its release signature (null when none signed it). */
export async function ruleSetVersionRelease(db: DbOrTx, params: { siteCode: string; version: number }) {
  const [row] = await db
    .select({
      id: ruleSetVersions.id,
      kind: ruleSetVersions.kind,
      expiresAt: ruleSetVersions.expiresAt,
      changeRequestNumbers: ruleSetVersions.changeRequestNumbers,
      jws: ruleSetVersions.jws,
    })
    .from(ruleSetVersions)
    .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
    .where(and(eq(sites.code, params.siteCode), eq(ruleSetVersions.version, params.version)));
  if (!row) return null;
  const numbers = [...row.changeRequestNumbers].sort();
  const [[signature], requests, waivers] = await Promise.all([
    db
      .select({
        printedName: releaseSignatures.printedName,
        signerUsername: users.username,
        meaning: releaseSignatures.meaning,
        signedAt: releaseSignatures.signedAt,
        digest: releaseSignatures.digest,
      })
      .from(releaseSignatures)
      .innerJoin(users, eq(users.id, releaseSignatures.signerId))
      .where(eq(releaseSignatures.ruleSetVersionId, row.id)),
    numbers.length
      ? db
          .select({ number: changeRequests.number, title: changeRequests.title, status: changeRequests.status })
          .from(changeRequests)
          .where(inArray(changeRequests.number, numbers))
      : Promise.resolve([]),
    releaseWaiversOf(db, { ruleSetVersionId: row.id }),
  ]);
  return {
    kind: row.kind,
    expiresAt: row.expiresAt,
    changeRequests: numbers.map((number) => requests.find((r) => r.number === number) ?? { number, title: null, status: null }),
    signingKeyIds: keyIdsOf(row.jws),
    signature: signature ?? null,
    /** The waiver given with the release signature (null when none was needed). */
    waiver: waivers[0] ?? null,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Where a change request is live                                                              */
/* ------------------------------------------------------------------------------------------ */

/** Per site of the change request: the version that released it there (and since when), or pending. */
export async function changeRequestLiveAt(db: DbOrTx, params: { changeRequestId: number; at: Date }) {
  const rows = await db
    .select({
      site: sites.code,
      version: ruleSetVersions.version,
      effectiveFrom: ruleSetVersions.effectiveFrom,
      releasedAt: changeRequestSiteReleases.releasedAt,
    })
    .from(changeRequestBases)
    .innerJoin(sites, eq(sites.id, changeRequestBases.siteId))
    .leftJoin(
      changeRequestSiteReleases,
      and(eq(changeRequestSiteReleases.changeRequestId, changeRequestBases.changeRequestId), eq(changeRequestSiteReleases.siteId, changeRequestBases.siteId)),
    )
    .leftJoin(ruleSetVersions, eq(ruleSetVersions.id, changeRequestSiteReleases.ruleSetVersionId))
    .where(eq(changeRequestBases.changeRequestId, params.changeRequestId))
    .orderBy(asc(sites.code));
  return rows.map((r) =>
    r.version === null || r.effectiveFrom === null
      ? { site: r.site, state: "pending" as const }
      : {
          site: r.site,
          state: r.effectiveFrom.getTime() > params.at.getTime() ? ("scheduled" as const) : ("live" as const),
          version: r.version,
          effectiveFrom: r.effectiveFrom,
          releasedAt: r.releasedAt,
        },
  );
}

/* ------------------------------------------------------------------------------------------ */
/* Release waivers                                                                             */
/* ------------------------------------------------------------------------------------------ */

export interface ReleaseWaiverView {
  site: string;
  version: number;
  reason: string;
  /** The disagreement keys (PART@SITE) the release left, waived. */
  disagreements: string[];
  printedName: string;
  signedAt: Date;
}

/**
 * The waivers given with release signatures: of one version, or
 * of every version that released a change request.
 */
export async function releaseWaiversOf(db: DbOrTx, params: { ruleSetVersionId: number } | { changeRequestNumber: string }): Promise<ReleaseWaiverView[]> {
  const where =
    "ruleSetVersionId" in params
      ? eq(ruleSetVersions.id, params.ruleSetVersionId)
      : inArray(
          ruleSetVersions.id,
          db
            .select({ id: changeRequestSiteReleases.ruleSetVersionId })
            .from(changeRequestSiteReleases)
            .innerJoin(changeRequests, eq(changeRequests.id, changeRequestSiteReleases.changeRequestId))
            .where(eq(changeRequests.number, params.changeRequestNumber)),
        );
  const rows = await db
    .select({
      site: sites.code,
      version: ruleSetVersions.version,
      reason: releaseWaivers.reason,
      disagreements: releaseWaivers.disagreements,
      printedName: releaseSignatures.printedName,
      signedAt: releaseSignatures.signedAt,
    })
    .from(releaseWaivers)
    .innerJoin(releaseSignatures, eq(releaseSignatures.id, releaseWaivers.releaseSignatureId))
    .innerJoin(ruleSetVersions, eq(ruleSetVersions.id, releaseSignatures.ruleSetVersionId))
    .innerJoin(sites, eq(sites.id, ruleSetVersions.siteId))
    .where(where)
    .orderBy(asc(sites.code), asc(ruleSetVersions.version));
  return rows.map((r) => ({
    ...r,
    disagreements: (r.disagreements as { key: string }[]).map((d) => d.key).sort(),
  }));
}
