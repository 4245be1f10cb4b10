/**
 * Read models for the change-request screens: the list, one request with everything a reviewer
 * needs to sign it, the printable record, the form's option lists, the dashboard's "awaiting my
 * signature" and a material's change requests. Every function takes the database first and selects
 * named columns; nothing here writes (the write model is app/services/change-requests.server.ts;
 * the reads it shares with these screens — currentRules, approvalsOf, staleSites, conflictsOf — live
 * in change-request-context.server.ts and request-bases.server.ts, so the screens say exactly what
 * the service will decide).
 *
 * A change request's sites are those it was written against (change_request_bases) and those it
 * touches (change_request_targets); a reader sees a change request when one of them is theirs.
 */
import { acknowledgementsOf } from "./signature-acknowledgements.server";
import { and, asc, count, desc, eq, exists, inArray, isNull, ne, or, sql, type SQL } from "drizzle-orm";
import { LOGISTICS_UNIT_MATERIAL } from "../domain/material";
import {
  auditTrail,
  changeRequestBases,
  changeRequestSiteReleases,
  changeRequests,
  changeRequestTargets,
  identifierFormats,
  materialFamilies,
  materials,
  ruleSetVersions,
  signatures,
  sites,
  users,
} from "../../db/schema";
import {
  changeFacts,
  ruleKey,
  structuredDiff,
  textDiff,
  type ExpandedAlternatesChange,
  type ExpandedAttributeChange,
  type ExpandedChange,
  type ExpandedTrackingChange,
} from "../domain/change-request";
import { isOpen, UNDECIDED_STATUSES, type ChangeRequestStatus } from "../domain/change-request-lifecycle";
import type { TrackingRuleContent } from "../domain/tracking-rule";
import { describeFormat, type IdentifierFormat } from "../../packages/identifiers/src/identifier-format";
import type { ChangeRequestContent } from "../schemas/change-request";
import { commentRows } from "./change-request-comments.server";
import { approvalsOf, conflictsOf, loadCatalog } from "./change-request-context.server";
import { currentRules } from "./request-bases.server";
import { requestBaseDigest, signedBefore, type RequestBase } from "../domain/request-base";
import { staleness, type StaleSite } from "./request-bases.server";
import { releaseWaiversOf } from "./releases.server";
import type { DbOrTx } from "../utils/db.server";
import type { Grant } from "../../policies/ability";
import { requiredApprovals } from "../../policies/approval";
import { deviationPairs } from "../domain/traceability-deviations";
import { holdsReviewerRole, reviewerRolesCovering } from "../../policies/review-and-release";
import { entityAuditHistory } from "./audit.server";
import { ruleHistory } from "./tracking-rules.server";
import type { VisibleSites } from "./sites.server";

export const CHANGE_REQUEST_NUMBER = /^CR-[0-9]{4,}$/;

/** Who is looking: their user id, grants and the sites they may see. */
export interface Viewer {
  userId: number;
  grants: readonly Grant[];
  sites: VisibleSites;
}

/* ------------------------------------------------------------------------------------------ */
/* Sites of a change request                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** A change request (the outer query's row) touches one of `visible`; none when all are visible. */
function touchesVisibleSite(db: DbOrTx, visible: VisibleSites): SQL | undefined {
  if (visible === null) return undefined;
  const ids = visible.length ? [...visible] : [-1];
  return or(
    exists(
      db
        .select({ one: sql`1` })
        .from(changeRequestTargets)
        .where(and(eq(changeRequestTargets.changeRequestId, changeRequests.id), inArray(changeRequestTargets.siteId, ids))),
    ),
    exists(
      db
        .select({ one: sql`1` })
        .from(changeRequestBases)
        .where(and(eq(changeRequestBases.changeRequestId, changeRequests.id), inArray(changeRequestBases.siteId, ids))),
    ),
  );
}

