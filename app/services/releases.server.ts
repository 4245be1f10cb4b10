import { holdsReleaseManagerRole, releaserConflict } from "../../policies/review-and-release";
import { lockEpcisImports } from "./epcis-apply.server";
import { releaseQuarantine } from "./epcis-quarantine.server";
import { and, eq, inArray, isNull, notInArray, sql } from "drizzle-orm";
import type { z } from "zod";
import {
  bomLineAlternates,
  bomLines,
  changeRequestBases,
  changeRequests,
  changeRequestSiteReleases,
  materialFamilies,
  materials,
  releaseSignatures,
  releaseWaivers,
  sessions,
  signatures,
  sites,
  traceabilityDeviations,
  traceabilityRequirements,
} from "../../db/schema";
import { describeShortfall, deviationExpired, requirementFor, shortfalls, type TraceabilityDeviation } from "../domain/traceability-requirement";
import { todayIn } from "../domain/review-due";
import { requirementSubjects, requirementsInForce } from "../queries/traceability-requirements.server";
import { openDeviations } from "../queries/traceability-deviations.server";
import { databaseNow } from "../utils/clock.server";
import type { ExpandedChange } from "../domain/change-request";
import { describeTarget, targetKey, type RequirementTarget } from "../domain/traceability-requirement";
import { describeDisagreement, disagreementsAt, reconcile } from "../domain/reconciliation";
import type { TrackingMode } from "../domain/tracking-rule";
import { loadReconciliationInput } from "../queries/reconciliation.server";
import { OPEN_STATUSES, transition, type ChangeRequestStatus } from "../domain/change-request-lifecycle";
import type { ChangeRequestContent } from "../schemas/change-request";
import { releaseSchema, type ReleaseInput } from "../schemas/release";
import type { Db, Tx } from "../utils/db.server";
import { DomainError, type Refusal } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import type { KeyRing } from "../utils/signing.server";
import { appendAudit } from "./audit.server";
import { checkSignatureCredentials, type Signer } from "./change-requests.server";
import { batchConflicts, loadBaseWorld, readStates, siteBases, staleIn, staleness } from "../queries/request-bases.server";
import { notify } from "./notifications.server";
import { createRuleSetVersion, type RuleChange } from "./rule-sets.server";
import { alertRefusal } from "./audit-anchors.server";

export const RELEASE_MEANING = "Released: I release these approved change requests as this site's next rule set";

export type ReleaseResult =
  | { ok: true; site: string; version: number; digest: string; effectiveFrom: Date; released: { number: string; status: ChangeRequestStatus }[] }
  | Refusal;

interface LockedRequest {
  id: number;
  number: string;
  title: string;
  status: ChangeRequestStatus;
  authorId: number;
  rowVersion: number;
  content: ChangeRequestContent;
  expanded: ExpandedChange[];
}

/**
 * Releases approved change requests at one site (a pilot site first, then the others), signed by a
 * release manager who authored none of them (meaning "released"). In one transaction: new
 * materials and governed attributes are applied at a request's first release, BOM alternates and
 * tracking rules at this site; the version function creates, signs and stores the site's next
 * version; the requests are marked released here; the audit rows are written. A request that is
 * stale at this site, or whose revalidation tasks lack evidence, is refused (409 / 400).
 */
export async function releaseChangeRequests(
  db: Db,
  keyRing: KeyRing,
  releaser: Signer,
  rawInput: ReleaseInput | Record<string, unknown>,
): Promise<ReleaseResult> {
  const parsed = releaseSchema.safeParse(rawInput);
  // Returned, not thrown: a form problem comes back in the same Refusal shape as a refused
  // signature below, the one shape the release form (and its callers' tests) handle.
  if (!parsed.success) return { ok: false, fields: fieldErrorsFromIssues(parsed.error.issues) };
  const input = parsed.data;
  if (!holdsReleaseManagerRole(releaser.roles)) throw new DomainError("forbidden", "Only a release manager releases change requests.");
  const credentials = await checkSignatureCredentials(db, releaser, input, { release: input.changeRequests, site: input.site });
  // Returned, not thrown: the failed signature's audit row (and lockout count) is committed already.
  if (!credentials.ok) return credentials;

  try {
    return await releaseInOneTransaction(db, keyRing, releaser, input);
  } catch (error) {
    // Nothing of a failed release remains but the record that it failed (and why) — and, when it
    // was refused for a trail that no longer extends this server's anchors, the security alert.
    const anchorProblems = (error as { anchorProblems?: unknown }).anchorProblems;
    if (Array.isArray(anchorProblems)) await alertRefusal(db, releaser.username, anchorProblems.map(String));
    await db.transaction((tx) =>
      appendAudit(tx, {
        actor: releaser.username,
        action: "rule_set.release_failed",
        entityType: "site",
        entityId: input.site,
        after: { changeRequests: input.changeRequests, error: error instanceof Error ? error.message : String(error) },
      }),
    );
    throw error;
  }
}

