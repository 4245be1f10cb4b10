import { randomBytes } from "node:crypto";
import { desc, eq, sql } from "drizzle-orm";
import { passwordHistory, sessions, users } from "../../db/schema";
import { passwordProblems } from "../domain/password-policy";
import { newPasswordSchema } from "../schemas/password";
import { resetPasswordSchema } from "../schemas/users";
import { isCommonPassword } from "../utils/common-passwords.server";
import type { Db, Tx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { hashPassword, verifyPassword } from "../utils/password.server";
import { appendAudit } from "./audit.server";
import { FAILED_PASSWORD_CHECK_WINDOW_MINUTES, lockAndCountFailedPasswordChecks, MAX_FAILED_PASSWORD_CHECKS } from "./password-checks.server";
import { raiseAlert } from "./security-alerts.server";

/**
 * The password lifecycle (21 CFR 11.300(b), ADR 020). No password, hash or part of either ever
 * goes into an audit row: only that it changed, by whom, and whether its owner must change it.
 */

/** The server's full policy check: the shared rules plus the common-password list. */
export function serverPasswordProblems(password: string, username: string): string[] {
  return passwordProblems(password, { username, isCommon: isCommonPassword });
}

/** A generated initial password (CLI) that passes the policy: 20 base64url characters. */
export function generatePassword(username: string): string {
  for (;;) {
    const candidate = randomBytes(15).toString("base64url");
    if (serverPasswordProblems(candidate, username).length === 0) return candidate;
  }
}

/** Stores a new password hash with its history row; `mustChange`: set by someone else than its owner. */
export async function storePassword(tx: Tx, userId: number, passwordHash: string, mustChange: boolean): Promise<void> {
  await tx.update(users).set({ passwordHash, passwordMustChange: mustChange, passwordChangedAt: sql`now()` }).where(eq(users.id, userId));
  await tx.insert(passwordHistory).values({ userId, passwordHash, setAt: sql`now()` });
}

/** Whether `password` is the current one or among the last `depth` (the current one counted). */
async function usedRecently(tx: Tx, userId: number, current: string, password: string, depth: number): Promise<boolean> {
  const earlier = await tx
    .select({ passwordHash: passwordHistory.passwordHash })
    .from(passwordHistory)
    .where(eq(passwordHistory.userId, userId))
    .orderBy(desc(passwordHistory.setAt), desc(passwordHistory.id))
    .limit(depth);
  const hashes = [current, ...earlier.map((r) => r.passwordHash).filter((h) => h !== current)].slice(0, depth);
  for (const hash of hashes) if (await verifyPassword(password, hash)) return true;
  return false;
}

export interface ChangeOwnPassword {
  username: string;
  currentPassword: string;
  newPassword: string;
  /** How many earlier passwords may not come back (C981_PASSWORD_HISTORY). */
  historyDepth: number;
  /** The session to keep (the portal's own); the owner's other sessions end. Null: end all (CLI). */
  keepSessionIdHash: string | null;
  /** `portal` or `cli:<os user>`: where the change was made. */
  via: string;
}

/**
 * The owner changes their own password: the current one proves it is them. A wrong current
 * password changes nothing and is audited, and counts towards the same lockout as a signature's
 * password (app/services/password-checks.server.ts, ADR 020): judged under the user's advisory
 * lock, so parallel guesses are judged at most as often as the limit allows, and the failure that
 * reaches it raises a security alert (21 CFR 11.300(d)).
 */
export async function changeOwnPassword(db: Db, input: ChangeOwnPassword): Promise<void> {
  const parsed = newPasswordSchema(input.username).safeParse(input.newPassword);
  if (!parsed.success)
    throw new DomainError("invalid", "The new password does not meet the policy", { newPassword: parsed.error.issues.map((i) => i.message) });
  const common = serverPasswordProblems(input.newPassword, input.username);
  if (common.length) throw new DomainError("invalid", "The new password does not meet the policy", { newPassword: common });
  const newHash = await hashPassword(input.newPassword);
  await db
    .transaction(async (tx) => {
      const [known] = await tx.select({ id: users.id, active: users.active }).from(users).where(eq(users.username, input.username));
      if (!known?.active) throw new DomainError("not_found", `user ${input.username} does not exist or is deactivated`, { username: ["No such active user"] });
      const failures = await lockAndCountFailedPasswordChecks(tx, { id: known.id, username: input.username });
      if (failures >= MAX_FAILED_PASSWORD_CHECKS) {
        await appendAudit(tx, {
          actor: input.username,
          action: "user.password_change_refused",
          entityType: "user",
          entityId: input.username,
          after: { via: input.via, cause: "locked", failures, windowMinutes: FAILED_PASSWORD_CHECK_WINDOW_MINUTES },
        });
        return "locked";
      }
      const [user] = await tx
        .select({ id: users.id, passwordHash: users.passwordHash, active: users.active, mustChange: users.passwordMustChange })
        .from(users)
        .where(eq(users.id, known.id))
        .for("update");
      if (!user?.active) throw new DomainError("not_found", `user ${input.username} does not exist or is deactivated`, { username: ["No such active user"] });
      if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
        await appendAudit(tx, {
          actor: input.username,
          action: "user.password_change_failed",
          entityType: "user",
          entityId: input.username,
          after: { via: input.via, cause: "wrong_current_password" },
        });
        if (failures + 1 >= MAX_FAILED_PASSWORD_CHECKS) {
          await raiseAlert(tx, {
            kind: "password_change_failures",
            username: input.username,
            detail: { via: input.via, failures: failures + 1, windowMinutes: FAILED_PASSWORD_CHECK_WINDOW_MINUTES },
          });
        }
        return "wrong";
      }
      if (await usedRecently(tx, user.id, user.passwordHash, input.newPassword, input.historyDepth)) {
        throw new DomainError("conflict", "The new password was used recently", {
          newPassword: [`Choose a password other than your last ${input.historyDepth}`],
        });
      }
      await storePassword(tx, user.id, newHash, false);
      const ended = await tx
        .update(sessions)
        .set({ endedAt: sql`now()` })
        .where(sql`${sessions.userId} = ${user.id} and ${sessions.endedAt} is null and ${sessions.idHash} is distinct from ${input.keepSessionIdHash}`)
        .returning({ idHash: sessions.idHash });
      await appendAudit(tx, {
        actor: input.username,
        action: "user.password_change",
        entityType: "user",
        entityId: input.username,
        before: { passwordMustChange: user.mustChange },
        after: { passwordMustChange: false, via: input.via, otherSessionsEnded: ended.length },
      });
      return "changed";
    })
    .then((outcome) => {
      // Thrown after the transaction so that the failed attempt's audit row (and alert) is kept.
      if (outcome === "wrong")
        throw new DomainError("invalid", "Wrong current password: nothing changed", { currentPassword: ["Wrong password: nothing changed"] });
      if (outcome === "locked") {
        const message = `Password checks are locked for up to ${FAILED_PASSWORD_CHECK_WINDOW_MINUTES} minutes after ${MAX_FAILED_PASSWORD_CHECKS} wrong passwords (signatures and password changes count together). Nothing changed.`;
        throw new DomainError("too_many", message, { currentPassword: [message] });
      }
    });
}

