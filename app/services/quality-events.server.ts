/**
 * Quality events, the write model (ADR 034): raise one — every reference resolved to a trace item (or a
 * material) at the event's site, with the rule in force for it there at the raise time — and change its
 * status and disposition. Each use case is one transaction with its audit row; a refusal changes nothing.
 * The form, the CLI and the QMS import all come through here with the one schema
 * (app/schemas/quality-event.ts).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { materials, qualityEventReferences, qualityEvents, sites, traceItems } from "../../db/schema";
import { record, type AppAbility } from "../../policies/ability";
import { describeNeeded, neededFor } from "../../policies/refusal";
import type { QualityDisposition, QualityEventStatus, QualityReferenceKind, RuleAtRaise } from "../domain/quality-event";
import { qualityEventNumber, statusChange } from "../domain/quality-event-rules";
import { ruleInForce } from "../queries/tracking-rules.server";
import {
  qualityEventInputSchema,
  qualityEventStatusSchema,
  type QualityEventInput,
  type QualityEventParsed,
  type QualityEventStatusInput,
} from "../schemas/quality-event";
import type { DbOrTx, Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";

export type { QualityEventInput, QualityEventStatusInput };
export { qualityEventInputSchema };

/**
 * Who acts: the audit trail's name and the ability the site checks read (policies/ability.ts). `null`
 * is the operator's own tools — the CLI and the demo seed — trusted as the CLI's other commands are
 * (the actor is then `cli:<os user>` or the seed's name).
 */
export interface QualityEventActor {
  username: string;
  ability: AppAbility | null;
}

export interface QualityEventOptions {
  /** The clock (tests and the seed inject it): the default raise time and the close time. */
  now?: Date;
}

interface ResolvedReference {
  kind: QualityReferenceKind;
  traceItemId: number | null;
  materialId: number;
  partNumber: string;
  identifier: string | null;
  rule: RuleAtRaise;
}

function parseInput(input: unknown): QualityEventParsed {
  const parsed = qualityEventInputSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The quality event has problems", fieldErrorsFromIssues(parsed.error.issues));
  return parsed.data;
}

function requireAt(actor: QualityEventActor, action: "create" | "update", site: { id: number; code: string }, field: string): void {
  if (actor.ability === null || actor.ability.can(action, record("QualityEvent", { siteId: site.id }))) return;
  const message = describeNeeded(neededFor(action, "QualityEvent", [site.code]));
  throw new DomainError("forbidden", message, { [field]: [message] });
}

/** Each reference as the trace item (or material) it names at the event's site; refusals name the reference. */
async function resolveReferences(
  tx: Tx,
  site: { id: number; code: string },
  refs: QualityEventParsed["references"],
): Promise<Omit<ResolvedReference, "rule">[]> {
  const partNumbers = [...new Set(refs.flatMap((r) => (r.material ? [r.material] : [])))];
  const identifiers = [...new Set(refs.flatMap((r) => (r.identifier ? [r.identifier] : [])))];
  const [materialRows, itemRows] = await Promise.all([
    partNumbers.length
      ? tx.select({ id: materials.id, partNumber: materials.partNumber }).from(materials).where(inArray(materials.partNumber, partNumbers))
      : Promise.resolve([]),
    identifiers.length
      ? tx
          .select({
            id: traceItems.id,
            kind: traceItems.kind,
            identifier: traceItems.identifier,
            materialId: traceItems.materialId,
            partNumber: materials.partNumber,
            siteId: traceItems.siteId,
          })
          .from(traceItems)
          .innerJoin(materials, eq(materials.id, traceItems.materialId))
          .where(inArray(traceItems.identifier, identifiers))
      : Promise.resolve([]),
  ]);
  const materialByPart = new Map(materialRows.map((m) => [m.partNumber, m.id]));
  const problems = new Map<string, string[]>();
  const refuse = (key: string, message: string) => problems.set(key, [...(problems.get(key) ?? []), message]);
  const resolved: Omit<ResolvedReference, "rule">[] = [];
  refs.forEach((ref, i) => {
    const n = i + 1;
    const at = `references.${i}`;
    if (ref.kind === "material") {
      const materialId = materialByPart.get(ref.material!);
      if (materialId === undefined) return refuse(`${at}.material`, `Reference ${n}: there is no material ${ref.material}`);
      resolved.push({ kind: "material", traceItemId: null, materialId, partNumber: ref.material!, identifier: null });
      return;
    }
    if (ref.kind !== "container" && !materialByPart.has(ref.material!)) return refuse(`${at}.material`, `Reference ${n}: there is no material ${ref.material}`);
    const named = ref.kind === "container" ? `container ${ref.identifier}` : `${ref.kind} ${ref.identifier} of ${ref.material}`;
    const matches = itemRows.filter(
      (it) => it.kind === ref.kind && it.identifier === ref.identifier && (ref.kind === "container" || it.partNumber === ref.material),
    );
    const here = matches.find((it) => it.siteId === site.id);
    if (!here) {
      // The same answer whether or not it exists at another site: the actor may not see that site.
      return refuse(`${at}.identifier`, `Reference ${n}: there is no ${named} at ${site.code}`);
    }
    resolved.push({ kind: ref.kind, traceItemId: here.id, materialId: here.materialId, partNumber: here.partNumber, identifier: here.identifier });
  });
  // The schema refuses a repeated reference as written; two writings of one item (never, by the keys) are caught here too.
  const seen = new Set<string>();
  resolved.forEach((r) => {
    const key = `${r.kind}|${r.traceItemId ?? `m${r.materialId}`}`;
    if (seen.has(key)) refuse("references", `${r.kind} ${r.identifier ?? r.partNumber} is referenced twice`);
    seen.add(key);
  });
  if (problems.size) throw new DomainError("missing_reference", "Some references name nothing at the event's site", Object.fromEntries(problems));
  return resolved;
}