/** Advisory lock of releases against master-data changes (exclusive) and reads (shared). */
const MASTER_DATA_LOCK = 981_000_201;

async function releaseInOneTransaction(db: Db, keyRing: KeyRing, releaser: Signer, input: z.infer<typeof releaseSchema>): Promise<ReleaseResult> {
  return db.transaction(async (tx) => {
    // A release that makes a GTIN known releases the EPCIS events quarantined for it: it waits for
    // an import in flight first (that import read the materials before this one existed, and would
    // otherwise leave its events quarantined for a known GTIN), and before the site lock, which an
    // import writing items at this site waits for (ADR 014).
    const named = await tx
      .select({ expanded: changeRequests.expandedChanges })
      .from(changeRequests)
      .where(inArray(changeRequests.number, input.changeRequests));
    if (named.some((r) => (r.expanded as ExpandedChange[]).some((c) => (c.kind === "new_material" || c.kind === "attributes") && c.gtin)))
      await lockEpcisImports(tx);
    // Master data is global and a request's base reads it (ADR 006), while the site lock below holds
    // one site: a release that changes master data runs alone across sites, the others share the
    // lock, so no release judges staleness on master data a concurrent release is changing.
    // Required traceability is plant-wide policy (ADR 035): it takes the same exclusive lock.
    const changesMasterData = named.some((r) =>
      (r.expanded as ExpandedChange[]).some((c) => c.kind === "new_material" || c.kind === "attributes" || c.kind === "traceability_requirement"),
    );
    await tx.execute(
      changesMasterData ? sql`select pg_advisory_xact_lock(${MASTER_DATA_LOCK})` : sql`select pg_advisory_xact_lock_shared(${MASTER_DATA_LOCK})`,
    );

    // Lock the site first: releases at one site run one after another, and each sees the rules the
    // previous one left (so a request the previous release made stale is refused, not applied).
    const [site] = await tx.select({ id: sites.id, code: sites.code }).from(sites).where(eq(sites.code, input.site)).for("update");
    if (!site) throw new DomainError("invalid", `site ${input.site} does not exist`, { site: ["No such site"] });

    // Lock the requests in one order, so concurrent releases cannot deadlock.
    const rows = await tx
      .select({
        id: changeRequests.id,
        number: changeRequests.number,
        title: changeRequests.title,
        status: changeRequests.status,
        authorId: changeRequests.authorId,
        rowVersion: changeRequests.rowVersion,
        content: changeRequests.content,
        expanded: changeRequests.expandedChanges,
      })
      .from(changeRequests)
      .where(inArray(changeRequests.number, input.changeRequests))
      .orderBy(changeRequests.id)
      .for("update");
    const requests = rows as LockedRequest[];
    const unknown = input.changeRequests.filter((n) => !requests.some((r) => r.number === n));
    if (unknown.length)
      throw new DomainError("not_found", `change request ${unknown.join(", ")} does not exist`, { changeRequests: unknown.map((n) => `${n} does not exist`) });

    const fields: Record<string, string[]> = {};
    const problem = (number: string, message: string) => (fields.changeRequests ??= []).push(`${number}: ${message}`);
    const bases = await tx
      .select({ changeRequestId: changeRequestBases.changeRequestId, siteId: changeRequestBases.siteId })
      .from(changeRequestBases)
      .where(
        inArray(
          changeRequestBases.changeRequestId,
          requests.map((r) => r.id),
        ),
      );
    const releasedRows = await tx
      .select({ changeRequestId: changeRequestSiteReleases.changeRequestId, siteId: changeRequestSiteReleases.siteId })
      .from(changeRequestSiteReleases)
      .where(
        inArray(
          changeRequestSiteReleases.changeRequestId,
          requests.map((r) => r.id),
        ),
      );
    // What each request read at this site, read again now (after the site lock): a request is stale
    // only when something it read moved (ADR 006, per-request base).
    const [world, current, states] = await Promise.all([
      loadBaseWorld(tx),
      siteBases(tx),
      readStates(
        tx,
        requests.map((r) => r.id),
      ),
    ]);
    const stateOf = new Map(states.map((st) => [st.id, st]));
    const stale = new Map(states.map((st) => [st.id, staleIn(st, world, current)]));

    for (const cr of requests) {
      const step = transition(cr.status, "release_site", { allSitesReleased: false });
      if (!step.ok) throw new DomainError("conflict", `${cr.number}: ${step.message}.`);
      // Separation of duties, no exemption (policies/review-and-release.ts): author, signers and
      // release manager are distinct people.
      const signedByReleaser = await tx
        .select({ id: signatures.signerId })
        .from(signatures)
        .where(and(eq(signatures.changeRequestId, cr.id), eq(signatures.signerId, releaser.id), isNull(signatures.voidedAt)))
        .limit(1);
      const conflict = releaserConflict(releaser.id, { authorId: cr.authorId, signerIds: signedByReleaser.map((s) => s.id) });
      if (conflict === "author") throw new DomainError("forbidden", `${cr.number}: the author of a change request never releases it.`);
      if (conflict === "reviewer") throw new DomainError("forbidden", `${cr.number}: you signed it as a reviewer; another release manager releases it.`);
      const base = bases.find((b) => b.changeRequestId === cr.id && b.siteId === site.id);
      if (!base) problem(cr.number, `it changes nothing at ${site.code}`);
      else {
        const here = (stale.get(cr.id) ?? []).filter((s) => s.site === site.code);
        if (here.length)
          throw new DomainError(
            "conflict",
            `${cr.number} is stale at ${site.code}: ${here[0]!.moved.join("; ")} changed since it was approved. Rebase it first.`,
          );
      }
      if (releasedRows.some((r) => r.changeRequestId === cr.id && r.siteId === site.id)) problem(cr.number, `already released at ${site.code}`);
      if (cr.content.revalidationRequired) {
        const open = cr.content.revalidationTasks.filter((t) => !t.evidenceUrl);
        if (open.length || cr.content.revalidationTasks.length === 0) {
          problem(cr.number, `revalidation is required: close every task with evidence first (${open.length || "no"} task(s) without evidence)`);
        }
      }
    }
    if (Object.keys(fields).length) throw new DomainError("invalid", "These change requests cannot be released here", fields);
    // Released together, requests are checked against each other: one that changes what another
    // read (its base, or what its signed analysis read) is refused — the other's reviewers signed a
    // world without that change. Release them one at a time; the second is then stale and rebased.
    const crossed = batchConflicts(
      world,
      current,
      site.code,
      requests.map((cr) => ({ number: cr.number, state: stateOf.get(cr.id)! })),
    );
    if (crossed.length) throw new DomainError("invalid", "These change requests cannot be released together", { changeRequests: crossed });

    // The other open requests and where each is stale now: what this release makes stale is told
    // to their authors below, in this transaction (ADR 032).
    const others = await tx
      .select({ id: changeRequests.id, number: changeRequests.number, title: changeRequests.title, authorId: changeRequests.authorId })
      .from(changeRequests)
      .where(
        and(
          inArray(changeRequests.status, [...OPEN_STATUSES]),
          notInArray(
            changeRequests.id,
            requests.map((r) => r.id),
          ),
        ),
      );
    const staleBefore = await staleness(
      tx,
      others.map((o) => o.id),
      world,
    );

    const firstRelease = new Set(requests.filter((cr) => !releasedRows.some((r) => r.changeRequestId === cr.id)).map((cr) => cr.id));
    await applyMasterDataChanges(
      tx,
      requests.filter((cr) => firstRelease.has(cr.id)),
      releaser.username,
    );
    await applyAlternates(tx, site.id, site.code, requests);

    const materialIds = new Map((await tx.select({ id: materials.id, partNumber: materials.partNumber }).from(materials)).map((m) => [m.partNumber, m.id]));
    const changes: RuleChange[] = [];
    const seen = new Map<string, string>();
    for (const cr of requests) {
      for (const c of cr.expanded) {
        if (c.kind !== "tracking" || c.site !== site.code) continue;
        if (seen.has(c.partNumber))
          throw new DomainError("invalid", "Two change requests change one material", {
            changeRequests: [`${seen.get(c.partNumber)} and ${cr.number} both change ${c.partNumber} at ${site.code}`],
          });
        seen.set(c.partNumber, cr.number);
        changes.push({ materialId: materialIds.get(c.partNumber)!, ...c.rule });
      }
    }

    const numbers = requests.map((r) => r.number).sort();
    const waived = await requireWaiverForDisagreements(tx, site.code, requests, input.waiver);
    const deviations = await settleDeviations(tx, site, requests, materialIds, releaser.username);
    const version = await createRuleSetVersion(
      tx,
      {
        siteId: site.id,
        effectiveFrom: input.effectiveFrom,
        changes,
        actor: releaser.username,
        reason: `Release of ${numbers.join(", ")} at ${site.code}`,
        changeRequestNumbers: numbers,
        deviations: deviations.map((o) => ({ materialId: o.materialId, changeRequest: o.changeRequest, expiresOn: o.expiresOn, shortfalls: o.shortfalls })),
      },
      keyRing,
    );
    await openDeviationsOf(tx, site, version, deviations, releaser.username);
    const [signature] = await tx
      .insert(releaseSignatures)
      .values({
        ruleSetVersionId: version.id,
        signerId: releaser.id,
        printedName: releaser.displayName,
        meaning: RELEASE_MEANING,
        signedAt: sql`date_trunc('milliseconds', clock_timestamp())`,
        digest: version.digest,
      })
      .returning({ id: releaseSignatures.id, signedAt: releaseSignatures.signedAt });
    await applyRequirementChanges(
      tx,
      requests.filter((cr) => firstRelease.has(cr.id)),
      version.effectiveFrom,
      releaser.username,
    );
    if (waived) await tx.insert(releaseWaivers).values({ releaseSignatureId: signature!.id, reason: waived.reason, disagreements: waived.disagreements });
    await tx.update(sessions).set({ lastSignatureAt: sql`now()` }).where(eq(sessions.idHash, releaser.sessionIdHash));

    const released: { number: string; status: ChangeRequestStatus }[] = [];
    for (const cr of requests) {
      await tx.insert(changeRequestSiteReleases).values({ changeRequestId: cr.id, siteId: site.id, ruleSetVersionId: version.id, releasedAt: sql`now()` });
      const touched = bases.filter((b) => b.changeRequestId === cr.id).map((b) => b.siteId);
      const releasedSites = new Set([...releasedRows.filter((r) => r.changeRequestId === cr.id).map((r) => r.siteId), site.id]);
      const step = transition(cr.status, "release_site", { allSitesReleased: touched.every((s) => releasedSites.has(s)) });
      if (!step.ok) throw new DomainError("conflict", step.message);
      const updated = await tx
        .update(changeRequests)
        .set({ status: step.to, rowVersion: cr.rowVersion + 1, updatedAt: sql`now()` })
        .where(and(eq(changeRequests.id, cr.id), eq(changeRequests.status, cr.status), eq(changeRequests.rowVersion, cr.rowVersion)))
        .returning({ id: changeRequests.id });
      if (updated.length === 0) throw new DomainError("conflict", `${cr.number} was changed meanwhile; reload and try again.`);
      await appendAudit(tx, {
        actor: releaser.username,
        action: "change_request.release_site",
        entityType: "change_request",
        entityId: cr.number,
        before: { status: cr.status },
        after: { status: step.to, site: site.code, version: version.version, digest: version.digest },
        // The audit trail's Reason column shows the waiver with every row of the release.
        reason: waived ? `Waiver: ${waived.reason}` : null,
      });
      released.push({ number: cr.number, status: step.to });
    }
    await appendAudit(tx, {
      actor: releaser.username,
      action: "rule_set.release",
      entityType: "rule_set_version",
      entityId: `${site.code}/${version.version}`,
      after: {
        site: site.code,
        version: version.version,
        digest: version.digest,
        effectiveFrom: version.effectiveFrom.toISOString(),
        changeRequests: numbers,
        signature: {
          signer: releaser.username,
          printedName: releaser.displayName,
          meaning: RELEASE_MEANING,
          signedAt: signature!.signedAt,
          ...(waived ? { waiver: { reason: waived.reason, disagreements: waived.disagreements.map((d) => d.key) } } : {}),
        },
      },
      reason: waived ? `Waiver: ${waived.reason}` : null,
    });
    await notifyRelease(tx, { site: site.code, version: version.version, releasedBy: releaser.displayName, numbers }, requests, others, staleBefore);
    return { ok: true as const, site: site.code, version: version.version, digest: version.digest, effectiveFrom: version.effectiveFrom, released };
  });
}

