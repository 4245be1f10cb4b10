import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { ChangeRequestForm } from "~/components/change-request-form";
import { parseForm } from "~/components/forms";
import { changeRequestFormOptions, proposedSiteIds } from "~/queries/change-requests.server";
import { proposalContextsOf, proposalPrefill } from "~/queries/proposal-context.server";
import type { VisibleSites } from "~/queries/sites.server";
import { createChangeRequest } from "~/services/change-requests.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireEverySite, signerOf, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb, type Db } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";
import { sitePermissionProblems } from "../../policies/change-request-sites";
import { DISAGREEMENT_KEY } from "~/domain/reconciliation";
import { TRACKING_MODES } from "~/domain/tracking-rule";
import type { ChangeRequestContent } from "~/schemas/change-request";
import { changeRequestFormSchema, formErrorsOf } from "~/schemas/change-request-form";

export const meta: MetaFunction = () => [{ title: "New change request · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "ChangeRequest");
  const db = await getDb();
  const at = await databaseNow(db);
  const visible = siteFilter(signedIn);
  const prefill = await prefillFrom(db, new URL(request.url).searchParams, { at, visible });
  // What the form shows beside a prefilled tracking change, rendered here too: no JavaScript needed to see it.
  const contexts = prefill ? await proposalContextsOf(db, prefill.changes as unknown as Record<string, unknown>[], { at, visible }) : [];
  return { options: await changeRequestFormOptions(db, visible), prefill, contexts };
}

const CODE = /^[A-Z0-9][A-Z0-9._/-]{0,39}$/;
const asCode = (v: string | null) => (v && CODE.test(v.trim().toUpperCase()) ? v.trim().toUpperCase() : null);

/**
 * A draft started elsewhere: from the reconciliation report (app/routes/reconciliation._index.tsx),
 * the disagreement it cites and the change that would resolve it; from the material page
 * (app/routes/materials.$partNumber.tsx), a tracking change of the material at a site, starting
 * from the rule in force there. The identifier formats come from the rule in force, adjusted to
 * the mode (app/queries/proposal-context.server.ts). Only a starting point: the author completes
 * it and the service checks everything as for any other request.
 */
async function prefillFrom(db: Db, params: URLSearchParams, scope: { at: Date; visible: VisibleSites }): Promise<ChangeRequestContent | null> {
  const cites = params.get("cites")?.trim().toUpperCase() ?? "";
  const material = asCode(params.get("material"));
  const newMaterial = asCode(params.get("newMaterial"));
  const site = asCode(params.get("site"));
  const mode = TRACKING_MODES.find((m) => m === params.get("trackingMode")) ?? null;
  const citing = DISAGREEMENT_KEY.test(cites);
  if (!citing && !(material && site)) return null;
  const changes: Record<string, unknown>[] = [];
  if (citing && newMaterial) changes.push({ kind: "new_material", partNumber: newMaterial, regulatoryFlags: [] });
  const target = (citing ? newMaterial : null) ?? material;
  if (target && site && (mode || !citing)) {
    const prefill = await proposalPrefill(db, { partNumber: target, site, mode, ...scope });
    const rule = prefill?.rule;
    changes.push({
      kind: "tracking",
      material: target,
      sites: [prefill?.site ?? site],
      trackingMode: rule?.trackingMode ?? mode ?? undefined,
      containerTracking: rule?.containerTracking ?? false,
      identifierFormatCodes: rule?.identifierFormatCodes ?? [],
      consumptionScan: rule?.consumptionScan ?? undefined,
    });
  }
  if (!citing) return { title: "", revalidationTasks: [], changes } as unknown as ChangeRequestContent;
  return {
    title: `Resolve the ${cites} tracking disagreement`,
    revalidationTasks: [],
    changes,
    resolvesDisagreements: [cites],
  } as unknown as ChangeRequestContent;
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "ChangeRequest");
  const form = parseForm(changeRequestFormSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  const { content, changeRows, taskRows } = form.data;
  const db = await getDb();
  const sites = await proposedSiteIds(db, content.changes);
  const problems = sitePermissionProblems(signedIn.ability, "create", content.changes, sites, changeRows);
  if (Object.keys(problems).length > 0) return data({ fieldErrors: problems }, { status: 403 });
  requireEverySite(signedIn, "create", sites.all);
  let number: string;
  try {
    ({ number } = await createChangeRequest(db, signerOf(signedIn), content));
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors }), { mapFields: (fields) => formErrorsOf(fields, changeRows, taskRows), message: "always" });
  }
  throw redirect(`/change-requests/${number}?done=create`);
}

export default function NewChangeRequest() {
  const { options, prefill, contexts } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <>
      <PageHeader
        title="New change request"
        lead="A draft until you submit it for review. Reviewers sign exactly what you submit; a later edit voids their signatures."
      >
        <Link to="/change-requests">All change requests</Link>
      </PageHeader>
      <ChangeRequestForm options={options} initial={prefill} contexts={contexts} serverErrors={actionData?.fieldErrors} submitLabel="Create draft" />
    </>
  );
}