/** The rule in force for each material at the site at `at` (resolveRuleInForce, as the explorer computes it). */
async function rulesAtRaise(tx: Tx, siteId: number, materialIds: readonly number[], at: Date): Promise<Map<number, RuleAtRaise>> {
  const out = new Map<number, RuleAtRaise>();
  for (const materialId of new Set(materialIds)) {
    const rule = await ruleInForce(tx, { materialId, siteId, at });
    out.set(
      materialId,
      rule.state === "legacy"
        ? { state: "legacy" }
        : rule.state === "unruled"
          ? { state: "unruled", version: rule.version.version }
          : { state: "ruled", version: rule.version.version, trackingMode: rule.rule.trackingMode },
    );
  }
  return out;
}

/**
 * Raises a quality event: validated with `qualityEventInputSchema`, authorised at its site, each reference
 * resolved at that site with the rule in force for it when the event was raised, numbered QE-0001… from
 * the `quality_event_number` sequence, audited. Refusals: `invalid` (the fields), `missing_reference`
 * (a site or reference that names nothing there: `site`, `references.<i>.…`), `forbidden`, `conflict`
 * (an external id already imported).
 */
export async function raiseQualityEvent(
  db: DbOrTx,
  actor: QualityEventActor,
  input: QualityEventInput | Record<string, unknown>,
  options: QualityEventOptions = {},
): Promise<{ id: number; number: string }> {
  const event = parseInput(input);
  return db.transaction(async (tx) => {
    const [site] = await tx.select({ id: sites.id, code: sites.code }).from(sites).where(eq(sites.code, event.site));
    if (!site) throw new DomainError("missing_reference", `There is no site ${event.site}`, { site: [`There is no site ${event.site}`] });
    requireAt(actor, "create", site, "site");
    if (event.externalId) {
      const [known] = await tx.select({ number: qualityEvents.number }).from(qualityEvents).where(eq(qualityEvents.externalId, event.externalId));
      if (known) {
        const message = `The QMS id ${event.externalId} is already ${known.number}`;
        throw new DomainError("conflict", message, { externalId: [message] });
      }
    }
    const now = options.now ?? new Date();
    const raisedAt = event.raisedAt ? new Date(event.raisedAt) : now;
    const resolved = await resolveReferences(tx, site, event.references);
    const rules = await rulesAtRaise(
      tx,
      site.id,
      resolved.map((r) => r.materialId),
      raisedAt,
    );
    const references: ResolvedReference[] = resolved.map((r) => ({ ...r, rule: rules.get(r.materialId)! }));
    const [{ n }] = (await tx.execute<{ n: string }>(sql`select nextval('quality_event_number')::text as n`)) as unknown as [{ n: string }];
    const number = qualityEventNumber(n);
    const [created] = await tx
      .insert(qualityEvents)
      .values({
        number,
        kind: event.kind,
        status: event.status,
        severity: event.severity,
        disposition: event.disposition,
        siteId: site.id,
        title: event.title,
        description: event.description,
        externalId: event.externalId ?? null,
        raisedAt,
        raisedBy: actor.username,
        closedAt: event.status === "closed" ? now : null,
        rowVersion: 1,
        createdAt: now,
        updatedAt: now,
      })
      .returning({ id: qualityEvents.id });
    await tx.insert(qualityEventReferences).values(
      references.map((r) => ({
        qualityEventId: created!.id,
        kind: r.kind,
        traceItemId: r.traceItemId,
        materialId: r.materialId,
        siteId: site.id,
        ruleState: r.rule.state,
        ruleSetVersion: r.rule.state === "legacy" ? null : r.rule.version,
        trackingModeAtRaise: r.rule.state === "ruled" ? r.rule.trackingMode : null,
      })),
    );
    await appendAudit(tx, {
      actor: actor.username,
      action: "quality_event.raise",
      entityType: "quality_event",
      entityId: number,
      after: {
        number,
        kind: event.kind,
        site: site.code,
        status: event.status,
        severity: event.severity,
        disposition: event.disposition,
        title: event.title,
        description: event.description,
        externalId: event.externalId ?? null,
        raisedAt: raisedAt.toISOString(),
        references: references.map((r) => ({
          kind: r.kind,
          material: r.partNumber,
          identifier: r.identifier,
          traceItemId: r.traceItemId,
          ruleAtRaise: r.rule,
        })),
      },
    });
    return { id: created!.id, number };
  });
}

