import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { pendingRoleGrants, sessions, sites, userRoles, users } from "../../db/schema";
import type { Role } from "../../policies/ability";
import { createUserSchema, deactivateUserSchema, grantRoleSchema, revokeRoleSchema, type CreateUserInput, type GrantInput } from "../schemas/users";
import type { Db, Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { hashPassword } from "../utils/password.server";
import { appendAudit } from "./audit.server";
import type { UserView } from "../queries/users.server";
import { passwordChangeDue } from "../domain/password-policy";
import { readEnv } from "../utils/env.server";
import { serverPasswordProblems, storePassword } from "./passwords.server";

/** Who does it: a signed-in user's name, or `cli:<os user>` for the admin CLI. */
export type Actor = string;

function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The form has problems", fieldErrorsFromIssues(parsed.error.issues));
  return parsed.data;
}

async function siteIdsByCode(tx: Tx, grants: readonly GrantInput[], field: string): Promise<Map<string, number>> {
  const codes = [...new Set(grants.map((g) => g.site).filter((c): c is string => c !== null))];
  const rows = codes.length ? await tx.select({ id: sites.id, code: sites.code }).from(sites) : [];
  const byCode = new Map(rows.map((r) => [r.code, r.id]));
  const unknown = codes.filter((c) => !byCode.has(c));
  if (unknown.length) throw new DomainError("invalid", "Unknown site", { [field]: unknown.map((c) => `site ${c} does not exist`) });
  return byCode;
}

async function userView(tx: Tx | Db, userId: number): Promise<UserView> {
  const [user] = await tx.select({ username: users.username, displayName: users.displayName, active: users.active }).from(users).where(eq(users.id, userId));
  const grants = await tx
    .select({ role: userRoles.role, site: sites.code })
    .from(userRoles)
    .leftJoin(sites, eq(sites.id, userRoles.siteId))
    .where(eq(userRoles.userId, userId))
    .orderBy(userRoles.role, sites.code);
  return { ...user!, grants };
}

/**
 * How an account comes to be (ADR 020):
 * - `portal`: an administrator in the portal. Its roles are requests that a second administrator
 *   confirms (no authority until then); its password is the administrator's, so its owner must
 *   change it before signing anything.
 * - `operator`: the CLI, run on the host by someone holding the database owner's credentials (who
 *   could bypass any rule of the application anyway; the bootstrap path for the first
 *   administrator). Roles take effect at once, audited as `cli:<os user>`; the password must be
 *   changed at first use.
 * - `fixture`: the demo seed and tests. Roles at once, the password counts as the owner's own.
 */
export type Provisioning = "portal" | "operator" | "fixture";

export interface PendingGrantView {
  id: number;
  role: Role;
  site: string | null;
  requestedBy: string;
}

/** Creates a user with roles. User names are never reused, also not those of deactivated users. */
export async function createUser(
  db: Db,
  actor: Actor,
  input: CreateUserInput,
  provisioning: Provisioning,
): Promise<UserView & { pendingGrants: PendingGrantView[] }> {
  const data = parse(createUserSchema, input);
  const problems = serverPasswordProblems(data.password, data.username);
  if (problems.length) throw new DomainError("invalid", "The password does not meet the policy", { password: problems });
  const passwordHash = await hashPassword(data.password);
  return db.transaction(async (tx) => {
    const siteIds = await siteIdsByCode(tx, data.grants, "grants");
    const [existing] = await tx.select({ id: users.id, active: users.active }).from(users).where(eq(users.username, data.username));
    if (existing) {
      throw new DomainError("conflict", "User name taken", {
        username: [existing.active ? "This user name is taken" : "This user name belonged to a deactivated user and is never reused"],
      });
    }
    const [created] = await tx
      .insert(users)
      .values({ username: data.username, displayName: data.displayName, passwordHash, createdBy: actor })
      .returning({ id: users.id });
    await storePassword(tx, created!.id, passwordHash, provisioning !== "fixture");
    const unique = [...new Map(data.grants.map((g) => [`${g.role}@${g.site ?? "*"}`, g])).values()];
    const rows = unique.map((g) => ({ userId: created!.id, role: g.role, siteId: g.site ? siteIds.get(g.site)! : null }));
    if (provisioning === "portal") {
      await tx.insert(pendingRoleGrants).values(rows.map((r) => ({ ...r, requestedBy: actor, requestedAt: sql`now()`, reason: data.reason })));
    } else {
      await tx.insert(userRoles).values(rows);
    }
    const view = { ...(await userView(tx, created!.id)), pendingGrants: await pendingGrantsOf(tx, created!.id) };
    await appendAudit(tx, {
      actor,
      action: "user.create",
      entityType: "user",
      entityId: data.username,
      after: { ...view, passwordMustChange: provisioning !== "fixture", provisioning },
      reason: data.reason,
    });
    return view;
  });
}

/** Whether another active user than `userId` still administers all sites. */
async function anotherAdminRemains(tx: Tx, userId: number): Promise<boolean> {
  const rows = await tx.execute<{ n: number }>(sql`
    select count(*)::int as n from user_roles r join users u on u.id = r.user_id
    where r.role = 'admin' and r.site_id is null and u.active and u.id <> ${userId}`);
  return (rows[0]?.n ?? 0) > 0;
}