interface DeviationToOpen extends TraceabilityDeviation {
  materialId: number;
  changeRequestId: number;
  changeRequest: string;
  shortfalls: string[];
}

/**
 * Deviations from required traceability at this release (ADR 036), before the version is made: a
 * released rule that meets its requirement closes the material's open deviation at the site; one that
 * falls below it with a deviation in its request replaces the open one; one that falls below it without
 * a deviation (the requirement was raised after review) or with one already past its last day is refused
 * (`conflict`, nothing written). Returns those to open (the
 * version records them; their rows are written once it exists). Requirements in force now, material
 * facts as this release leaves them (its master-data changes are applied already).
 */
async function settleDeviations(
  tx: Tx,
  site: { id: number; code: string },
  requests: readonly LockedRequest[],
  materialIds: ReadonlyMap<string, number>,
  actor: string,
): Promise<DeviationToOpen[]> {
  const tracking = requests.flatMap((cr) => cr.expanded.flatMap((c) => (c.kind === "tracking" && c.site === site.code ? [{ cr, c }] : [])));
  if (tracking.length === 0) return [];
  const [subjects, requirements, open] = await Promise.all([
    requirementSubjects(tx),
    databaseNow(tx).then((now) => requirementsInForce(tx, now)),
    openDeviations(tx, { siteId: site.id }),
  ]);
  const subjectOf = new Map(subjects.map((s) => [s.partNumber, s]));
  // The deviation's last day is a day at the site (as the justification report reads it).
  const [{ timeZone }] = (await tx.select({ timeZone: sites.timeZone }).from(sites).where(eq(sites.id, site.id))) as [{ timeZone: string }];
  const today = todayIn(await databaseNow(tx), timeZone);
  const toOpen: DeviationToOpen[] = [];
  for (const { cr, c } of tracking) {
    const subject = subjectOf.get(c.partNumber);
    const requirement = subject ? requirementFor(subject, requirements) : null;
    const gaps = requirement ? shortfalls(requirement, c.rule) : [];
    const carried = (cr.content.deviations ?? []).find((d) => d.material === c.partNumber && d.site === site.code);
    // Below the requirement in force now with no deviation signed for it: the requirement was raised
    // after the request was submitted (or its facts changed). Never released so: the request must be
    // rebased and carry a deviation, which the regulatory reviewer then attests (ADR 036).
    if (gaps.length && !carried)
      throw new DomainError(
        "conflict",
        `${cr.number} would release ${c.partNumber} at ${site.code} below the required traceability in force (${gaps.map(describeShortfall).join("; ")}) without a deviation: the requirement changed after it was reviewed. Rebase the request and add a deviation, or change the rule.`,
      );
    if (gaps.length && carried && deviationExpired(carried.expiresOn, today))
      throw new DomainError(
        "conflict",
        `${cr.number} carries a deviation for ${c.partNumber} at ${site.code} whose last day (${carried.expiresOn}) has passed: it cannot be opened. Rebase the request with a new deviation.`,
      );
    const closing =
      gaps.length === 0 ? `the rule released by ${cr.number} meets the required traceability` : carried ? `replaced by the deviation of ${cr.number}` : null;
    if (closing) {
      for (const o of open.filter((o) => o.partNumber === c.partNumber)) {
        await tx
          .update(traceabilityDeviations)
          .set({ closedAt: sql`now()`, closedReason: closing })
          .where(and(eq(traceabilityDeviations.id, o.id), isNull(traceabilityDeviations.closedAt)));
        await appendAudit(tx, {
          actor,
          action: "traceability_deviation.close",
          entityType: "traceability_deviation",
          entityId: String(o.id),
          before: { material: o.partNumber, site: o.site, changeRequest: o.changeRequest, expiresOn: o.expiresOn },
          after: { closedReason: closing },
          reason: closing,
        });
      }
    }
    if (gaps.length && carried)
      toOpen.push({
        ...carried,
        materialId: materialIds.get(c.partNumber)!,
        changeRequestId: cr.id,
        changeRequest: cr.number,
        shortfalls: gaps.map(describeShortfall),
      });
  }
  return toOpen;
}

