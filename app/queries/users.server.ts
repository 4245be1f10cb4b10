/**
 * Read models for the user administration screens. The password hash is never selected: it has
 * no business outside app/services/sessions.server.ts.
 */
import { asc, eq } from "drizzle-orm";
import { sites, userRoles, users } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** One user with their roles (site null = all sites), or null when there is no such user. */
export async function userDetail(db: DbOrTx, params: { username: string }) {
  const [user] = await db
    .select({
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      active: users.active,
      createdAt: users.createdAt,
      deactivatedAt: users.deactivatedAt,
    })
    .from(users)
    .where(eq(users.username, params.username));
  if (!user) return null;
  const grants = await db
    .select({ role: userRoles.role, siteCode: sites.code, siteName: sites.name })
    .from(userRoles)
    .leftJoin(sites, eq(sites.id, userRoles.siteId))
    .where(eq(userRoles.userId, user.id))
    .orderBy(asc(userRoles.role), asc(sites.code));
  const { id: _id, ...shown } = user;
  return { ...shown, grants };
}