async function holdsAllSitesAdmin(tx: Tx, userId: number): Promise<boolean> {
  const [row] = await tx
    .select({ id: userRoles.id })
    .from(userRoles)
    .where(and(eq(userRoles.userId, userId), eq(userRoles.role, "admin"), isNull(userRoles.siteId)));
  return Boolean(row);
}

const LAST_ADMIN = "C-981 would have no administrator for all sites left; give another user that role first.";

/** Deactivates a user (never deletes) and ends their sessions. */
export async function deactivateUser(db: Db, actor: Actor, input: { username: string; reason: string }): Promise<UserView> {
  const data = parse(deactivateUserSchema, input);
  return db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.username, data.username));
    if (!user) throw new DomainError("not_found", `user ${data.username} does not exist`, { username: ["No such user"] });
    if (actor === data.username) throw new DomainError("conflict", "You cannot deactivate your own account", { username: ["Your own account"] });
    if ((await holdsAllSitesAdmin(tx, user.id)) && !(await anotherAdminRemains(tx, user.id))) {
      throw new DomainError("conflict", LAST_ADMIN, { username: [LAST_ADMIN] });
    }
    const before = await userView(tx, user.id);
    const updated = await tx
      .update(users)
      .set({ active: false, deactivatedAt: sql`now()` })
      .where(and(eq(users.id, user.id), eq(users.active, true)))
      .returning({ id: users.id });
    if (updated.length === 0) throw new DomainError("conflict", `user ${data.username} is already deactivated`, { username: ["Already deactivated"] });
    const ended = await tx
      .update(sessions)
      .set({ endedAt: sql`now()` })
      .where(and(eq(sessions.userId, user.id), isNull(sessions.endedAt)))
      .returning({ idHash: sessions.idHash });
    const after = await userView(tx, user.id);
    await appendAudit(tx, {
      actor,
      action: "user.deactivate",
      entityType: "user",
      entityId: data.username,
      before,
      after: { ...after, sessionsEnded: ended.length },
      reason: data.reason,
    });
    return after;
  });
}

async function pendingGrantsOf(tx: Tx | Db, userId: number): Promise<PendingGrantView[]> {
  return tx
    .select({ id: pendingRoleGrants.id, role: pendingRoleGrants.role, site: sites.code, requestedBy: pendingRoleGrants.requestedBy })
    .from(pendingRoleGrants)
    .leftJoin(sites, eq(sites.id, pendingRoleGrants.siteId))
    .where(and(eq(pendingRoleGrants.userId, userId), isNull(pendingRoleGrants.decidedAt)))
    .orderBy(pendingRoleGrants.id);
}

const SELF_GRANT = "Nobody grants roles to themselves: another administrator must.";

/**
 * Asks for a role grant (21 CFR 11.10(g), ADR 020). It gives no authority until a
 * different administrator confirms it (confirmGrant). Nobody asks for a role for themselves.
 */
export async function grantRole(db: Db, actor: Actor, input: z.input<typeof grantRoleSchema>): Promise<PendingGrantView> {
  const data = parse(grantRoleSchema, input);
  // Separation of duties (21 CFR 11.10(g), ADR 020): an administrator who grants herself the
  // release manager's role is one person on two sides of a release. Another administrator must.
  if (actor === data.username) {
    throw new DomainError("forbidden", SELF_GRANT, { "grant.role": ["Nobody grants roles to themselves: another administrator must"] });
  }
  return db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, active: users.active }).from(users).where(eq(users.username, data.username));
    if (!user) throw new DomainError("not_found", `user ${data.username} does not exist`);
    if (!user.active) throw new DomainError("conflict", "A deactivated user gets no roles", { username: ["Deactivated"] });
    const siteIds = await siteIdsByCode(tx, [data.grant], "grant.site");
    const siteId = data.grant.site ? siteIds.get(data.grant.site)! : null;
    const [held] = await tx
      .select({ id: userRoles.id })
      .from(userRoles)
      .where(
        and(eq(userRoles.userId, user.id), eq(userRoles.role, data.grant.role), siteId === null ? isNull(userRoles.siteId) : eq(userRoles.siteId, siteId)),
      );
    if (held) throw new DomainError("conflict", "The user already holds this role", { "grant.role": ["Already granted"] });
    const inserted = await tx
      .insert(pendingRoleGrants)
      .values({ userId: user.id, role: data.grant.role, siteId, requestedBy: actor, requestedAt: sql`now()`, reason: data.reason })
      .onConflictDoNothing()
      .returning({ id: pendingRoleGrants.id });
    if (inserted.length === 0)
      throw new DomainError("conflict", "This grant already waits for a second administrator", { "grant.role": ["Already waiting for confirmation"] });
    const pending = { id: inserted[0]!.id, role: data.grant.role, site: data.grant.site, requestedBy: actor };
    await appendAudit(tx, {
      actor,
      action: "user.grant_role_requested",
      entityType: "user",
      entityId: data.username,
      after: { pendingGrant: pending },
      reason: data.reason,
    });
    return pending;
  });
}