/** The sites (id and code) of each change request, from its bases and targets. */
async function sitesOf(db: DbOrTx, changeRequestIds: readonly number[]): Promise<Map<number, { id: number; code: string }[]>> {
  const out = new Map<number, { id: number; code: string }[]>();
  if (changeRequestIds.length === 0) return out;
  const ids = [...new Set(changeRequestIds)];
  const rows = await db.execute<{ change_request_id: number; site_id: number; code: string }>(sql`
    select distinct x.change_request_id, s.id as site_id, s.code
    from (
      select ${changeRequestBases.changeRequestId} as change_request_id, ${changeRequestBases.siteId} as site_id from ${changeRequestBases}
      where ${inArray(changeRequestBases.changeRequestId, ids)}
      union
      select ${changeRequestTargets.changeRequestId}, ${changeRequestTargets.siteId} from ${changeRequestTargets}
      where ${inArray(changeRequestTargets.changeRequestId, ids)}
    ) x join ${sites} s on s.id = x.site_id
    order by s.code`);
  for (const r of rows) {
    const list = out.get(r.change_request_id) ?? [];
    list.push({ id: r.site_id, code: r.code });
    out.set(r.change_request_id, list);
  }
  return out;
}

/** Statuses in which the approvals needed follow the rules in force (the service decides on them at signing). */
const UNDECIDED = UNDECIDED_STATUSES;