/** The rows of the deviations a release opens, naming the version that records them (audited). */
async function openDeviationsOf(
  tx: Tx,
  site: { id: number; code: string },
  version: { id: number; version: number },
  deviations: readonly DeviationToOpen[],
  actor: string,
): Promise<void> {
  for (const d of deviations) {
    const [row] = await tx
      .insert(traceabilityDeviations)
      .values({
        materialId: d.materialId,
        siteId: site.id,
        changeRequestId: d.changeRequestId,
        ruleSetVersionId: version.id,
        reason: d.reason,
        riskAssessmentRef: d.riskAssessmentRef,
        compensatingControls: d.compensatingControls,
        expiresOn: d.expiresOn,
        shortfalls: d.shortfalls,
        createdAt: sql`now()`,
      })
      .returning({ id: traceabilityDeviations.id });
    await appendAudit(tx, {
      actor,
      action: "traceability_deviation.open",
      entityType: "traceability_deviation",
      entityId: String(row!.id),
      after: {
        material: d.material,
        site: site.code,
        changeRequest: d.changeRequest,
        version: version.version,
        reason: d.reason,
        riskAssessmentRef: d.riskAssessmentRef,
        compensatingControls: d.compensatingControls,
        expiresOn: d.expiresOn,
        shortfalls: d.shortfalls,
      },
      reason: `released by ${d.changeRequest}`,
    });
  }
}

