import { record, rolesHeldAtEverySite, type Action, type AppAbility, type Grant, type SubjectType } from "../../policies/ability";
import type { passwordChangeDue } from "../domain/password-policy";
import { neededFor } from "../../policies/refusal";
import { forbidden, notFound } from "./errors.server";

export const SESSION_COOKIE = "c981_session";

export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  /** The password must be changed before this user signs anything (ADR 020). */
  passwordChange: ReturnType<typeof passwordChangeDue>;
}

/** The signed-in user of a request (app/services/signed-in.server.ts builds it). */
export interface SignedIn {
  user: SessionUser;
  grants: Grant[];
  ability: AppAbility;
  /** The sites the user's grants reach, with codes, for filtering queries and menus. */
  sites: { id: number; code: string }[];
  /** Every site with its code, to name one in a refusal (absent where a caller built this by hand). */
  allSites?: { id: number; code: string }[];
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
    const code = (id: number) => signedIn.allSites?.find((s) => s.id === id)?.code ?? `site ${id}`;
    throw forbidden(neededFor(action, "ChangeRequest", (missing.length > 0 ? missing : siteIds).map(code)));
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