/** The essentials of one change request for guards and actions: who wrote it, its state and sites. */
export async function changeRequestHead(db: DbOrTx, number: string) {
  if (!CHANGE_REQUEST_NUMBER.test(number)) return null;
  const [row] = await db
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      title: changeRequests.title,
      status: changeRequests.status,
      authorId: changeRequests.authorId,
      authorName: users.displayName,
      revision: changeRequests.revision,
      rowVersion: changeRequests.rowVersion,
      content: changeRequests.content,
    })
    .from(changeRequests)
    .innerJoin(users, eq(users.id, changeRequests.authorId))
    .where(eq(changeRequests.number, number));
  if (!row) return null;
  const [siteMap, [valid]] = await Promise.all([
    sitesOf(db, [row.id]),
    db
      .select({ n: count() })
      .from(signatures)
      .where(and(eq(signatures.changeRequestId, row.id), isNull(signatures.voidedAt))),
  ]);
  const siteList = siteMap.get(row.id) ?? [];
  return {
    ...row,
    content: row.content as ChangeRequestContent,
    siteIds: siteList.map((s) => s.id),
    siteCodes: siteList.map((s) => s.code),
    /** Signatures not voided: an edit or rebase would void them. */
    validSignatures: valid?.n ?? 0,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* "Awaiting my signature"                                                                     */
/* ------------------------------------------------------------------------------------------ */

/**
 * Change requests in review, visible to the viewer, that they did not write, have not approved,
 * and where a reviewer role they hold (at all of the request's sites) is still needed.
 */
async function awaitingIds(db: DbOrTx, viewer: Viewer): Promise<number[]> {
  if (!holdsReviewerRole(viewer.grants)) return [];
  const candidates = await db
    .select({ id: changeRequests.id, authorId: changeRequests.authorId, expandedChanges: changeRequests.expandedChanges, content: changeRequests.content })
    .from(changeRequests)
    .where(and(eq(changeRequests.status, "in_review"), touchesVisibleSite(db, viewer.sites)));
  const mine = candidates.filter((c) => c.authorId !== viewer.userId);
  if (mine.length === 0) return [];
  const ids = mine.map((c) => c.id);
  const [catalog, current, given, siteMap] = await Promise.all([
    loadCatalog(db),
    currentRules(db),
    db
      .select({ changeRequestId: signatures.changeRequestId, signerId: signatures.signerId, role: signatures.role })
      .from(signatures)
      .where(and(inArray(signatures.changeRequestId, ids), eq(signatures.meaning, "approved"), isNull(signatures.voidedAt))),
    sitesOf(db, ids),
  ]);
  return mine
    .filter((c) => {
      const approvals = given.filter((g) => g.changeRequestId === c.id);
      if (approvals.some((g) => g.signerId === viewer.userId)) return false;
      const required = requiredApprovals(
        changeFacts(c.expandedChanges as ExpandedChange[], current, catalog),
        deviationPairs((c.content as ChangeRequestContent | undefined)?.deviations),
      );
      const needed = required.filter((r) => !approvals.some((g) => g.role === r.role)).map((r) => r.role);
      const roles = reviewerRolesCovering(
        viewer.grants,
        (siteMap.get(c.id) ?? []).map((s) => s.id),
      );
      return needed.some((role) => roles.includes(role));
    })
    .map((c) => c.id);
}

/**
 * When a change request was last submitted for review: the audit row of its latest submit (the
 * only way into review, ADR 031). An edit or a rebase while in review keeps the review open, so it
 * does not move this time; `updated_at` would. A request without such a row (none in practice)
 * counts from its creation, the earliest it can have been submitted.
 */
const submittedForReviewAt = sql<Date>`coalesce((
  select max(${auditTrail.recordedAt}) from ${auditTrail}
  where ${auditTrail.entityType} = 'change_request' and ${auditTrail.entityId} = ${changeRequests.number} and ${auditTrail.action} = 'change_request.submit'
), ${changeRequests.createdAt})`.mapWith(changeRequests.createdAt);

/**
 * The dashboard's panel: change requests waiting for the viewer's signature, oldest first by when
 * each was submitted for review (issue 24), then by number.
 */
export async function awaitingMySignature(db: DbOrTx, viewer: Viewer) {
  const ids = await awaitingIds(db, viewer);
  if (ids.length === 0) return [];
  const [rows, siteMap] = await Promise.all([
    db
      .select({
        id: changeRequests.id,
        number: changeRequests.number,
        title: changeRequests.title,
        authorName: users.displayName,
        revision: changeRequests.revision,
        submittedAt: submittedForReviewAt,
        reviewDueOn: changeRequests.reviewDueOn,
      })
      .from(changeRequests)
      .innerJoin(users, eq(users.id, changeRequests.authorId))
      .where(inArray(changeRequests.id, ids))
      .orderBy(asc(submittedForReviewAt), asc(changeRequests.number)),
    sitesOf(db, ids),
  ]);
  return rows.map(({ id, ...row }) => ({ ...row, sites: visibleCodes(siteMap.get(id) ?? [], viewer.sites) }));
}

function visibleCodes(list: readonly { id: number; code: string }[], visible: VisibleSites) {
  const shown = list.filter((s) => visible === null || visible.includes(s.id)).map((s) => s.code);
  return { shown, hidden: list.length - shown.length };
}

/* ------------------------------------------------------------------------------------------ */
/* The list                                                                                    */
/* ------------------------------------------------------------------------------------------ */

export interface ChangeRequestSearch {
  status?: ChangeRequestStatus;
  /** Site code; a site the viewer cannot see matches nothing. */
  site?: string;
  /** Part number of a material the change request touches. */
  material?: string;
  /** User name of the author. */
  author?: string;
  awaiting: boolean;
  page: number;
  pageSize: number;
}

export async function listChangeRequests(db: DbOrTx, search: ChangeRequestSearch, viewer: Viewer) {
  const allSites = await db.select({ id: sites.id, code: sites.code, name: sites.name }).from(sites).orderBy(asc(sites.code));
  const shownSites = viewer.sites === null ? allSites : allSites.filter((s) => viewer.sites!.includes(s.id));
  const conditions: (SQL | undefined)[] = [touchesVisibleSite(db, viewer.sites)];
  if (search.status) conditions.push(eq(changeRequests.status, search.status));
  if (search.site) {
    const siteId = shownSites.find((s) => s.code === search.site)?.id ?? -1;
    conditions.push(touchesVisibleSite(db, [siteId]));
  }
  if (search.material) {
    // Targets name existing materials (a tracking, attribute or alternates change of the material);
    // the expanded changes also name a material the request creates, and a BOM line's component and alternates.
    const names = (change: Record<string, unknown>) => sql`${changeRequests.expandedChanges} @> ${JSON.stringify([change])}::jsonb`;
    conditions.push(
      or(
        exists(
          db
            .select({ one: sql`1` })
            .from(changeRequestTargets)
            .innerJoin(materials, eq(materials.id, changeRequestTargets.materialId))
            .where(and(eq(changeRequestTargets.changeRequestId, changeRequests.id), eq(materials.partNumber, search.material))),
        ),
        names({ kind: "new_material", partNumber: search.material }),
        names({ kind: "alternates", component: search.material }),
        names({ kind: "alternates", alternates: [search.material] }),
      ),
    );
  }
  if (search.author) conditions.push(eq(users.username, search.author));
  const awaiting = await awaitingIds(db, viewer);
  if (search.awaiting) conditions.push(inArray(changeRequests.id, awaiting.length ? awaiting : [-1]));
  const where = and(...conditions);

  const [totalRow] = await db.select({ n: count() }).from(changeRequests).innerJoin(users, eq(users.id, changeRequests.authorId)).where(where);
  const total = totalRow?.n ?? 0;
  const pageCount = Math.max(1, Math.ceil(total / search.pageSize));
  const page = Math.min(search.page, pageCount);
  const rows = await db
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      title: changeRequests.title,
      status: changeRequests.status,
      revision: changeRequests.revision,
      authorUsername: users.username,
      authorName: users.displayName,
      updatedAt: changeRequests.updatedAt,
    })
    .from(changeRequests)
    .innerJoin(users, eq(users.id, changeRequests.authorId))
    .where(where)
    .orderBy(desc(changeRequests.updatedAt), desc(changeRequests.number))
    .limit(search.pageSize)
    .offset((page - 1) * search.pageSize);

  const ids = rows.map((r) => r.id);
  const openIds = rows.filter((r) => isOpen(r.status)).map((r) => r.id);
  const [siteMap, stale, conflicting, authors] = await Promise.all([
    sitesOf(db, ids),
    staleIds(db, openIds),
    conflictingIds(db, openIds),
    db
      .selectDistinct({ username: users.username, displayName: users.displayName })
      .from(users)
      .innerJoin(changeRequests, eq(changeRequests.authorId, users.id))
      .orderBy(asc(users.username)),
  ]);
  return {
    total,
    page,
    pageCount,
    sites: shownSites,
    authors,
    awaitingCount: awaiting.length,
    rows: rows.map(({ id, ...row }) => ({
      ...row,
      sites: visibleCodes(siteMap.get(id) ?? [], viewer.sites),
      stale: stale.get(id) ?? [],
      conflict: conflicting.has(id),
      awaitingMe: awaiting.includes(id),
    })),
  };
}