/** How many disagreements a refusal names (all are counted). */
const NAMED_IN_REFUSAL = 20;

/**
 * A release must not leave known ERP/PLM/C-981 disagreements at the site unresolved unless the
 * release manager waives them with a reason (renewals never come here). The
 * disagreements are those of the reconciliation with the site's rules as this release leaves them.
 */
async function requireWaiverForDisagreements(
  tx: Tx,
  siteCode: string,
  requests: readonly LockedRequest[],
  waiver: string | undefined,
): Promise<{ reason: string; disagreements: { key: string; c981: string | null; erp: string | null; plm: string | null; systemOfRecord: string }[] } | null> {
  const overrides = new Map<string, { partNumber: string; site: string; trackingMode: TrackingMode }>();
  for (const cr of requests) {
    for (const c of cr.expanded) {
      if (c.kind === "tracking" && c.site === siteCode)
        overrides.set(`${c.partNumber}@${siteCode}`, { partNumber: c.partNumber, site: siteCode, trackingMode: c.rule.trackingMode });
    }
  }
  const left = disagreementsAt(reconcile(await loadReconciliationInput(tx, { ruleOverrides: overrides })), siteCode);
  if (left.length === 0) return null;
  if (!waiver) {
    const named = left.slice(0, NAMED_IN_REFUSAL).map(describeDisagreement);
    const more = left.length > named.length ? ` and ${left.length - named.length} more` : "";
    throw new DomainError(
      "conflict",
      `This release leaves ${left.length} known ERP/PLM disagreement(s) at ${siteCode} unresolved: ${named.join("; ")}${more}. Give a waiver (the reason they may remain) with your signature to release anyway.`,
      { waiver: [`Needed: ${left.length} disagreement(s) remain at ${siteCode} (see the reconciliation report)`] },
    );
  }
  return {
    reason: waiver,
    disagreements: left.map((r) => ({ key: r.key, c981: r.c981, erp: r.erp?.mode ?? null, plm: r.plm?.mode ?? null, systemOfRecord: r.systemOfRecord })),
  };
}

