import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { useActionData, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { parseForm, type FieldErrors } from "~/components/forms";
import { ReleaseSiteForm } from "~/components/release-site-form";
import { UtcTime } from "~/components/time";
import { describeDisagreement, disagreementsAt } from "~/domain/reconciliation";
import { reconciliationReport } from "~/queries/reconciliation.server";
import { releaseBoard, signingProblem } from "~/queries/releases.server";
import { signatureNeedsUsername } from "~/queries/signing-session.server";
import { mayReleaseAt, releaseSiteIds } from "../../policies/review-and-release";
import { releaseActionSchema } from "~/schemas/release";
import { RELEASE_MEANING, releaseChangeRequests } from "~/services/releases.server";
import { requireUser } from "~/services/signed-in.server";
import { signerOf, type SignedIn } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { readEnv } from "~/utils/env.server";
import { actionError, invariantResponse } from "~/utils/errors.server";
import { loadKeyRing } from "~/utils/signing.server";

/** The ticked numbers as posted (not secret, unlike the password): the form keeps them ticked. */
function tickedIn(formData: FormData): string[] {
  return formData
    .getAll("changeRequests")
    .filter((v): v is string => typeof v === "string")
    .map((v) => v.trim().toUpperCase())
    .slice(0, 500);
}

export const meta: MetaFunction = () => [{ title: "Releases · C-981" }];

/**
 * Releasing is for release managers, at all sites or at the sites of their grants
 * (policies/ability.ts: release ChangeRequest), checked here on every load and post.
 */
function requireReleaseManager(signedIn: SignedIn): number[] | null {
  const siteIds = releaseSiteIds(signedIn.grants);
  invariantResponse(siteIds === null || siteIds.length > 0, "Only release managers release change requests.", 403);
  return siteIds;
}

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requireUser(request);
  const siteIds = requireReleaseManager(signedIn);
  const db = await getDb();
  const at = await databaseNow(db);
  const [sites, needsUsername, cannotSign, report] = await Promise.all([
    releaseBoard(db, { siteIds, viewerId: signedIn.user.id, at }),
    signatureNeedsUsername(db, signedIn.sessionIdHash),
    signingProblem(db, readEnv().C981_SIGNING_KEYS_DIR),
    reconciliationReport(db),
  ]);
  const disagreements = Object.fromEntries(sites.map((s) => [s.site.code, disagreementsAt(report, s.site.code).map(describeDisagreement)]));
  return { at, sites, needsUsername, signingProblem: cannotSign, meaning: RELEASE_MEANING, disagreements };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requireUser(request);
  requireReleaseManager(signedIn);
  const formData = await request.formData();
  const rawSite = formData.get("site");
  const site = typeof rawSite === "string" ? rawSite.trim().toUpperCase() : null;
  const form = parseForm(releaseActionSchema, formData);
  const selected = tickedIn(formData);
  // Only problems go back, never the values (the ticked numbers aside): the password must not travel back in a response.
  if (!form.ok) return data({ site, selected, fieldErrors: form.fieldErrors, conflict: null as string | null }, { status: 400 });
  const target = signedIn.sites.find((s) => s.code === form.data.site);
  invariantResponse(target && mayReleaseAt(signedIn.grants, target.id), () => `You may not release at ${form.data.site}.`, 403);
  if (form.data.intent === "preview") return data({ site, selected, fieldErrors: {} as FieldErrors, conflict: null as string | null });
  const db = await getDb();
  const keyRing = await loadKeyRing(db, readEnv().C981_SIGNING_KEYS_DIR);
  const { intent: _intent, effectiveFrom, ...input } = form.data;
  try {
    const result = await releaseChangeRequests(db, keyRing, signerOf(signedIn, [target.id]), { ...input, effectiveFrom: effectiveFrom?.toISOString() });
    if (!result.ok) {
      // 423 Locked: too many failed attempts; signing is refused for a while.
      return data({ site, selected, fieldErrors: result.fields as FieldErrors, conflict: null as string | null }, { status: result.locked ? 423 : 400 });
    }
    // Post/Redirect/Get, to the version just released and signed.
    throw redirect(`/rule-sets/${result.site}/${result.version}?released=1`);
  } catch (error) {
    // 409: the site or a request moved on (another release, a rebase) or this instance cannot sign.
    return actionError(error, (fieldErrors, conflict) => ({ site, selected, fieldErrors, conflict }), { conflictApart: true });
  }
}

export default function Releases() {
  const view = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const errorsFor = (code: string): FieldErrors | undefined => {
    if (!actionData || actionData.site !== code) return undefined;
    // A 409 is said at the form that met it (the top of the page may be far away), once.
    if (actionData.conflict)
      return { ...actionData.fieldErrors, form: [`Not released: ${actionData.conflict} The list is current again; check it and try again.`] };
    return actionData.fieldErrors;
  };
  return (
    <>
      <PageHeader
        title="Releases"
        lead={
          <>
            Release approved change requests as a site&apos;s next signed rule-set version; status at <UtcTime value={view.at} />.
          </>
        }
      />
      {/* One banner: a conflict is said at the form that met it; here only when no form on the page is that site's. */}
      {actionData?.conflict && !view.sites.some((s) => s.site.code === actionData.site && s.candidates.length > 0) ? (
        <div className="form-error conflict-error" role="alert">
          <p>
            <strong>Not released — conflict{actionData.site ? ` at ${actionData.site}` : ""}:</strong> {actionData.conflict}
          </p>
          <p>The list below is current again; check it and try again.</p>
        </div>
      ) : null}
      {view.signingProblem && view.signingProblem !== actionData?.conflict ? (
        <div className="notice notice-warn" role="status">
          <p>
            <strong>Cannot sign:</strong> {view.signingProblem}
          </p>
        </div>
      ) : null}
      <p className="muted">
        One release creates the site&apos;s next rule-set version from the change requests you pick, signs it and marks them released there. Release a pilot
        site first, then the others. You never release a change request you wrote.
      </p>
      {view.sites.length === 0 ? <p className="muted">No sites.</p> : null}
      {view.sites.map((s) => (
        <ReleaseSiteForm
          key={s.site.code}
          view={s}
          meaning={view.meaning}
          needsUsername={view.needsUsername}
          serverErrors={errorsFor(s.site.code)}
          signingProblem={view.signingProblem}
          disagreements={view.disagreements[s.site.code] ?? []}
          selected={actionData && actionData.site === s.site.code ? actionData.selected : undefined}
        />
      ))}
    </>
  );
}