/** Of these change requests, those where what they read at some site moved since (site codes per request). */
async function staleIds(db: DbOrTx, ids: readonly number[]): Promise<Map<number, string[]>> {
  const stale = await staleness(db, ids);
  return new Map([...stale].map(([id, list]) => [id, list.map((s) => s.site).sort()]));
}

/** Of these change requests, those sharing a material at a site with another open one (conflictsOf, in bulk). */
async function conflictingIds(db: DbOrTx, ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.execute<{ id: number }>(sql`
    select distinct mine.change_request_id as id
    from ${changeRequestTargets} mine
    join ${changeRequestTargets} other on other.material_id = mine.material_id and other.site_id = mine.site_id
      and other.change_request_id <> mine.change_request_id
    join ${changeRequests} c on c.id = other.change_request_id
    where mine.change_request_id in ${sql`(${sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    )})`}
      and c.status in ('draft', 'in_review', 'changes_requested', 'approved', 'partly_released')`);
  return new Set(rows.map((r) => Number(r.id)));
}

/* ------------------------------------------------------------------------------------------ */
/* One change request                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** Everything the change-request page and its printable record show. */
export async function changeRequestDetail(db: DbOrTx, number: string, params: { historyLimit: number }) {
  if (!CHANGE_REQUEST_NUMBER.test(number)) return null;
  const [cr] = await db
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      title: changeRequests.title,
      status: changeRequests.status,
      authorId: changeRequests.authorId,
      authorUsername: users.username,
      authorName: users.displayName,
      content: changeRequests.content,
      expandedChanges: changeRequests.expandedChanges,
      contentHash: changeRequests.contentHash,
      revision: changeRequests.revision,
      rowVersion: changeRequests.rowVersion,
      createdAt: changeRequests.createdAt,
      updatedAt: changeRequests.updatedAt,
      reviewDueOn: changeRequests.reviewDueOn,
    })
    .from(changeRequests)
    .innerJoin(users, eq(users.id, changeRequests.authorId))
    .where(eq(changeRequests.number, number));
  if (!cr) return null;
  const expanded = cr.expandedChanges as ExpandedChange[];
  const open = isOpen(cr.status);
  const attributeParts = [...new Set(expanded.filter((c) => c.kind === "attributes").map((c) => c.partNumber))];

  const [siteMap, baseRows, signatureRows, comments, history, catalog, current, approvals, staleList, conflicts, attributeRows, waivers] = await Promise.all([
    sitesOf(db, [cr.id]),
    db
      .select({
        site: sites.code,
        siteName: sites.name,
        version: ruleSetVersions.version,
        rulesDigest: changeRequestBases.baseRulesDigest,
        touched: changeRequestBases.touched,
        releasedIn: sql<number | null>`(select v.version from ${changeRequestSiteReleases} r join ${ruleSetVersions} v on v.id = r.rule_set_version_id
          where r.change_request_id = ${changeRequestBases.changeRequestId} and r.site_id = ${changeRequestBases.siteId})`,
      })
      .from(changeRequestBases)
      .innerJoin(sites, eq(sites.id, changeRequestBases.siteId))
      .leftJoin(ruleSetVersions, eq(ruleSetVersions.id, changeRequestBases.baseVersionId))
      .where(eq(changeRequestBases.changeRequestId, cr.id))
      .orderBy(asc(sites.code)),
    db
      .select({
        id: signatures.id,
        signerId: signatures.signerId,
        signerUsername: users.username,
        printedName: signatures.printedName,
        role: signatures.role,
        meaning: signatures.meaning,
        signedAt: signatures.signedAt,
        contentHash: signatures.contentHash,
        revision: signatures.revision,
        analysisHash: signatures.analysisHash,
        replayHash: signatures.replayHash,
        comment: signatures.comment,
        attestations: signatures.attestations,
        voidedAt: signatures.voidedAt,
        voidReason: signatures.voidReason,
      })
      .from(signatures)
      .innerJoin(users, eq(users.id, signatures.signerId))
      .where(eq(signatures.changeRequestId, cr.id))
      .orderBy(asc(signatures.signedAt), asc(signatures.id)),
    commentRows(db, cr.id),
    entityAuditHistory(db, { entityType: "change_request", entityId: cr.number, limit: params.historyLimit }),
    loadCatalog(db),
    currentRules(db),
    approvalsOf(db, cr.id, expanded),
    open ? staleness(db, [cr.id]).then((m) => m.get(cr.id) ?? []) : Promise.resolve([] as StaleSite[]),
    open ? conflictsOf(db, cr.id) : Promise.resolve([]),
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
    releaseWaiversOf(db, { changeRequestNumber: cr.number }),
  ]);
  const acknowledgements = await acknowledgementsOf(
    db,
    signatureRows.map((s) => s.id),
  );
  const bases = baseRows.map(({ touched, releasedIn, ...b }) => ({
    ...b,
    /** The digest of what it read at the site (signed with it); null for bases from before per-request bases. */
    touchedDigest: touched ? requestBaseDigest(expanded, touched as RequestBase) : null,
    releasedIn: releasedIn === null ? null : Number(releasedIn),
    moved: staleList.find((s) => s.site === b.site)?.moved ?? [],
  }));
  const stale = staleList.map((s) => s.site).sort();
  const attributes = new Map<string, Record<string, unknown>>(
    attributeRows.map((m) => [m.partNumber, { riskClass: m.riskClass, regulatoryFlags: [...m.regulatoryFlags].sort(), family: m.family, gtin: m.gtin }]),
  );
  const signedBases = baseRows.map((b) => b.touched as RequestBase | null);
  const signedDiff =
    cr.status !== "draft" && signedBases.length > 0 && signedBases.every((b) => b !== null) ? signedBefore(signedBases as RequestBase[]) : null;
  const approvers = new Map(
    signatureRows.filter((s) => s.voidedAt === null && s.meaning === "approved").map((s) => [`${s.signerId}|${s.role}`, s.printedName]),
  );
  // Once decided, the approvals it needed are those of the world its signatures bound (the signed
  // base: rules and risk classes as read), not of today's rules — a later release never rewrites them.
  const required =
    signedDiff && !UNDECIDED.has(cr.status)
      ? requiredApprovals(
          changeFacts(expanded, signedDiff.current, {
            ...catalog,
            materials: new Map(
              [...catalog.materials].map(([part, m]) => [
                part,
                { ...m, riskClass: (signedDiff.attributes.get(part)?.riskClass as typeof m.riskClass | undefined) ?? m.riskClass },
              ]),
            ),
          }),
          deviationPairs((cr.content as ChangeRequestContent).deviations),
        )
      : approvals.required;
  const { id, authorId, expandedChanges: _expanded, ...shown } = cr;
  return {
    /** Internal ids stay on the server: the routes use them for guards only. */
    id,
    authorId,
    cr: { ...shown, content: cr.content as ChangeRequestContent },
    siteIds: (siteMap.get(id) ?? []).map((s) => s.id),
    siteCodes: (siteMap.get(id) ?? []).map((s) => s.code),
    expanded,
    /** Per expanded tracking change, the rule the diff compares with (the signed base once it left draft, else the rule in force now). */
    currentOf: expanded.flatMap((c) =>
      c.kind === "tracking"
        ? [{ partNumber: c.partNumber, site: c.site, rule: (signedDiff ? signedDiff.current : current).get(ruleKey(c.partNumber, c.site)) ?? null }]
        : [],
    ),
    bases,
    approvals: required.map((r) => ({
      role: r.role,
      reasons: r.reasons,
      givenBy: approvals.given.filter((g) => g.role === r.role).map((g) => approvers.get(`${g.signerId}|${g.role}`) ?? "?"),
    })),
    signatures: signatureRows.map(({ signerId: _signer, ...s }) => ({ ...s, acknowledgements: acknowledgements.get(s.id) ?? [] })),
    comments,
    history,
    stale,
    /** Per stale site, what moved. */
    staleDetail: staleList,
    conflicts,
    /**
     * Once it left draft, the diff is the one its signatures bound: against what it read at each
     * site when this revision was written, not today's rules — a release (its own
     * or another's) never rewrites a signed record. A draft compares with the rules in force now.
     */
    diffBasis: signedDiff ? ("signed" as const) : ("current" as const),
    diff: signedDiff
      ? structuredDiff(expanded, signedDiff.current, { ...catalog, bomLines: signedDiff.catalog.bomLines }, signedDiff.attributes)
      : structuredDiff(expanded, current, catalog, attributes),
    textDiff: textDiff(expanded, signedDiff ? signedDiff.current : current),
    /** The release waivers of the versions that released it (reason and the disagreements left). */
    waivers,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* The form's option lists                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Sites (the viewer's), families, materials and identifier formats the form offers. */
