/**
 * Read models for the user administration screens. The password hash is never selected: it has
 * no business outside app/services/sessions.server.ts.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { pendingRoleGrants, sites, userRoles, users } from "../../db/schema";
import type { Role } from "../domain/roles";
import type { DbOrTx } from "../utils/db.server";

/** A user and their roles, as the user list and the administration services return them. */
export interface UserView {
  username: string;
  displayName: string;
  active: boolean;
  grants: { role: Role; site: string | null }[];
}

/** Every user with their roles (site null = all sites), by user name. */
export async function listUsers(db: DbOrTx): Promise<UserView[]> {
  const rows = await db
    .select({ id: users.id, username: users.username, displayName: users.displayName, active: users.active, role: userRoles.role, site: sites.code })
    .from(users)
    .leftJoin(userRoles, eq(userRoles.userId, users.id))
    .leftJoin(sites, eq(sites.id, userRoles.siteId))
    .orderBy(users.username, userRoles.role, sites.code);
  const byUser = new Map<number, UserView>();
  for (const r of rows) {
    const view = byUser.get(r.id) ?? { username: r.username, displayName: r.displayName, active: r.active, grants: [] };
    if (r.role) view.grants.push({ role: r.role, site: r.site });
    byUser.set(r.id, view);
  }
  return [...byUser.values()];
}

/** One user with their roles (site null = all sites), or null when there is no such user. */
export async function userDetail(db: DbOrTx, params: { username: string }) {
  const [user] = await db
    .select({
      id: users.id,
      username: users.username,
      displayName: users.displayName,
      email: users.email,
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

/** Grant requests waiting for a second administrator, oldest first. */
export async function pendingGrants(db: DbOrTx, params: { username?: string } = {}) {
  return db
    .select({
      id: pendingRoleGrants.id,
      username: users.username,
      role: pendingRoleGrants.role,
      site: sites.code,
      requestedBy: pendingRoleGrants.requestedBy,
      requestedAt: pendingRoleGrants.requestedAt,
      reason: pendingRoleGrants.reason,
    })
    .from(pendingRoleGrants)
    .innerJoin(users, eq(users.id, pendingRoleGrants.userId))
    .leftJoin(sites, eq(sites.id, pendingRoleGrants.siteId))
    .where(and(isNull(pendingRoleGrants.decidedAt), params.username ? eq(users.username, params.username) : undefined))
    .orderBy(pendingRoleGrants.requestedAt, pendingRoleGrants.id);
}