/**
 * A second administrator decides a grant request: `confirm` makes it a role the user holds,
 * `decline` closes it without effect. Whoever asked for it cannot confirm it, nor can the user it
 * is for (both refused here and, for the asker, by a CHECK in the database); anyone with the
 * permission may decline (the asker withdrawing it too).
 */
export async function decideGrant(db: Db, actor: Actor, input: { id: number; decision: "confirm" | "decline"; reason: string }): Promise<UserView> {
  const reason = parse(z.object({ reason: z.string().trim().min(3, "Give a reason (at least 3 characters)").max(500) }), { reason: input.reason }).reason;
  return db.transaction(async (tx) => {
    const [request] = await tx
      .select({
        id: pendingRoleGrants.id,
        userId: pendingRoleGrants.userId,
        role: pendingRoleGrants.role,
        siteId: pendingRoleGrants.siteId,
        requestedBy: pendingRoleGrants.requestedBy,
        username: users.username,
        active: users.active,
        site: sites.code,
      })
      .from(pendingRoleGrants)
      .innerJoin(users, eq(users.id, pendingRoleGrants.userId))
      .leftJoin(sites, eq(sites.id, pendingRoleGrants.siteId))
      .where(and(eq(pendingRoleGrants.id, input.id), isNull(pendingRoleGrants.decidedAt)))
      .for("update", { of: pendingRoleGrants });
    if (!request) throw new DomainError("not_found", "No such grant waiting for a decision", { form: ["This grant was decided already or does not exist"] });
    // The second person of a two-person control must be that person: a decider whose password
    // someone else set (or that has aged out) is refused here too, not only by the portal's
    // ability (policies/ability.ts, ADR 020) — the service is the last gate before user_roles.
    const [decider] = await tx
      .select({ mustChange: users.passwordMustChange, changedAt: users.passwordChangedAt })
      .from(users)
      .where(eq(users.username, actor));
    if (decider && passwordChangeDue({ mustChange: decider.mustChange, changedAt: decider.changedAt }, new Date(), readEnv().C981_PASSWORD_MAX_AGE_DAYS)) {
      const message = "Change your own password before deciding a grant: it was set by someone else or is past its maximum age.";
      throw new DomainError("forbidden", message, { form: [message] });
    }
    if (input.decision === "confirm") {
      if (actor === request.requestedBy) {
        const message = "A second administrator must confirm this grant: you asked for it.";
        throw new DomainError("forbidden", message, { form: [message] });
      }
      if (actor === request.username) throw new DomainError("forbidden", SELF_GRANT, { form: [SELF_GRANT] });
      if (!request.active) throw new DomainError("conflict", "A deactivated user gets no roles", { form: ["Deactivated"] });
    }
    const before = await userView(tx, request.userId);
    await tx
      .update(pendingRoleGrants)
      .set({ decision: input.decision === "confirm" ? "confirmed" : "declined", decidedBy: actor, decidedAt: sql`now()`, decisionReason: reason })
      .where(eq(pendingRoleGrants.id, request.id));
    if (input.decision === "confirm") {
      await tx.insert(userRoles).values({ userId: request.userId, role: request.role, siteId: request.siteId }).onConflictDoNothing();
    }
    const after = await userView(tx, request.userId);
    await appendAudit(tx, {
      actor,
      action: input.decision === "confirm" ? "user.grant_role" : "user.grant_role_declined",
      entityType: "user",
      entityId: request.username,
      before,
      after: { ...after, grantRequest: { id: request.id, role: request.role, site: request.site, requestedBy: request.requestedBy } },
      reason,
    });
    return after;
  });
}

export async function revokeRole(db: Db, actor: Actor, input: z.input<typeof revokeRoleSchema>): Promise<UserView> {
  const data = parse(revokeRoleSchema, input);
  return db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.username, data.username));
    if (!user) throw new DomainError("not_found", `user ${data.username} does not exist`);
    const siteIds = await siteIdsByCode(tx, [data.grant], "grant.site");
    const before = await userView(tx, user.id);
    const siteId = data.grant.site ? siteIds.get(data.grant.site)! : null;
    if (data.grant.role === "admin" && siteId === null && !(await anotherAdminRemains(tx, user.id))) {
      throw new DomainError("conflict", LAST_ADMIN, { "grant.role": [LAST_ADMIN] });
    }
    const removed = await tx
      .delete(userRoles)
      .where(and(eq(userRoles.userId, user.id), eq(userRoles.role, data.grant.role), siteId === null ? isNull(userRoles.siteId) : eq(userRoles.siteId, siteId)))
      .returning({ id: userRoles.id });
    if (removed.length === 0) throw new DomainError("not_found", "The user does not hold this role", { "grant.role": ["Not held"] });
    const after = await userView(tx, user.id);
    await appendAudit(tx, { actor, action: "user.revoke_role", entityType: "user", entityId: data.username, before, after, reason: data.reason });
    return after;
  });
}