export async function changeRequestFormOptions(db: DbOrTx, visible: VisibleSites) {
  const [siteRows, families, materialRows, formats] = await Promise.all([
    db.select({ id: sites.id, code: sites.code, name: sites.name }).from(sites).orderBy(asc(sites.code)),
    // System materials and their family (the logistics unit, ADR 014) are no products: not offered.
    db
      .select({ code: materialFamilies.code, name: materialFamilies.name })
      .from(materialFamilies)
      .where(ne(materialFamilies.code, LOGISTICS_UNIT_MATERIAL.familyCode))
      .orderBy(asc(materialFamilies.code)),
    db
      .select({ partNumber: materials.partNumber, description: materials.description, riskClass: materials.riskClass })
      .from(materials)
      .where(isNull(materials.systemRole))
      .orderBy(asc(materials.partNumber)),
    db
      .select({
        code: identifierFormats.code,
        name: identifierFormats.name,
        identifies: identifierFormats.identifies,
        siteId: identifierFormats.siteId,
        site: sites.code,
        definition: identifierFormats.definition,
      })
      .from(identifierFormats)
      .leftJoin(sites, eq(sites.id, identifierFormats.siteId))
      .where(visible === null ? undefined : or(isNull(identifierFormats.siteId), inArray(identifierFormats.siteId, visible.length ? [...visible] : [-1])))
      .orderBy(asc(identifierFormats.code)),
  ]);
  return {
    sites: siteRows.filter((s) => visible === null || visible.includes(s.id)).map(({ code, name }) => ({ code, name })),
    families,
    materials: materialRows,
    formats: formats.map(({ siteId: _siteId, definition, ...f }) => ({ ...f, pattern: describeFormat(definition as IdentifierFormat) })),
  };
}