/** New materials and governed attributes take effect at a change request's first release, at every site. */
async function applyMasterDataChanges(tx: Tx, requests: readonly LockedRequest[], actor: string): Promise<void> {
  const families = new Map((await tx.select({ id: materialFamilies.id, code: materialFamilies.code }).from(materialFamilies)).map((f) => [f.code, f.id]));
  for (const cr of requests) {
    for (const c of cr.expanded) {
      if (c.kind === "new_material") {
        const [exists] = await tx.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, c.partNumber));
        if (exists) throw new DomainError("conflict", `${cr.number}: material ${c.partNumber} exists already (created meanwhile); rebase the change request.`);
        const after = {
          partNumber: c.partNumber,
          gtin: c.gtin,
          description: c.description,
          unitOfMeasure: c.unitOfMeasure,
          riskClass: c.riskClass,
          regulatoryFlags: c.regulatoryFlags,
          family: c.family,
        };
        await tx.insert(materials).values({ ...after, familyId: families.get(c.family)!, createdAt: sql`now()` });
        await appendAudit(tx, { actor, action: "material.create", entityType: "material", entityId: c.partNumber, after, reason: `released by ${cr.number}` });
        // EPCIS events waiting for this GTIN enter the genealogy with the material (ADR 014).
        if (c.gtin) await releaseQuarantine(tx, c.gtin, actor);
      } else if (c.kind === "attributes") {
        const [before] = await tx
          .select({ riskClass: materials.riskClass, regulatoryFlags: materials.regulatoryFlags, gtin: materials.gtin, familyId: materials.familyId })
          .from(materials)
          .where(eq(materials.partNumber, c.partNumber));
        const set = {
          ...(c.riskClass ? { riskClass: c.riskClass } : {}),
          ...(c.regulatoryFlags ? { regulatoryFlags: c.regulatoryFlags } : {}),
          ...(c.gtin ? { gtin: c.gtin } : {}),
          ...(c.family ? { familyId: families.get(c.family)! } : {}),
        };
        await tx.update(materials).set(set).where(eq(materials.partNumber, c.partNumber));
        await appendAudit(tx, {
          actor,
          action: "material.update",
          entityType: "material",
          entityId: c.partNumber,
          before,
          after: set,
          reason: `released by ${cr.number}`,
        });
        if (c.gtin) await releaseQuarantine(tx, c.gtin, actor);
      }
    }
  }
}