/**
 * An administrator (CLI) sets someone's password: its owner must change it before signing
 * anything, and their sessions end. The password is the administrator's to give once; it is never stored.
 */
export async function resetPassword(db: Db, actor: string, input: { username: string; password: string; reason: string }): Promise<void> {
  const parsed = resetPasswordSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The reset has problems", fieldErrorsFromIssues(parsed.error.issues));
  const data = parsed.data;
  const problems = serverPasswordProblems(data.password, data.username);
  if (problems.length) throw new DomainError("invalid", "The password does not meet the policy", { password: problems });
  if (actor === data.username)
    throw new DomainError("forbidden", "Change your own password with user:password, not a reset", { username: ["Your own account"] });
  const hash = await hashPassword(data.password);
  await db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id, active: users.active }).from(users).where(eq(users.username, data.username)).for("update");
    if (!user?.active) throw new DomainError("not_found", `user ${data.username} does not exist or is deactivated`, { username: ["No such active user"] });
    await storePassword(tx, user.id, hash, true);
    const ended = await tx
      .update(sessions)
      .set({ endedAt: sql`now()` })
      .where(sql`${sessions.userId} = ${user.id} and ${sessions.endedAt} is null`)
      .returning({ idHash: sessions.idHash });
    await appendAudit(tx, {
      actor,
      action: "user.password_reset",
      entityType: "user",
      entityId: data.username,
      after: { passwordMustChange: true, sessionsEnded: ended.length },
      reason: data.reason,
    });
  });
}