/** The site ids proposed changes touch: a tracking change's sites; an attribute or required-traceability change, every site. */
export async function proposedSiteIds(db: DbOrTx, changes: ChangeRequestContent["changes"]) {
  const siteRows = await db.select({ id: sites.id, code: sites.code }).from(sites);
  const byCode = new Map(siteRows.map((s) => [s.code, s.id]));
  // Unknown site codes are left to the service, which names them field by field.
  const byChange = changes.map((c) =>
    c.kind === "attributes" || c.kind === "traceability_requirement"
      ? siteRows.map((s) => s.id)
      : c.kind === "new_material"
        ? []
        : c.sites.flatMap((code: string) => (byCode.has(code) ? [byCode.get(code)!] : [])),
  );
  return {
    all: [...new Set(byChange.flat())].sort((a, b) => a - b),
    byChange,
    codeOf: Object.fromEntries(siteRows.map((s) => [s.id, s.code])) as Record<number, string>,
  };
}

/* ------------------------------------------------------------------------------------------ */
/* A material's change requests                                                                */
/* ------------------------------------------------------------------------------------------ */

const sameRule = (a: TrackingRuleContent, b: TrackingRuleContent) =>
  a.trackingMode === b.trackingMode &&
  a.containerTracking === b.containerTracking &&
  a.consumptionScan === b.consumptionScan &&
  [...a.identifierFormatCodes].sort().join(",") === [...b.identifierFormatCodes].sort().join(",");

