import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { ChangeRequestForm, changeRequestFormSchema, formErrorsOf, sitePermissionProblems } from "~/components/change-request-form";
import { parseForm, type FieldErrors } from "~/components/forms";
import { changeRequestFormOptions, proposedSiteIds } from "~/queries/change-requests.server";
import { createChangeRequest } from "~/services/change-requests.server";
import { requireEverySite, requirePermission, signerOf, siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { DomainError } from "~/utils/errors.server";
import { record } from "../../policies/ability";

export const meta: MetaFunction = () => [{ title: "New change request · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "ChangeRequest");
  return { options: await changeRequestFormOptions(await getDb(), siteFilter(signedIn)) };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "ChangeRequest");
  const form = parseForm(changeRequestFormSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  const { content, changeRows, taskRows } = form.data;
  const db = await getDb();
  const sites = await proposedSiteIds(db, content.changes);
  const problems = sitePermissionProblems(content.changes, sites, changeRows, (siteId) =>
    signedIn.ability.can("create", record("ChangeRequest", { siteIds: [siteId] })),
  );
  if (Object.keys(problems).length > 0) return data({ fieldErrors: problems }, { status: 403 });
  requireEverySite(signedIn, "create", sites.all);
  let number: string;
  try {
    ({ number } = await createChangeRequest(db, signerOf(signedIn), content));
  } catch (error) {
    if (error instanceof DomainError) {
      const fields = Object.keys(error.fields).length ? formErrorsOf(error.fields, changeRows, taskRows) : {};
      return data({ fieldErrors: { ...fields, form: [error.message] } as FieldErrors }, { status: error.status });
    }
    throw error;
  }
  throw redirect(`/change-requests/${number}?done=create`);
}

export default function NewChangeRequest() {
  const { options } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <>
      <PageHeader
        title="New change request"
        lead="A draft until you submit it for review. Reviewers sign exactly what you submit; a later edit voids their signatures."
      >
        <Link to="/change-requests">All change requests</Link>
      </PageHeader>
      <ChangeRequestForm options={options} initial={null} serverErrors={actionData?.fieldErrors} submitLabel="Create draft" />
    </>
  );
}