/**
 * Required traceability (ADR 035) takes effect at a change request's first release, plant-wide, from
 * that release's effective time: the target's open requirement is closed and the new one opened with
 * the request that set it. The table's trigger (migration 0036) lets nothing else change a row.
 */
async function applyRequirementChanges(tx: Tx, requests: readonly LockedRequest[], effectiveFrom: Date, actor: string): Promise<void> {
  const t = traceabilityRequirements;
  const seen = new Map<string, string>();
  for (const cr of requests) {
    for (const c of cr.expanded) {
      if (c.kind !== "traceability_requirement") continue;
      const key = targetKey(c.target);
      if (seen.has(key))
        throw new DomainError("invalid", "Two change requests change one requirement", {
          changeRequests: [`${seen.get(key)} and ${cr.number} both change the required traceability of ${describeTarget(c.target)}`],
        });
      seen.set(key, cr.number);
      const target = await requirementTargetIds(tx, c.target, cr.number);
      const open = and(
        isNull(t.effectiveTo),
        eq(t.scope, c.target.scope),
        target.materialId === null ? isNull(t.materialId) : eq(t.materialId, target.materialId),
        target.familyId === null ? isNull(t.familyId) : eq(t.familyId, target.familyId),
        target.riskClass === null ? isNull(t.riskClass) : eq(t.riskClass, target.riskClass),
        target.regulated === null ? isNull(t.regulated) : eq(t.regulated, target.regulated),
      );
      const closed = await tx.update(t).set({ effectiveTo: effectiveFrom }).where(open).returning({
        id: t.id,
        minimumTracking: t.minimumTracking,
        containerRequired: t.containerRequired,
        requiredScan: t.requiredScan,
        justification: t.justification,
        references: t.references,
        effectiveFrom: t.effectiveFrom,
      });
      for (const row of closed)
        if (row.effectiveFrom > effectiveFrom)
          throw new DomainError(
            "conflict",
            `${cr.number}: the required traceability of ${describeTarget(c.target)} in force starts after this release's effective time.`,
          );
      const after = {
        target: c.target,
        minimumTracking: c.minimumTracking,
        containerRequired: c.containerRequired,
        requiredScan: c.requiredScan,
        justification: c.justification,
        references: c.references,
      };
      const [inserted] = await tx
        .insert(t)
        .values({
          scope: c.target.scope,
          ...target,
          minimumTracking: c.minimumTracking,
          containerRequired: c.containerRequired,
          requiredScan: c.requiredScan,
          justification: c.justification,
          references: c.references,
          effectiveFrom,
          changeRequestId: cr.id,
          reason: `${cr.number} ${cr.title}`,
        })
        .returning({ id: t.id });
      await appendAudit(tx, {
        actor,
        action: "traceability_requirement.set",
        entityType: "traceability_requirement",
        entityId: key,
        before: closed.length ? { ids: closed.map((r) => r.id), ...closed.map(({ id: _id, effectiveFrom: _from, ...r }) => r)[0] } : null,
        after: { id: inserted!.id, ...after, effectiveFrom: effectiveFrom.toISOString() },
        reason: `released by ${cr.number}`,
      });
    }
  }
}