/**
 * The change requests touching a material at the viewer's sites, newest first: per site the
 * tracking rule each proposes, and — for released ones — the rule-set version whose rule for the
 * material is the one proposed (matched by content and time: versions do not name their change
 * request). Master-data changes are listed once, apart from the sites: attribute changes, the
 * alternates of the material's BOM lines (as parent, at the viewer's sites) and the change request
 * that created the material (found in its expanded changes: a material that does not exist yet has
 * no targets, nor have the tracking changes for it in that request).
 */
export async function changeRequestsForMaterial(db: DbOrTx, params: { partNumber: string; sites: VisibleSites }) {
  const [material] = await db.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, params.partNumber));
  if (!material) return { bySite: [], attributes: [] };
  const columns = {
    number: changeRequests.number,
    title: changeRequests.title,
    status: changeRequests.status,
    createdAt: changeRequests.createdAt,
    updatedAt: changeRequests.updatedAt,
    expandedChanges: changeRequests.expandedChanges,
  };
  const [targeted, creating, siteRows] = await Promise.all([
    db
      .select({ ...columns, siteId: sites.id, site: sites.code })
      .from(changeRequestTargets)
      .innerJoin(changeRequests, eq(changeRequests.id, changeRequestTargets.changeRequestId))
      .innerJoin(sites, eq(sites.id, changeRequestTargets.siteId))
      .where(
        and(
          eq(changeRequestTargets.materialId, material.id),
          params.sites === null ? undefined : inArray(changeRequestTargets.siteId, params.sites.length ? [...params.sites] : [-1]),
        ),
      )
      .orderBy(desc(changeRequests.number), asc(sites.code)),
    db
      .select(columns)
      .from(changeRequests)
      .where(
        and(
          sql`${changeRequests.expandedChanges} @> ${JSON.stringify([{ kind: "new_material", partNumber: params.partNumber }])}::jsonb`,
          touchesVisibleSite(db, params.sites),
        ),
      )
      .orderBy(desc(changeRequests.number)),
    db.select({ id: sites.id, code: sites.code }).from(sites).orderBy(asc(sites.code)),
  ]);
  // The creating request's tracking changes for the material, at the viewer's sites, as if targeted.
  const visibleSites = siteRows.filter((s) => params.sites === null || params.sites.includes(s.id));
  const rows = [
    ...targeted,
    ...creating.flatMap((cr) =>
      visibleSites
        .filter((s) => (cr.expandedChanges as ExpandedChange[]).some((c) => c.kind === "tracking" && c.partNumber === params.partNumber && c.site === s.code))
        .map((s) => ({ ...cr, siteId: s.id, site: s.code })),
    ),
  ];

  const histories = new Map<number, Awaited<ReturnType<typeof ruleHistory>>>();
  const bySite: {
    site: string;
    number: string;
    title: string;
    status: ChangeRequestStatus;
    updatedAt: Date;
    rule: TrackingRuleContent;
    viaFamily: string | null;
    setVersion: number | null;
  }[] = [];
  const seen = new Set<string>();
  const masterData = new Map<
    string,
    {
      number: string;
      title: string;
      status: ChangeRequestStatus;
      updatedAt: Date;
      change: Record<string, unknown>;
      alternates: { site: string; component: string; alternates: string[] }[];
      creates: boolean;
    }
  >();
  const entryOf = (row: { number: string; title: string; status: ChangeRequestStatus; updatedAt: Date }) => {
    const entry = masterData.get(row.number) ?? {
      number: row.number,
      title: row.title,
      status: row.status,
      updatedAt: row.updatedAt,
      change: {},
      alternates: [],
      creates: false,
    };
    masterData.set(row.number, entry);
    return entry;
  };
  const withAttributes = new Set<string>();
  for (const cr of creating) entryOf(cr).creates = true;
  for (const row of rows) {
    if (seen.has(`${row.number}|${row.site}`)) continue;
    seen.add(`${row.number}|${row.site}`);
    const changes = row.expandedChanges as ExpandedChange[];
    const tracking = changes.find((c): c is ExpandedTrackingChange => c.kind === "tracking" && c.partNumber === params.partNumber && c.site === row.site);
    if (tracking) {
      let setVersion: number | null = null;
      if (row.status === "released" || row.status === "partly_released") {
        if (!histories.has(row.siteId)) histories.set(row.siteId, await ruleHistory(db, { materialId: material.id, siteId: row.siteId }));
        const match = histories.get(row.siteId)!.find((r) => r.effectiveFrom.getTime() >= row.createdAt.getTime() && sameRule(r, tracking.rule));
        setVersion = match?.version ?? null;
      }
      bySite.push({
        site: row.site,
        number: row.number,
        title: row.title,
        status: row.status,
        updatedAt: row.updatedAt,
        rule: tracking.rule,
        viaFamily: tracking.viaFamily,
        setVersion,
      });
    }
    const attribute = changes.find((c): c is ExpandedAttributeChange => c.kind === "attributes" && c.partNumber === params.partNumber);
    if (attribute && !withAttributes.has(row.number)) {
      withAttributes.add(row.number);
      const { kind: _kind, partNumber: _part, ...change } = attribute;
      entryOf(row).change = change;
    }
    const lines = changes.filter((c): c is ExpandedAlternatesChange => c.kind === "alternates" && c.partNumber === params.partNumber && c.site === row.site);
    for (const line of lines) entryOf(row).alternates.push({ site: line.site, component: line.component, alternates: line.alternates });
  }
  bySite.sort((a, b) => b.number.localeCompare(a.number) || a.site.localeCompare(b.site));
  const attributes = [...masterData.values()].sort((a, b) => b.number.localeCompare(a.number));
  return { bySite, attributes };
}
