import { and, eq, isNull, sql } from "drizzle-orm";
import { changeRequestBases, changeRequests, changeRequestTargets, sessions, signatureFindingAcknowledgements, signatures, users } from "../../db/schema";
import { allApprovalsGiven, separationOfDutiesProblem } from "../../policies/approval";
import type { Role } from "../../policies/ability";
import { expandChanges, signedContentHash, touchedSites, type Catalog, type ExpandedChange } from "../domain/change-request";
import { transition, type ChangeRequestEvent, type ChangeRequestStatus } from "../domain/change-request-lifecycle";
import { requestBase, requestBaseDigest, type RequestBase } from "../domain/request-base";
import { approvalsOf, loadCatalog, reviewDueDefault } from "../queries/change-request-context.server";
import { isCalendarDate } from "../domain/review-due";
import { canonicalTimeZone } from "../domain/time-zone";
import { describeStale, loadBaseWorld, siteBases, staleSitesOf, type SiteBase } from "../queries/request-bases.server";
import { CONTINUOUS_SIGNING_MINUTES } from "../queries/signing-session.server";
import {
  changeRequestContentSchema,
  signatureSchema,
  type ChangeRequestContent,
  type ChangeRequestContentInput,
  type SignatureInput,
} from "../schemas/change-request";
import type { Db, Tx } from "../utils/db.server";
import { DomainError, type Refusal } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { citationProblems, reconcile, unresolvedCitations } from "../domain/reconciliation";
import { loadReconciliationInput } from "../queries/reconciliation.server";
import { verifyPassword } from "../utils/password.server";
import { passwordChangeDue } from "../domain/password-policy";
import { readEnv } from "../utils/env.server";
import { raiseAlert } from "./security-alerts.server";
import { FAILED_PASSWORD_CHECK_WINDOW_MINUTES, lockAndCountFailedPasswordChecks, MAX_FAILED_PASSWORD_CHECKS } from "./password-checks.server";
import { analysisCurrency, storedAnalysis } from "../queries/impact-analysis-currency.server";
import { acknowledgementProblems, describeFindingKey, type FindingToAcknowledge } from "../domain/impact-analysis/acknowledgements";
import { appendAudit } from "./audit.server";
import { notify, reviewRecipients } from "./notifications.server";
import { USERNAME_REQUIRED_MESSAGE } from "../schemas/signing";
import { openBlockingThreads } from "../queries/change-request-comments.server";
import { fieldLabel } from "../domain/change-request-fields";
import { blockingRefusal } from "../domain/comment-threads";
import { belowRequirementBeforeOrAfter, deviationProblems, indexTrackingChanges, subjectsAfter } from "../domain/traceability-deviations";
import { requirementSubjects, requirementsInForce } from "../queries/traceability-requirements.server";
import { databaseNow } from "../utils/clock.server";
import { DEVIATION_ATTESTATION_TEXT, requiredAttestations } from "../../policies/approval";

export interface Person {
  id: number;
  username: string;
  displayName: string;
}

/** The refusal when the user name given is not the signer's (issue 23: name the real problem). */
export const signedInAsMessage = (username: string) => `You are signed in as ${username}: sign with your own user name`;

/** Signatures share their lockout with the current password of a password change (app/services/password-checks.server.ts). */
export const MAX_FAILED_SIGNATURES = MAX_FAILED_PASSWORD_CHECKS;
export const FAILED_SIGNATURE_WINDOW_MINUTES = FAILED_PASSWORD_CHECK_WINDOW_MINUTES;

