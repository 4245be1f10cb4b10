/**
 * The signed-in user of a request: resolving the session writes (an idle session is signed out,
 * last-seen is touched), so the request guards are a service, not a util (ADR 022). The cookies,
 * the SignedIn type and the per-record guards stay in app/utils/auth.server.ts.
 */
import { redirect } from "@remix-run/node";
import { eq } from "drizzle-orm";
import { sites, userRoles } from "../../db/schema";
import { defineAbilityFor, siteScope, type Action, type SubjectType } from "../../policies/ability";
import { neededFor } from "../../policies/refusal";
import { sessionIdFrom, type SignedIn } from "../utils/auth.server";
import { forbidden } from "../utils/errors.server";
import { getDb } from "../utils/db.server";
import { readEnv } from "../utils/env.server";
import { hashSessionId, resolveSession } from "./sessions.server";

/** The signed-in user of this request with their grants and ability, or null. */
export async function getSignedIn(request: Request): Promise<SignedIn | null> {
  const sessionId = sessionIdFrom(request);
  if (!sessionId) return null;
  const db = await getDb();
  const env = readEnv();
  const session = await resolveSession(db, sessionId, env.C981_SESSION_IDLE_MINUTES, env.C981_PASSWORD_MAX_AGE_DAYS);
  if (!("user" in session)) return null;
  const grants = await db.select({ role: userRoles.role, siteId: userRoles.siteId }).from(userRoles).where(eq(userRoles.userId, session.user.id));
  const scope = siteScope(grants);
  const allSites = await db.select({ id: sites.id, code: sites.code }).from(sites).orderBy(sites.code);
  return {
    user: session.user,
    grants,
    // One place: while the password must change, the ability itself refuses every administrative action.
    ability: defineAbilityFor(grants, { passwordChangeDue: session.user.passwordChange !== null }),
    sites: scope === "all" ? allSites : allSites.filter((s) => scope.includes(s.id)),
    allSites,
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
    const needed = neededFor(action, subject);
    throw signedIn.user.passwordChange && defineAbilityFor(signedIn.grants).can(action, subject)
      ? forbidden(
          needed,
          "You do not have permission to do this. Change your password first (Change password, at the top of the page): until then you can browse but not act.",
        )
      : forbidden(needed);
  }
  return signedIn;
}
