import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { sessions, users } from "../../db/schema";
import { passwordChangeDue } from "../domain/password-policy";
import type { SessionUser } from "../utils/auth.server";
import type { Db } from "../utils/db.server";
import { hashPassword, verifyPassword } from "../utils/password.server";
import type { Refusal } from "../utils/errors.server";
import { appendAudit } from "./audit.server";
import { raiseAlert } from "./security-alerts.server";

/** After this many failed sign-ins for one user name within the window, sign-in is refused. */
export const MAX_FAILED_SIGN_INS = 5;
export const FAILED_SIGN_IN_WINDOW_MINUTES = 15;

export function hashSessionId(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}

export type SignInResult =
  | { ok: true; sessionId: string; userId: number; expiresAt: Date; passwordChange: PasswordChangeDue }
  | Refusal<{ reason: "invalid" }>
  | Refusal<{ reason: "throttled"; retryAfterSeconds: number }>;

/** Why the user must change the password before signing anything (ADR 020), or null. */
export type PasswordChangeDue = ReturnType<typeof passwordChangeDue>;

export interface SignInAttempt {
  username: string;
  password: string;
  /** Client address, for the audit trail. */
  ip: string | null;
  /** The session being replaced, if the browser had one: it ends (session id rotation). */
  previousSessionId?: string | null;
  maxHours: number;
  /** C981_PASSWORD_MAX_AGE_DAYS (0: passwords do not age). */
  passwordMaxAgeDays?: number;
}

/** Compared with when the user name does not exist, so both cases take as long. */
let dummyHash: Promise<string> | undefined;

/** Advisory-lock class of sign-in judgements (the second key is the attempt's name × address). */
const SIGN_IN_LOCK_CLASS = 981_101;
/** Advisory-lock class of the account-wide count of failed sign-ins (the second key is the name). */
const SIGN_IN_ACCOUNT_LOCK_CLASS = 981_103;

/**
 * Signs a user in: throttles repeated failures per user name and client address (counted from the
 * audit trail, which records every failed and refused attempt — 21 CFR 11.300(d)), always runs the
 * password hash, and on success creates a new session (a new id, never the old one).
 *
 * Counting, judging and recording happen in one transaction under an advisory lock on the pair
 * (name, address): parallel attempts are judged one after another, each seeing the failures
 * before it, so 50 at once are judged as 5 sequential ones would be. The pair, not the
 * name alone: a stranger's address cannot lock the account for everyone. Unknown names are
 * counted the same way (by the SHA-256 of the name typed), so they answer 429 just as known ones
 * do and the answers do not tell which names exist.
 */