function parseContent(input: unknown): ChangeRequestContent {
  const parsed = changeRequestContentSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The change request has problems", fieldErrorsFromIssues(parsed.error.issues));
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// What the change request is compared with: the catalog, the rules in force, each site's base
// (read through app/queries/change-request-context.server.ts and request-bases.server.ts).

interface Prepared {
  content: ChangeRequestContent;
  expanded: ExpandedChange[];
  /** Per touched site: its version and rules digest now, and what the request reads there. */
  bases: (SiteBase & { touched: RequestBase; touchedDigest: string })[];
  catalog: Catalog;
}

async function prepare(tx: Tx, input: unknown): Promise<Prepared> {
  const content = parseContent(input);
  const catalog = await loadCatalog(tx);
  const expansion = expandChanges(content.changes, catalog);
  if (!expansion.ok) throw new DomainError("invalid", "The proposed changes have problems", expansion.fields);
  await checkCitations(tx, content, expansion.changes);
  const [all, world] = await Promise.all([siteBases(tx), loadBaseWorld(tx)]);
  const bases = touchedSites(expansion.changes, [...catalog.sites.keys()]).map((s) => {
    const touched = requestBase(expansion.changes, s, world);
    return { ...all.get(s)!, touched, touchedDigest: requestBaseDigest(expansion.changes, touched) };
  });
  return { content, expanded: expansion.changes, bases, catalog };
}

/**
 * Each disagreement a change request cites must exist now, be one the request changes, and be
 * resolved by it: with its tracking changes applied, C-981 says what the system of record says
 *.
 */
async function checkCitations(tx: Tx, content: ChangeRequestContent, expanded: readonly ExpandedChange[]): Promise<void> {
  const cited = content.resolvesDisagreements ?? [];
  if (cited.length === 0) return;
  const tracking = expanded.flatMap((c) => (c.kind === "tracking" ? [c] : []));
  const creates = expanded.flatMap((c) => (c.kind === "new_material" ? [c.partNumber] : []));
  const overrides = new Map(tracking.map((c) => [`${c.partNumber}@${c.site}`, { partNumber: c.partNumber, site: c.site, trackingMode: c.rule.trackingMode }]));
  const [report, after] = await Promise.all([
    loadReconciliationInput(tx).then(reconcile),
    loadReconciliationInput(tx, { ruleOverrides: overrides }).then(reconcile),
  ]);
  const problems = citationProblems(
    cited,
    { tracking: tracking.map((c) => ({ partNumber: c.partNumber, site: c.site })), creates },
    new Set(report.rows.map((r) => r.key)),
  );
  const named = new Set(problems.map((p) => p.slice(0, p.indexOf(":"))));
  problems.push(
    ...unresolvedCitations(
      cited.filter((key) => !named.has(key)),
      after,
      creates,
    ),
  );
  if (problems.length) throw new DomainError("invalid", "The cited disagreements have problems", { resolvesDisagreements: problems });
}

async function writeBasesAndTargets(tx: Tx, changeRequestId: number, prepared: Prepared): Promise<void> {
  await tx.delete(changeRequestBases).where(eq(changeRequestBases.changeRequestId, changeRequestId));
  await tx.delete(changeRequestTargets).where(eq(changeRequestTargets.changeRequestId, changeRequestId));
  if (prepared.bases.length) {
    await tx
      .insert(changeRequestBases)
      .values(
        prepared.bases.map((b) => ({ changeRequestId, siteId: b.siteId, baseVersionId: b.versionId, baseRulesDigest: b.rulesDigest, touched: b.touched })),
      );
  }
  const targets = new Map<string, { materialId: number; siteId: number }>();
  for (const c of prepared.expanded) {
    // Required traceability is plant-wide policy, no material's rule: it targets no material at a site.
    if (c.kind === "traceability_requirement") continue;
    // A material this request creates has no id yet: nothing else can target it before release.
    const materialId = prepared.catalog.materials.get(c.partNumber)?.id;
    if (materialId === undefined || c.kind === "new_material") continue;
    const siteCodes = c.kind === "tracking" || c.kind === "alternates" ? [c.site] : [...prepared.catalog.sites.keys()];
    for (const code of siteCodes) {
      const siteId = prepared.catalog.sites.get(code)!;
      targets.set(`${materialId}|${siteId}`, { materialId, siteId });
    }
  }
  if (targets.size) await tx.insert(changeRequestTargets).values([...targets.values()].map((t) => ({ changeRequestId, ...t })));
}

function hashFor(number: string, revision: number, prepared: Prepared): string {
  return signedContentHash({
    number,
    revision,
    content: prepared.content,
    expandedChanges: prepared.expanded,
    // The per-request base is what staleness compares (ADR 006): the signatures bind it.
    bases: prepared.bases.map((b) => ({ site: b.site, rulesDigest: b.rulesDigest, touchedDigest: b.touchedDigest })),
  });
}

async function voidSignatures(tx: Tx, changeRequestId: number, reason: string): Promise<number> {
  const voided = await tx
    .update(signatures)
    .set({ voidedAt: sql`now()`, voidReason: reason })
    .where(and(eq(signatures.changeRequestId, changeRequestId), isNull(signatures.voidedAt)))
    .returning({ id: signatures.id });
  return voided.length;
}

interface Locked {
  id: number;
  number: string;
  title: string;
  status: ChangeRequestStatus;
  authorId: number;
  revision: number;
  rowVersion: number;
  contentHash: string;
  content: unknown;
  expandedChanges: unknown;
  reviewDueOn: string | null;
}

/** The change request, row-locked for this transaction, checked against the version the form was rendered from. */
async function lockForChange(tx: Tx, number: string, expectedRowVersion: number | null): Promise<Locked> {
  const [row] = await tx
    .select({
      id: changeRequests.id,
      number: changeRequests.number,
      title: changeRequests.title,
      status: changeRequests.status,
      authorId: changeRequests.authorId,
      revision: changeRequests.revision,
      rowVersion: changeRequests.rowVersion,
      contentHash: changeRequests.contentHash,
      content: changeRequests.content,
      expandedChanges: changeRequests.expandedChanges,
      reviewDueOn: changeRequests.reviewDueOn,
    })
    .from(changeRequests)
    .where(eq(changeRequests.number, number))
    .for("update");
  if (!row) throw new DomainError("not_found", `change request ${number} does not exist`);
  if (expectedRowVersion !== null && row.rowVersion !== expectedRowVersion) {
    throw new DomainError(
      "conflict",
      `${number} was changed by someone else while you had it open (now ${row.status.replace("_", " ")}); reload it and try again.`,
    );
  }
  return row;
}

function step(locked: Locked, event: ChangeRequestEvent, ctx = {}): ChangeRequestStatus {
  const result = transition(locked.status, event, ctx);
  if (!result.ok) throw new DomainError("conflict", `${locked.number}: ${result.message}.`);
  return result.to;
}

/** The status change itself, guarded in SQL: if the row moved meanwhile, nothing changes and the caller answers 409. */
async function guardedUpdate(tx: Tx, locked: Locked, to: ChangeRequestStatus, values: Partial<typeof changeRequests.$inferInsert> = {}): Promise<void> {
  const updated = await tx
    .update(changeRequests)
    .set({ ...values, status: to, rowVersion: locked.rowVersion + 1, updatedAt: sql`now()` })
    .where(and(eq(changeRequests.id, locked.id), eq(changeRequests.status, locked.status), eq(changeRequests.rowVersion, locked.rowVersion)))
    .returning({ id: changeRequests.id });
  if (updated.length === 0) throw new DomainError("conflict", `${locked.number} was changed meanwhile; reload it and try again.`);
}

function requireAuthor(locked: Locked, person: Person, what: string): void {
  // No exemption, not even for administrators: only the author changes what they proposed.
  if (locked.authorId !== person.id) throw new DomainError("forbidden", `Only the author of ${locked.number} can ${what} it.`);
}

async function refuseIfStale(tx: Tx, locked: Locked, what: string): Promise<void> {
  const stale = await staleSitesOf(tx, locked.id);
  if (stale.length) {
    throw new DomainError(
      "conflict",
      `${locked.number} is stale: what it reads at ${stale.map((s) => s.site).join(", ")} changed since it was written — ${describeStale(stale)}. Rebase it before you ${what}.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Use cases

export async function createChangeRequest(db: Db, author: Person, input: ChangeRequestContentInput | Record<string, unknown>): Promise<{ number: string }> {
  return db.transaction(async (tx) => {
    const prepared = await prepare(tx, input);
    const [{ n }] = (await tx.execute<{ n: string }>(sql`select nextval('change_request_number_seq')::text as n`)) as unknown as [{ n: string }];
    const number = `CR-${n.padStart(4, "0")}`;
    const contentHash = hashFor(number, 1, prepared);
    const [created] = await tx
      .insert(changeRequests)
      .values({
        number,
        title: prepared.content.title,
        status: "draft",
        authorId: author.id,
        content: prepared.content,
        expandedChanges: prepared.expanded,
        contentHash,
        revision: 1,
        rowVersion: 1,
        createdAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .returning({ id: changeRequests.id });
    await writeBasesAndTargets(tx, created!.id, prepared);
    await appendAudit(tx, {
      actor: author.username,
      action: "change_request.create",
      entityType: "change_request",
      entityId: number,
      after: { status: "draft", revision: 1, contentHash, content: prepared.content, expandedChanges: prepared.expanded, bases: prepared.bases },
    });
    return { number };
  });
}

/** An edit of the content: a new revision against today's bases; any signature given is voided. */
export async function updateChangeRequest(
  db: Db,
  author: Person,
  number: string,
  expectedRowVersion: number,
  input: ChangeRequestContentInput | Record<string, unknown>,
): Promise<void> {
  await db.transaction(async (tx) => {
    const locked = await lockForChange(tx, number, expectedRowVersion);
    requireAuthor(locked, author, "edit");
    const to = step(locked, "edit");
    const prepared = await prepare(tx, input);
    const revision = locked.revision + 1;
    const contentHash = hashFor(number, revision, prepared);
    const voided = await voidSignatures(tx, locked.id, `content edited (revision ${revision})`);
    await guardedUpdate(tx, locked, to, {
      title: prepared.content.title,
      content: prepared.content,
      expandedChanges: prepared.expanded,
      contentHash,
      revision,
    });
    await writeBasesAndTargets(tx, locked.id, prepared);
    await appendAudit(tx, {
      actor: author.username,
      action: "change_request.edit",
      entityType: "change_request",
      entityId: number,
      before: { status: locked.status, revision: locked.revision, contentHash: locked.contentHash, content: locked.content },
      after: { status: to, revision, contentHash, content: prepared.content, expandedChanges: prepared.expanded, signaturesVoided: voided },
    });
  });
}

/**
 * Submit for review: families are expanded again against today's catalog. The review's due date
 * (ADR 031) is the author's `reviewDueOn` (not before today in the author's `timeZone`, the c981_tz
 * cookie; UTC without one) or, without one, the default by
 * what the request needs (reviewDueDefault). It is workflow metadata: not in the signed content or
 * its hash, but in the submit's audit row.
 */
export async function submitChangeRequest(
  db: Db,
  author: Person,
  number: string,
  expectedRowVersion: number,
  options: { reviewDueOn?: string; timeZone?: string } = {},
): Promise<void> {
  await db.transaction(async (tx) => {
    const locked = await lockForChange(tx, number, expectedRowVersion);
    requireAuthor(locked, author, "submit");
    const to = step(locked, "submit");
    await refuseIfStale(tx, locked, "submit it");
    const prepared = await prepare(tx, locked.content);
    const contentHash = hashFor(number, locked.revision, prepared);
    const zone = canonicalTimeZone(options.timeZone ?? "UTC") ?? "UTC";
    const due = await reviewDueDefault(tx, locked.id, prepared.expanded, zone);
    await refuseBelowRequirement(tx, prepared, due.today);
    const reviewDueOn = options.reviewDueOn ?? due.defaultDueOn;
    if (!isCalendarDate(reviewDueOn)) throw new DomainError("invalid", "The review due date is not a date", { reviewDueOn: ["Give the date as YYYY-MM-DD"] });
    if (reviewDueOn < due.today) {
      throw new DomainError("invalid", "The review due date is in the past", { reviewDueOn: [`Choose today (${due.today}, ${zone}) or a later day`] });
    }
    if (reviewDueOn > due.latestDueOn) {
      throw new DomainError("invalid", "The review due date is too far ahead", {
        reviewDueOn: [`Choose ${due.latestDueOn} (one year from today, ${zone}) or an earlier day`],
      });
    }
    await guardedUpdate(tx, locked, to, { expandedChanges: prepared.expanded, contentHash, reviewDueOn });
    await writeBasesAndTargets(tx, locked.id, prepared);
    await appendAudit(tx, {
      actor: author.username,
      action: "change_request.submit",
      entityType: "change_request",
      entityId: number,
      before: { status: locked.status, reviewDueOn: locked.reviewDueOn },
      after: { status: to, contentHash, expandedChanges: prepared.expanded, reviewDueOn },
    });
    // The reviewers it needs are told in this transaction (ADR 032): a failed submit tells no one.
    const { required } = await approvalsOf(tx, locked.id, prepared.expanded);
    await notify(tx, await reviewRecipients(tx, { id: locked.id, authorId: locked.authorId, requiredRoles: required.map((r) => r.role) }), {
      kind: "review_requested",
      request: { number, title: locked.title },
      author: author.displayName,
      sites: prepared.bases.map((b) => b.site),
    });
  });
}

/**
 * Required traceability (ADR 036): a tracking change that leaves a material at a site below the
 * requirement in force — for the material as it is or as the request leaves it, the stricter — needs a deviation for that (material, site) in the signed content, and a
 * deviation covers only such a pair; its expiry is not before the author's `today`.
 */
async function refuseBelowRequirement(tx: Tx, prepared: Prepared, today: string): Promise<void> {
  const [subjects, requirements] = await Promise.all([requirementSubjects(tx), databaseNow(tx).then((now) => requirementsInForce(tx, now))]);
  const below = belowRequirementBeforeOrAfter(
    indexTrackingChanges(prepared.content.changes, prepared.expanded),
    new Map(subjects.map((s) => [s.partNumber, s])),
    subjectsAfter(subjects, prepared.expanded),
    requirements,
  );
  const fields = deviationProblems({ below, deviations: prepared.content.deviations ?? [], today });
  if (Object.keys(fields).length)
    throw new DomainError("invalid", "The request falls below the required traceability without a deviation, or carries a deviation it does not need", fields);
}

/** Rewrite against today's rules: the diff is recomputed and signatures are voided. */
export async function rebaseChangeRequest(db: Db, author: Person, number: string, expectedRowVersion: number): Promise<void> {
  await db.transaction(async (tx) => {
    const locked = await lockForChange(tx, number, expectedRowVersion);
    requireAuthor(locked, author, "rebase");
    const to = step(locked, "rebase");
    const prepared = await prepare(tx, locked.content);
    const revision = locked.revision + 1;
    const contentHash = hashFor(number, revision, prepared);
    const voided = await voidSignatures(tx, locked.id, `rebased (revision ${revision})`);
    await guardedUpdate(tx, locked, to, { expandedChanges: prepared.expanded, contentHash, revision });
    await writeBasesAndTargets(tx, locked.id, prepared);
    await appendAudit(tx, {
      actor: author.username,
      action: "change_request.rebase",
      entityType: "change_request",
      entityId: number,
      before: { status: locked.status, revision: locked.revision, contentHash: locked.contentHash },
      after: { status: to, revision, contentHash, bases: prepared.bases, signaturesVoided: voided },
    });
  });
}

export async function reviseChangeRequest(db: Db, author: Person, number: string, expectedRowVersion: number): Promise<void> {
  await simpleTransition(db, author, number, expectedRowVersion, "revise", "revise");
}

export async function withdrawChangeRequest(db: Db, author: Person, number: string, expectedRowVersion: number, reason: string): Promise<void> {
  if (reason.trim().length < 3) throw new DomainError("invalid", "Give a reason", { reason: ["Give a reason (at least 3 characters)"] });
  await simpleTransition(db, author, number, expectedRowVersion, "withdraw", "withdraw", reason);
}

async function simpleTransition(db: Db, author: Person, number: string, expectedRowVersion: number, event: ChangeRequestEvent, what: string, reason?: string) {
  await db.transaction(async (tx) => {
    const locked = await lockForChange(tx, number, expectedRowVersion);
    requireAuthor(locked, author, what);
    const to = step(locked, event);
    await guardedUpdate(tx, locked, to);
    await appendAudit(tx, {
      actor: author.username,
      action: `change_request.${event}`,
      entityType: "change_request",
      entityId: number,
      before: { status: locked.status },
      after: { status: to },
      reason: reason ?? null,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Electronic signatures

export interface Signer extends Person {
  roles: readonly Role[];
  /** SHA-256 of the signing session's id: a continuous series of signings asks only for the password. */
  sessionIdHash: string;
}

export type SignResult = { ok: true; status: ChangeRequestStatus; signatureId: number } | Refusal;

/**
 * Signs a change request (approve, reject, request changes) — 21 CFR 11.50/11.70/11.200. The
 * password is asked again; the user name too at the session's first signing and whenever the
 * series of signings was interrupted. A wrong password signs nothing and is audited; repeated
 * failures lock signing for a while.
 */
export async function signChangeRequest(db: Db, signer: Signer, number: string, rawInput: SignatureInput | Record<string, unknown>): Promise<SignResult> {
  const parsed = signatureSchema.safeParse(rawInput);
  // Returned, not thrown: a form problem comes back in the same Refusal shape as a refused
  // signature below, the one shape the signature dialog (and its callers' tests) handle.
  if (!parsed.success) return { ok: false, fields: fieldErrorsFromIssues(parsed.error.issues) };
  const input = parsed.data;

  const credentials = await checkSignatureCredentials(db, signer, input, { changeRequest: number, meaning: input.meaning });
  // Returned, not thrown: the failed signature's audit row (and lockout count) is committed already.
  if (!credentials.ok) return credentials;

  return db.transaction(async (tx) => {
    const locked = await lockForChange(tx, number, input.rowVersion);
    const event: ChangeRequestEvent = input.meaning === "approved" ? "approve" : input.meaning === "rejected" ? "reject" : "request_changes";
    // Fail early with the lifecycle's own message (e.g. "cannot approve a change request that is draft").
    step(locked, event, { allRequiredApprovalsGiven: false });
    await refuseIfStale(tx, locked, "sign it");
    // Comment threads a reviewer marked blocking hold back the approval until resolved (ADR 030).
    if (input.meaning === "approved") {
      const blocking = await openBlockingThreads(tx, locked.id);
      if (blocking.length > 0) {
        const message = blockingRefusal(blocking, fieldLabel);
        throw new DomainError("conflict", message, { meaning: [message] });
      }
    }
    // A reviewer signs together with the impact analysis they saw; it must still be current.
    const currency = await analysisCurrency(tx, number);
    if (!currency.current) {
      const message = `${currency.reason} Run a fresh impact analysis, review it, then sign.`;
      throw new DomainError("conflict", message, { analysisHash: [message] });
    }
    if (currency.analysis.sha256 !== input.analysisHash) {
      const message = "A newer impact analysis exists than the one on your page: review it, then sign.";
      throw new DomainError("conflict", message, { analysisHash: [message] });
    }
    // The replay stored beside that analysis is bound the same way (ADR 041): a page that showed one names it.
    const replayHash = currency.analysis.replaySha256;
    if (input.replayHash !== undefined && input.replayHash !== replayHash) {
      const message = "The replay on your page is not the one stored with the current impact analysis: reload, review it, then sign.";
      throw new DomainError("conflict", message, { analysisHash: [message] });
    }
    const expanded = locked.expandedChanges as ExpandedChange[];
    const approvals = await approvalsOf(tx, locked.id, expanded);
    const sod = separationOfDutiesProblem({
      signerId: signer.id,
      authorId: locked.authorId,
      role: input.role,
      signerRoles: signer.roles,
      required: approvals.required,
      given: input.meaning === "approved" ? approvals.given : approvals.given.filter((g) => g.role !== input.role),
    });
    if (sod) throw new DomainError("forbidden", sod, { role: [sod] });
    // One signer, one live signature per revision: an approval followed by "changes
    // requested" from the same person would leave both standing.
    const [already] = await tx
      .select({ meaning: signatures.meaning, role: signatures.role })
      .from(signatures)
      .where(
        and(
          eq(signatures.changeRequestId, locked.id),
          eq(signatures.signerId, signer.id),
          eq(signatures.revision, locked.revision),
          isNull(signatures.voidedAt),
        ),
      )
      .limit(1);
    if (already) {
      const message = `You have signed this revision already (${already.meaning.replace("_", " ")} as ${already.role.replace("_", " ")}): one signer, one live signature.`;
      throw new DomainError("forbidden", message, { meaning: [message] });
    }

    const acknowledged = await checkAcknowledgements(tx, number, currency.analysis.id, input.meaning, input.acknowledged);
    // The regulatory reviewer's approval of a request carrying deviations also attests them (ADR 036):
    // one signature, both meanings recorded.
    const attestations = requiredAttestations({
      meaning: input.meaning,
      role: input.role,
      carriesDeviations: ((locked.content as ChangeRequestContent).deviations ?? []).length > 0,
    });
    if (attestations.length && !input.attestDeviation) {
      const message = `This request carries deviations from required traceability: tick "${DEVIATION_ATTESTATION_TEXT}" to approve it as regulatory reviewer. Nothing was signed.`;
      throw new DomainError("invalid", message, { attestDeviation: [message] });
    }

    const given = input.meaning === "approved" ? [...approvals.given, { signerId: signer.id, role: input.role }] : approvals.given;
    const to = step(locked, event, { allRequiredApprovalsGiven: allApprovalsGiven(approvals.required, given) });
    const [signature] = await tx
      .insert(signatures)
      .values({
        changeRequestId: locked.id,
        signerId: signer.id,
        printedName: signer.displayName,
        role: input.role,
        meaning: input.meaning,
        signedAt: sql`date_trunc('milliseconds', now())`,
        contentHash: locked.contentHash,
        revision: locked.revision,
        analysisHash: input.analysisHash,
        replayHash,
        comment: input.comment || null,
        attestations,
      })
      .returning({ id: signatures.id, signedAt: signatures.signedAt });
    if (acknowledged.length) {
      await tx.insert(signatureFindingAcknowledgements).values(
        acknowledged.map((f) => ({
          signatureId: signature!.id,
          findingKey: f.key,
          findingCode: f.code,
          partNumber: f.partNumber,
          site: f.site,
          severity: f.severity,
          count: f.count,
        })),
      );
    }
    await guardedUpdate(tx, locked, to);
    await tx.update(sessions).set({ lastSignatureAt: sql`now()` }).where(eq(sessions.idHash, signer.sessionIdHash));
    await appendAudit(tx, {
      actor: signer.username,
      action: "change_request.sign",
      entityType: "change_request",
      entityId: number,
      before: { status: locked.status },
      after: {
        status: to,
        signature: {
          id: signature!.id,
          signer: signer.username,
          printedName: signer.displayName,
          role: input.role,
          meaning: input.meaning,
          signedAt: signature!.signedAt,
          contentHash: locked.contentHash,
          revision: locked.revision,
          analysisHash: input.analysisHash,
          replayHash,
          comment: input.comment || null,
          attestations,
          acknowledgedFindings: acknowledged.map((f) => ({ key: f.key, severity: f.severity, count: f.count })),
        },
      },
    });
    // The author hears of changes requested and of the last approval (ADR 032), in this transaction.
    if (input.meaning === "changes_requested") {
      await notify(tx, [locked.authorId], {
        kind: "changes_requested",
        request: { number, title: locked.title },
        reviewer: signer.displayName,
        comment: input.comment || null,
      });
    } else if (to === "approved") {
      await notify(tx, [locked.authorId], { kind: "approved", request: { number, title: locked.title } });
    }
    return { ok: true as const, status: to, signatureId: signature!.id };
  });
}

/**
 * The findings the signature acknowledges, checked against the analysis it signs with (ADR 029):
 * an approval must acknowledge every critical and warning finding; "changes requested" and
 * "rejected" need none (they stop the change), but what they do acknowledge is recorded. An
 * acknowledgement naming no such finding of that analysis is refused.
 */
async function checkAcknowledgements(
  tx: Tx,
  number: string,
  analysisId: number,
  meaning: SignatureInput["meaning"],
  keys: readonly string[],
): Promise<FindingToAcknowledge[]> {
  const stored = await storedAnalysis(tx, number, analysisId);
  if (!stored) throw new DomainError("conflict", "The impact analysis you sign with is gone: reload and review it.");
  const { missing, unknown, acknowledged } = acknowledgementProblems(stored.report, keys);
  if (unknown.length) {
    const message = `Not a critical or warning finding of the analysis you sign with: ${unknown.join(", ")}. Reload it and review it.`;
    throw new DomainError("invalid", message, { acknowledged: [message] });
  }
  if (meaning === "approved" && missing.length) {
    const message = `Acknowledge every critical and warning finding before you approve: not acknowledged ${missing.map(describeFindingKey).join(", ")}.`;
    throw new DomainError("invalid", message, { acknowledged: [message] });
  }
  return acknowledged;
}

/**
 * The signature components (21 CFR 11.200(a)): the password again, and the user name too at the
 * session's first signature or after a break in the series. A failure signs nothing and is
 * audited; repeated failures lock signing for a while.
 */
export async function checkSignatureCredentials(
  db: Db,
  signer: Signer,
  input: { username?: string; password: string },
  context: Record<string, unknown>,
): Promise<{ ok: true } | Refusal> {
  // Counted, judged and recorded under an advisory lock per signer: parallel attempts are judged
  // one after another, so the limit holds however many arrive at once.
  return db.transaction(async (tx) => {
    const failures = { n: await lockAndCountFailedPasswordChecks(tx, signer) };
    if ((failures?.n ?? 0) >= MAX_FAILED_SIGNATURES) {
      // Returned, not thrown: the lockout is a refused signature like the failures it counts, and
      // the forms answer it in that one Refusal shape (423 with its message at the top).
      return {
        ok: false as const,
        locked: true,
        fields: { form: [`Signing is locked for ${FAILED_SIGNATURE_WINDOW_MINUTES} minutes after ${MAX_FAILED_SIGNATURES} failed attempts.`] },
      };
    }

    const [session] = await tx
      .select({ lastSignatureAt: sessions.lastSignatureAt })
      .from(sessions)
      .where(and(eq(sessions.idHash, signer.sessionIdHash), isNull(sessions.endedAt)));
    if (!session) throw new DomainError("forbidden", "Your session has ended; sign in again.");
    const continuous = session.lastSignatureAt !== null && Date.now() - session.lastSignatureAt.getTime() < CONTINUOUS_SIGNING_MINUTES * 60_000;
    const [user] = await tx
      .select({ passwordHash: users.passwordHash, active: users.active, mustChange: users.passwordMustChange, changedAt: users.passwordChangedAt })
      .from(users)
      .where(eq(users.id, signer.id));
    // A password an administrator set (or one past its maximum age) signs nothing: §11.300(b),
    // §11.200(a)(3) — otherwise whoever chose it could sign as its owner (ADR 020).
    const due = user ? passwordChangeDue({ mustChange: user.mustChange, changedAt: user.changedAt }, new Date(), readEnv().C981_PASSWORD_MAX_AGE_DAYS) : null;
    if (due) {
      const message =
        due === "expired"
          ? "Your password is older than the maximum age: change it (Change password, at the top of the page) before you sign. Nothing was signed."
          : "Your password was set by an administrator: change it (Change password, at the top of the page) before you sign. Nothing was signed.";
      await appendAudit(tx, {
        actor: signer.username,
        action: "signature.refused",
        entityType: "user",
        entityId: signer.username,
        after: { ...context, cause: `password_change_due:${due}` },
      });
      // Returned, not thrown: a throw would roll back the signature.refused audit row above.
      return { ok: false as const, fields: { form: [message] } };
    }
    const usernameOk = continuous
      ? input.username === undefined || input.username === "" || input.username === signer.username
      : input.username === signer.username;
    const passwordOk = Boolean(user?.active) && (await verifyPassword(input.password, user!.passwordHash));
    if (!usernameOk || !passwordOk) {
      await appendAudit(tx, {
        actor: signer.username,
        action: "signature.failed",
        entityType: "user",
        entityId: signer.username,
        after: { ...context, cause: !usernameOk ? "user_name" : "password" },
      });
      if ((failures?.n ?? 0) + 1 >= MAX_FAILED_SIGNATURES) {
        await raiseAlert(tx, {
          kind: "signature_failures",
          username: signer.username,
          detail: { failures: (failures?.n ?? 0) + 1, windowMinutes: FAILED_SIGNATURE_WINDOW_MINUTES },
        });
      }
      const fields: Record<string, string[]> = {};
      // The real problem, named: another person's user name, or none where one is required.
      if (!usernameOk) fields.username = [input.username ? signedInAsMessage(signer.username) : USERNAME_REQUIRED_MESSAGE];
      if (!passwordOk) fields.password = ["Wrong password: nothing was signed"];
      // Returned, not thrown: a throw would roll back the signature.failed audit row (the
      // lockout's count) and the alert above.
      return { ok: false as const, fields };
    }
    return { ok: true as const };
  });
}