async function requirementTargetIds(tx: Tx, target: RequirementTarget, number: string) {
  if (target.scope === "material") {
    const [m] = await tx.select({ id: materials.id }).from(materials).where(eq(materials.partNumber, target.partNumber));
    if (!m) throw new DomainError("conflict", `${number}: material ${target.partNumber} no longer exists; rebase the change request.`);
    return { materialId: m.id, familyId: null, riskClass: null, regulated: null };
  }
  if (target.scope === "family") {
    const [f] = await tx.select({ id: materialFamilies.id }).from(materialFamilies).where(eq(materialFamilies.code, target.family));
    if (!f) throw new DomainError("conflict", `${number}: family ${target.family} no longer exists; rebase the change request.`);
    return { materialId: null, familyId: f.id, riskClass: null, regulated: null };
  }
  return { materialId: null, familyId: null, riskClass: target.riskClass, regulated: target.regulated };
}

async function applyAlternates(tx: Tx, siteId: number, siteCode: string, requests: readonly LockedRequest[]): Promise<void> {
  const byPart = new Map((await tx.select({ id: materials.id, partNumber: materials.partNumber }).from(materials)).map((m) => [m.partNumber, m.id]));
  for (const cr of requests) {
    for (const c of cr.expanded) {
      if (c.kind !== "alternates" || c.site !== siteCode) continue;
      const [line] = await tx
        .select({ id: bomLines.id })
        .from(bomLines)
        .where(
          and(
            eq(bomLines.siteId, siteId),
            eq(bomLines.parentMaterialId, byPart.get(c.partNumber)!),
            eq(bomLines.componentMaterialId, byPart.get(c.component)!),
          ),
        );
      if (!line) throw new DomainError("conflict", `${cr.number}: the BOM line ${c.partNumber} / ${c.component} at ${siteCode} no longer exists; rebase it.`);
      const before = await tx.select({ materialId: bomLineAlternates.materialId }).from(bomLineAlternates).where(eq(bomLineAlternates.bomLineId, line.id));
      await tx.delete(bomLineAlternates).where(eq(bomLineAlternates.bomLineId, line.id));
      if (c.alternates.length) {
        await tx.insert(bomLineAlternates).values(c.alternates.map((alt, i) => ({ bomLineId: line.id, materialId: byPart.get(alt)!, priority: i + 1 })));
      }
      await appendAudit(tx, {
        actor: "system:release",
        action: "bom_line.set_alternates",
        entityType: "bom_line",
        entityId: `${siteCode}/${c.partNumber}/${c.component}`,
        before: { alternates: before.length },
        after: { alternates: c.alternates },
        reason: `released by ${cr.number}`,
      });
    }
  }
}

/**
 * After a release (ADR 032), in its transaction: each released request's author and approvers are
 * told, and the authors of open requests that are stale now where they were not before.
 */
async function notifyRelease(
  tx: Tx,
  release: { site: string; version: number; releasedBy: string; numbers: string[] },
  requests: readonly LockedRequest[],
  others: readonly { id: number; number: string; title: string; authorId: number }[],
  staleBefore: ReadonlyMap<number, { site: string }[]>,
): Promise<void> {
  for (const cr of requests) {
    const approvers = await tx
      .select({ id: signatures.signerId })
      .from(signatures)
      .where(and(eq(signatures.changeRequestId, cr.id), eq(signatures.meaning, "approved"), isNull(signatures.voidedAt)));
    await notify(tx, [cr.authorId, ...approvers.map((a) => a.id)], {
      kind: "released",
      request: { number: cr.number, title: cr.title },
      site: release.site,
      version: release.version,
      releasedBy: release.releasedBy,
    });
  }
  const staleAfter = await staleness(
    tx,
    others.map((o) => o.id),
  );
  const [now] = await tx.execute<{ at: string }>(sql`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') as at`);
  for (const other of others) {
    const before = new Set((staleBefore.get(other.id) ?? []).map((s) => s.site));
    const newly = (staleAfter.get(other.id) ?? []).filter((s) => !before.has(s.site)).map((s) => s.site);
    if (newly.length === 0) continue;
    await notify(tx, [other.authorId], {
      kind: "made_stale",
      request: { number: other.number, title: other.title },
      releasedAt: `${release.site} v${release.version}, ${now!.at}`,
      releasedBy: release.releasedBy,
      sites: newly,
      by: release.numbers,
    });
  }
}
