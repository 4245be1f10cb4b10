import { sql } from "drizzle-orm";
import type { Tx } from "../utils/db.server";

/**
 * The password checks a signed-in person makes to prove it is them — a signature's credentials
 * (21 CFR 11.200(a)) and the current password of a password change (11.300(b)) — share one lockout
 * (ADR 020): 3 failures of either within 15 minutes lock both, so holding someone's session buys
 * 3 guesses of their password per window, not 3 per form. A signature, a release or a password
 * change by the owner starts the count again.
 *
 * Counting, judging and recording happen in one transaction under one advisory lock per user:
 * parallel attempts are judged one after another (the review found 30 parallel wrong
 * current passwords judged 30 times).
 */
export const MAX_FAILED_PASSWORD_CHECKS = 3;
export const FAILED_PASSWORD_CHECK_WINDOW_MINUTES = 15;
/** Advisory-lock class of these judgements (the second key is the user's id). */
const PASSWORD_CHECK_LOCK_CLASS = 981_102;

/** Takes the user's lock (until the transaction ends) and counts their recent failed checks. */
export async function lockAndCountFailedPasswordChecks(tx: Tx, user: { id: number; username: string }): Promise<number> {
  await tx.execute(sql`select pg_advisory_xact_lock(${PASSWORD_CHECK_LOCK_CLASS}, ${user.id})`);
  const [row] = await tx.execute<{ n: number }>(sql`
    select count(*)::int as n from audit_trail
    where entity_type = 'user' and entity_id = ${user.username}
      and (action = 'signature.failed' or (action = 'user.password_change_failed' and after->>'cause' = 'wrong_current_password'))
      and recorded_at > now() - make_interval(mins => ${FAILED_PASSWORD_CHECK_WINDOW_MINUTES})
      and recorded_at > coalesce((select max(recorded_at) from audit_trail
        where actor = ${user.username} and action in ('change_request.sign', 'rule_set.release', 'user.password_change')), '-infinity')`);
  return row?.n ?? 0;
}
