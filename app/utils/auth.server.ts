import { redirect } from "@remix-run/node";
import { eq } from "drizzle-orm";
import { sites, userRoles } from "../../db/schema";
import {
  defineAbilityFor,
  record,
  rolesHeldAtEverySite,
  siteScope,
  type Action,
  type AppAbility,
  type Grant,
  type SubjectType,
} from "../../policies/ability";
import { hashSessionId, resolveSession, type SessionUser } from "../services/sessions.server";
import { getDb } from "./db.server";
import { readEnv } from "./env.server";
import { notFound } from "./errors.server";

export const SESSION_COOKIE = "c981_session";

export interface SignedIn {
  user: SessionUser;
  grants: Grant[];
  ability: AppAbility;
  /** The sites the user's grants reach, with codes, for filtering queries and menus. */
  sites: { id: number; code: string }[];
  scope: "all" | number[];
  /** SHA-256 of the session id (never the id itself): signatures track their session by it. */
  sessionIdHash: string;
}

function cookieValue(request: Request, name: string): string | null {
  const header = request.headers.get("Cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export function sessionIdFrom(request: Request): string | null {
  const value = cookieValue(request, SESSION_COOKIE);
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
}

/** httpOnly, SameSite=Lax, Secure when served over HTTPS; ends with the browser or the session. */
export function sessionCookie(request: Request, sessionId: string, expiresAt: Date): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Lax; Expires=${expiresAt.toUTCString()}${secure}`;
}

export function clearSessionCookie(request: Request): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`;
}

/** The signed-in user of this request with their grants and ability, or null. */
export async function getSignedIn(request: Request): Promise<SignedIn | null> {
  const sessionId = sessionIdFrom(request);
  if (!sessionId) return null;
  const db = await getDb();
  const env = readEnv();
  const session = await resolveSession(db, sessionId, env.C981_SESSION_IDLE_MINUTES, env.C981_PASSWORD_MAX_AGE_DAYS);
  if (!("user" in session)) return null;
  const grants = await db
    .select({ role: userRoles.role, siteId: userRoles.siteId })
    .from(userRoles)
    .where(eq(userRoles.userId, session.user.id));
  const scope = siteScope(grants);
  const allSites = await db.select({ id: sites.id, code: sites.code }).from(sites).orderBy(sites.code);
  return {
    user: session.user,
    grants,
    // One place: while the password must change, the ability itself refuses every administrative action.
    ability: defineAbilityFor(grants, { passwordChangeDue: session.user.passwordChange !== null }),
    sites: scope === "all" ? allSites : allSites.filter((s) => scope.includes(s.id)),
    scope,
    sessionIdHash: hashSessionId(sessionId),
  };
}

/** Signed in, or off to the sign-in page (coming back here afterwards). */
export async function requireUser(request: Request): Promise<SignedIn> {
  const signedIn = await getSignedIn(request);
  if (!signedIn) {
    const url = new URL(request.url);
    const back = url.pathname + url.search;
    throw redirect(`/sign-in${back && back !== "/" ? `?redirectTo=${encodeURIComponent(back)}` : ""}`);
  }
  return signedIn;
}

/** Signed in and allowed `action` on `subject` at least somewhere; else 403. */
export async function requirePermission(request: Request, action: Action, subject: SubjectType): Promise<SignedIn> {
  const signedIn = await requireUser(request);
  if (!signedIn.ability.can(action, subject)) {
    const why = signedIn.user.passwordChange && defineAbilityFor(signedIn.grants).can(action, subject) ? " Change your password first (Change password, at the top of the page): until then you can browse but not act." : "";
    throw new Response(`You do not have permission to do this.${why}`, { status: 403, statusText: "Forbidden" });
  }
  return signedIn;
}

/**
 * Allowed `action` on this record; else 404 — a record a user may not see does not exist for them
 * (the same answer as for a record that does not exist at all).
 */
export function requireRecord(signedIn: SignedIn, action: Action, subject: SubjectType, fields: Record<string, unknown>): void {
  if (!signedIn.ability.can(action, record(subject, fields))) {
    throw notFound();
  }
}

/** The site ids a query must stay within, or null for all sites. */
export function siteFilter(signedIn: SignedIn): number[] | null {
  return signedIn.scope === "all" ? null : signedIn.scope;
}

/** Audit actor name for a signed-in user. */
export function actorName(signedIn: SignedIn): string {
  return signedIn.user.username;
}

/**
 * Allowed `action` on a change request at every one of its sites (a change request spanning sites
 * is only signed or edited by someone whose grants reach them all); else 403.
 */
export function requireEverySite(signedIn: SignedIn, action: Action, siteIds: readonly number[]): void {
  const missing = siteIds.filter((siteId) => !signedIn.ability.can(action, record("ChangeRequest", { siteIds: [siteId] })));
  if (missing.length > 0 || !signedIn.ability.can(action, "ChangeRequest")) {
    throw new Response("You do not have permission to do this at every site of this change request.", { status: 403, statusText: "Forbidden" });
  }
}

/** The signed-in user as the change-request services see them. */
/**
 * The signed-in person as a signer. Given the sites of what they sign (a change request's sites,
 * the released site), their roles are those held at every one of those sites — never a role held
 * only elsewhere.
 */
export function signerOf(signedIn: SignedIn, atSites?: readonly number[]) {
  return {
    id: signedIn.user.id,
    username: signedIn.user.username,
    displayName: signedIn.user.displayName,
    roles: atSites ? rolesHeldAtEverySite(signedIn.grants, atSites) : [...new Set(signedIn.grants.map((g) => g.role))],
    sessionIdHash: signedIn.sessionIdHash,
  };
}