/**
 * Changes an event's status and disposition with a comment (the quality reviewer's decision): the
 * transition is the domain's (statusChange), the row is the one the form was rendered from (rowVersion,
 * guarded in SQL), the comment is the audit row's reason. An event the actor may not see is `not_found`.
 */
export async function changeQualityEventStatus(
  db: DbOrTx,
  actor: QualityEventActor,
  number: string,
  input: QualityEventStatusInput | Record<string, unknown>,
  options: QualityEventOptions = {},
): Promise<{ rowVersion: number }> {
  const parsed = qualityEventStatusSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The status change has problems", fieldErrorsFromIssues(parsed.error.issues));
  const change = parsed.data;
  return db.transaction(async (tx) => {
    const [locked] = await tx
      .select({
        id: qualityEvents.id,
        status: qualityEvents.status,
        disposition: qualityEvents.disposition,
        rowVersion: qualityEvents.rowVersion,
        siteId: qualityEvents.siteId,
        siteCode: sites.code,
      })
      .from(qualityEvents)
      .innerJoin(sites, eq(sites.id, qualityEvents.siteId))
      .where(eq(qualityEvents.number, number))
      .for("update", { of: qualityEvents });
    if (!locked || (actor.ability !== null && !actor.ability.can("read", record("QualityEvent", { siteId: locked.siteId })))) {
      throw new DomainError("not_found", `quality event ${number} does not exist`);
    }
    requireAt(actor, "update", { id: locked.siteId, code: locked.siteCode }, "status");
    if (locked.rowVersion !== change.rowVersion) {
      throw new DomainError("conflict", `${number} was changed by someone else while you had it open (now ${locked.status}); reload it and try again.`);
    }
    const verdict = statusChange(locked.status, change.status as QualityEventStatus, change.disposition as QualityDisposition);
    if (!verdict.ok) {
      const field = change.status === "closed" && change.disposition === "pending" && locked.status !== "closed" ? "disposition" : "status";
      throw new DomainError(field === "disposition" ? "invalid" : "conflict", `${number}: ${verdict.message}.`, {
        [field]: [`${verdict.message[0]!.toUpperCase()}${verdict.message.slice(1)}`],
      });
    }
    const now = options.now ?? new Date();
    const rowVersion = locked.rowVersion + 1;
    const updated = await tx
      .update(qualityEvents)
      .set({
        status: change.status,
        disposition: change.disposition,
        closedAt: change.status === "closed" ? now : null,
        rowVersion,
        updatedAt: now,
      })
      .where(and(eq(qualityEvents.id, locked.id), eq(qualityEvents.rowVersion, locked.rowVersion), eq(qualityEvents.status, locked.status)))
      .returning({ id: qualityEvents.id });
    if (updated.length === 0) throw new DomainError("conflict", `${number} was changed meanwhile; reload it and try again.`);
    await appendAudit(tx, {
      actor: actor.username,
      action: "quality_event.status",
      entityType: "quality_event",
      entityId: number,
      before: { status: locked.status, disposition: locked.disposition },
      after: { status: change.status, disposition: change.disposition },
      reason: change.comment,
    });
    return { rowVersion };
  });
}
