import { sql } from "drizzle-orm";
import type { DbOrTx } from "../utils/db.server";

/** Accounts created by one administrator within this many days of each other count as possibly one person's (ADR 020). */
export const SAME_CREATOR_WINDOW_DAYS = 30;

export interface AccountProvenanceFlag {
  /** Two of the request's places held by accounts from one creator, or by a creator and an account they made. */
  kind: "same_creator" | "creator_of_participant";
  accounts: { username: string; place: string }[];
  creator: string;
}

/**
 * Separation of duties (ADR 020): one person must not hold two of a request's places (author, signer, release
 * manager) through two accounts. Flags pairs of accounts in different places that one
 * administrator (or CLI operator) created within SAME_CREATOR_WINDOW_DAYS of each other, and
 * places held by an account and by the administrator who created it. The seed's demo users are
 * not flagged.
 */
export async function accountProvenanceFlags(db: DbOrTx, changeRequestId: number): Promise<AccountProvenanceFlag[]> {
  const rows = await db.execute<{ kind: AccountProvenanceFlag["kind"]; a_user: string; a_place: string; b_user: string; b_place: string; creator: string }>(sql`
    with places as (
      select author_id as user_id, 'author' as place from change_requests where id = ${changeRequestId}
      union
      select signer_id, 'signer' from signatures where change_request_id = ${changeRequestId} and voided_at is null
      union
      select rs.signer_id, 'release manager' from change_request_site_releases r
        join release_signatures rs on rs.rule_set_version_id = r.rule_set_version_id
        where r.change_request_id = ${changeRequestId}
    ), people as (
      select p.user_id, string_agg(p.place, ' and ' order by p.place) as place, u.username, u.created_by, u.created_at
      from places p join users u on u.id = p.user_id group by p.user_id, u.username, u.created_by, u.created_at
    )
    select 'same_creator' as kind, a.username as a_user, a.place as a_place, b.username as b_user, b.place as b_place, a.created_by as creator
    from people a join people b on a.user_id < b.user_id
    where a.created_by = b.created_by and a.created_by <> 'seed'
      and abs(extract(epoch from a.created_at - b.created_at)) <= ${SAME_CREATOR_WINDOW_DAYS} * 86400
    union all
    select 'creator_of_participant', a.username, a.place, b.username, b.place, b.username
    from people a join people b on a.created_by = b.username and a.user_id <> b.user_id
    order by 2, 4`);
  return rows.map((r) => ({
    kind: r.kind,
    accounts: [
      { username: r.a_user, place: r.a_place },
      { username: r.b_user, place: r.b_place },
    ],
    creator: r.creator,
  }));
}