export async function signIn(db: Db, attempt: SignInAttempt): Promise<SignInResult> {
  const username = attempt.username.trim().toLowerCase().slice(0, 64);
  const nameSha256 = createHash("sha256").update(username).digest("hex");
  const ip = attempt.ip ?? "";
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  const dummy = await dummyHash;
  const judged = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SIGN_IN_LOCK_CLASS}, hashtext(${`${nameSha256}|${ip}`}))`);
    const recent = await tx.execute<{ n: number; oldest: string | null }>(sql`
      select count(*)::int as n, to_char(min(recorded_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as oldest from (
        select recorded_at from audit_trail
        where entity_type = 'user' and entity_id in (${username}, '(unknown user)') and action = 'session.sign_in_failed'
          and after->>'nameSha256' = ${nameSha256} and coalesce(after->>'ip', '') = ${ip}
          and recorded_at > now() - make_interval(mins => ${FAILED_SIGN_IN_WINDOW_MINUTES})
          and recorded_at > coalesce((select max(recorded_at) from audit_trail
            where entity_type = 'user' and entity_id = ${username} and action = 'session.sign_in'), '-infinity')
        order by recorded_at desc limit ${MAX_FAILED_SIGN_INS}) last_failures`);
    const failures = recent[0]!;
    if (failures.n >= MAX_FAILED_SIGN_INS && failures.oldest) {
      const until = new Date(failures.oldest).getTime() + FAILED_SIGN_IN_WINDOW_MINUTES * 60_000;
      const retryAfterSeconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      const [known] = await tx.select({ id: users.id }).from(users).where(eq(users.username, username));
      const recorded = known ? username : "(unknown user)";
      await appendAudit(tx, {
        actor: recorded,
        action: "session.sign_in_refused",
        entityType: "user",
        entityId: recorded,
        after: { ip: attempt.ip, retryAfterSeconds, nameSha256 },
        reason: `${failures.n} failed sign-ins within ${FAILED_SIGN_IN_WINDOW_MINUTES} minutes from this address`,
      });
      if (known)
        await raiseAlert(tx, {
          kind: "sign_in_failures",
          username,
          detail: { ip: attempt.ip, failures: failures.n, windowMinutes: FAILED_SIGN_IN_WINDOW_MINUTES },
        });
      // Returned, not thrown: a throw would roll back the sign_in_refused audit row and the alert.
      return { ok: false as const, reason: "throttled" as const, retryAfterSeconds };
    }

    const [user] = await tx
      .select({
        id: users.id,
        passwordHash: users.passwordHash,
        active: users.active,
        mustChange: users.passwordMustChange,
        changedAt: users.passwordChangedAt,
      })
      .from(users)
      .where(eq(users.username, username));
    const passwordOk = await verifyPassword(attempt.password, user?.passwordHash ?? dummy);
    if (!user?.active || !passwordOk) {
      // A name that is no account may be a password typed into the wrong field: it is never stored,
      // only its SHA-256 (enough to see repeated attempts with the same text, and to count them).
      const known = Boolean(user);
      const recorded = known ? username : "(unknown user)";
      await appendAudit(tx, {
        actor: recorded,
        action: "session.sign_in_failed",
        entityType: "user",
        entityId: recorded,
        after: {
          ip: attempt.ip,
          cause: !user ? "unknown_user" : !user.active ? "deactivated" : "wrong_password",
          nameSha256,
          ...(known ? {} : { attemptedNameSha256: nameSha256 }),
        },
      });
      // Reaching the lockout threshold alerts the administrators (21 CFR 11.300(d)), for accounts
      // that exist: unknown names are probes of no one's account, audited and throttled alike.
      if (known && failures.n + 1 >= MAX_FAILED_SIGN_INS) {
        await raiseAlert(tx, {
          kind: "sign_in_failures",
          username,
          detail: { ip: attempt.ip, failures: failures.n + 1, windowMinutes: FAILED_SIGN_IN_WINDOW_MINUTES },
        });
      } else if (known) {
        // Lock the pair, alert on the account: failures from many addresses reach the threshold
        // for the account though no pair does (a spread guess). Counted under a second lock per
        // account (always taken after the pair's), so parallel failures from different addresses
        // see each other and the one reaching the threshold alerts.
        await tx.execute(sql`select pg_advisory_xact_lock(${SIGN_IN_ACCOUNT_LOCK_CLASS}, hashtext(${username}))`);
        const [account] = await tx.execute<{ n: number; addresses: number }>(sql`
          select count(*)::int as n, count(distinct coalesce(after->>'ip', ''))::int as addresses from audit_trail
          where entity_type = 'user' and entity_id = ${username} and action = 'session.sign_in_failed'
            and recorded_at > now() - make_interval(mins => ${FAILED_SIGN_IN_WINDOW_MINUTES})
            and recorded_at > coalesce((select max(recorded_at) from audit_trail
              where entity_type = 'user' and entity_id = ${username} and action = 'session.sign_in'), '-infinity')`);
        if (account && account.n >= MAX_FAILED_SIGN_INS) {
          await raiseAlert(tx, {
            kind: "sign_in_failures",
            username,
            detail: { scope: "account", ip: attempt.ip, failures: account.n, addresses: account.addresses, windowMinutes: FAILED_SIGN_IN_WINDOW_MINUTES },
          });
        }
      }
      // Returned, not thrown: a throw would roll back the sign_in_failed audit row, which is also
      // what the throttle counts, and the alert.
      return { ok: false as const, reason: "invalid" as const };
    }
    return { ok: true as const, user };
  });
  if (!judged.ok) return judged;
  const user = judged.user;

  const passwordChange = passwordChangeDue({ mustChange: user.mustChange, changedAt: user.changedAt }, new Date(), attempt.passwordMaxAgeDays ?? 0);
  const sessionId = randomBytes(32).toString("base64url");
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(sessions)
      .values({
        idHash: hashSessionId(sessionId),
        userId: user.id,
        createdAt: sql`now()`,
        lastSeenAt: sql`now()`,
        expiresAt: sql`now() + make_interval(hours => ${attempt.maxHours})`,
      })
      .returning({ expiresAt: sessions.expiresAt });
    let rotated = 0;
    if (attempt.previousSessionId) {
      rotated = (
        await tx
          .update(sessions)
          .set({ endedAt: sql`now()` })
          .where(and(eq(sessions.idHash, hashSessionId(attempt.previousSessionId)), isNull(sessions.endedAt)))
          .returning({ idHash: sessions.idHash })
      ).length;
    }
    await appendAudit(tx, {
      actor: username,
      action: "session.sign_in",
      entityType: "user",
      entityId: username,
      after: { ip: attempt.ip, expiresAt: row!.expiresAt, previousSessionEnded: rotated > 0, ...(passwordChange ? { passwordChangeDue: passwordChange } : {}) },
    });
    return { ok: true as const, sessionId, userId: user.id, expiresAt: row!.expiresAt, passwordChange };
  });
}

export async function signOut(db: Db, sessionId: string, reason: "sign_out" | "idle_timeout" | "expired" = "sign_out"): Promise<void> {
  await db.transaction(async (tx) => {
    const ended = await tx
      .update(sessions)
      .set({ endedAt: sql`now()` })
      .where(and(eq(sessions.idHash, hashSessionId(sessionId)), isNull(sessions.endedAt)))
      .returning({ userId: sessions.userId });
    if (ended.length === 0) return;
    const [user] = await tx.select({ username: users.username }).from(users).where(eq(users.id, ended[0]!.userId));
    await appendAudit(tx, {
      actor: reason === "sign_out" ? user!.username : "system:session",
      action: reason === "sign_out" ? "session.sign_out" : "session.timeout",
      entityType: "user",
      entityId: user!.username,
      after: { cause: reason },
    });
  });
}

/**
 * The user of a live session, or why there is none. Touching last_seen_at (at most once a minute)
 * is session bookkeeping, not a change to regulated records, and is not audited (ADR 005); the
 * end of a session is.
 */
export async function resolveSession(
  db: Db,
  sessionId: string,
  idleMinutes: number,
  passwordMaxAgeDays = 0,
): Promise<{ user: SessionUser } | { ended: "unknown" | "idle_timeout" | "expired" }> {
  const idHash = hashSessionId(sessionId);
  const rows = await db.execute<{
    user_id: number;
    username: string;
    display_name: string;
    active: boolean;
    idle: boolean;
    expired: boolean;
    password_must_change: boolean;
    password_changed_at: string;
  }>(sql`
    select u.id as user_id, u.username, u.display_name, u.active, u.password_must_change, u.password_changed_at,
           s.last_seen_at < now() - make_interval(mins => ${idleMinutes}) as idle,
           s.expires_at <= now() as expired
    from sessions s join users u on u.id = s.user_id
    where s.id_hash = ${idHash} and s.ended_at is null`);
  const row = rows[0];
  if (!row?.active) return { ended: "unknown" };
  if (row.expired || row.idle) {
    const reason = row.expired ? "expired" : "idle_timeout";
    await signOut(db, sessionId, reason);
    return { ended: reason };
  }
  await db
    .update(sessions)
    .set({ lastSeenAt: sql`now()` })
    .where(and(eq(sessions.idHash, idHash), gt(sql`now() - ${sessions.lastSeenAt}`, sql`interval '1 minute'`)));
  const passwordChange = passwordChangeDue(
    { mustChange: row.password_must_change, changedAt: new Date(row.password_changed_at) },
    new Date(),
    passwordMaxAgeDays,
  );
  return { user: { id: row.user_id, username: row.username, displayName: row.display_name, passwordChange } };
}
