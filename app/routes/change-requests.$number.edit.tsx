import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { ChangeRequestForm } from "~/components/change-request-form";
import { ChangeRequestStatusBadge, STATUS_LABELS } from "~/components/change-request-status";
import { FormError, parseForm, type FieldErrors } from "~/components/forms";
import { isEditable } from "~/domain/change-request-lifecycle";
import { changeRequestFormOptions, changeRequestHead, proposedSiteIds } from "~/queries/change-requests.server";
import { proposalContextsOf } from "~/queries/proposal-context.server";
import { changeRequestFormSchema, formErrorsOf } from "~/schemas/change-request-form";
import { updateChangeRequest } from "~/services/change-requests.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireEverySite, requireRecord, signerOf, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { actionError, invariantResponse, notFound } from "~/utils/errors.server";
import { isAuthorOf, sitePermissionProblems } from "../../policies/change-request-sites";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Edit ${data.number} · Change requests · C-981` : "Change request · C-981" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const head = await changeRequestHead(db, params.number ?? "");
  if (!head) throw notFound();
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: head.siteIds });
  // No exemption, not even for administrators: only the author changes what they proposed.
  invariantResponse(isAuthorOf(signedIn.user.id, head), () => `Only the author of ${head.number} (${head.authorName}) can edit it.`, 403);
  return {
    number: head.number,
    title: head.title,
    status: head.status,
    revision: head.revision,
    rowVersion: head.rowVersion,
    validSignatures: head.validSignatures,
    content: head.content,
    editable: isEditable(head.status),
    options: await changeRequestFormOptions(db, siteFilter(signedIn)),
    contexts: await proposalContextsOf(db, head.content.changes as unknown as Record<string, unknown>[], {
      at: await databaseNow(db),
      visible: siteFilter(signedIn),
    }),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "update", "ChangeRequest");
  const db = await getDb();
  const head = await changeRequestHead(db, params.number ?? "");
  if (!head) throw notFound();
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: head.siteIds });
  const formData = await request.formData();
  const expected = z.coerce.number().int().positive().safeParse(formData.get("rowVersion"));
  if (!expected.success)
    return data(
      { fieldErrors: { form: ["The form is incomplete: reload the page and try again."] } as FieldErrors, conflict: null as string | null },
      { status: 400 },
    );
  const form = parseForm(changeRequestFormSchema, formData);
  if (!form.ok) return data({ fieldErrors: form.fieldErrors, conflict: null as string | null }, { status: 400 });
  const { content, changeRows, taskRows } = form.data;
  const sites = await proposedSiteIds(db, content.changes);
  const problems = sitePermissionProblems(signedIn.ability, "update", content.changes, sites, changeRows);
  if (Object.keys(problems).length > 0) return data({ fieldErrors: problems, conflict: null as string | null }, { status: 403 });
  requireEverySite(signedIn, "update", [...new Set([...sites.all, ...head.siteIds])]);
  try {
    await updateChangeRequest(db, signerOf(signedIn), head.number, expected.data, content);
  } catch (error) {
    return actionError(error, (fieldErrors, conflict) => ({ fieldErrors, conflict }), {
      pageNotFound: true,
      mapFields: (fields) => formErrorsOf(fields, changeRows, taskRows),
      message: "always",
      conflictApart: true,
    });
  }
  throw redirect(`/change-requests/${head.number}?done=edit`);
}

export default function EditChangeRequest() {
  const view = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">Edit</span> {view.number}
          </>
        }
        lead={
          <>
            <ChangeRequestStatusBadge status={view.status} /> · revision {view.revision}
          </>
        }
      >
        <Link to={`/change-requests/${view.number}`}>Back to {view.number}</Link>
      </PageHeader>
      {actionData?.conflict ? (
        <div className="form-error conflict-error" role="alert">
          <p>
            <strong>Not saved — conflict:</strong> {actionData.conflict}
          </p>
          <p>
            <Link to={`/change-requests/${view.number}`}>Open {view.number} as it is now</Link>
          </p>
        </div>
      ) : null}
      {!view.editable ? (
        <FormError errors={[`${view.number} is ${STATUS_LABELS[view.status]}: it can no longer be edited.`]} />
      ) : (
        <>
          <div className="notice notice-warn" role="note">
            <p>
              <strong>Saving makes revision {view.revision + 1}.</strong> An edit of signed content voids every signature given so far: they are kept, marked
              void, and reviewers sign again.
              {view.validSignatures > 0 ? ` ${view.validSignatures} valid signature${view.validSignatures === 1 ? "" : "s"} will be voided.` : ""}
              {view.status === "approved" ? " The change request goes back to review." : ""}
            </p>
          </div>
          <ChangeRequestForm
            options={view.options}
            initial={view.content}
            contexts={view.contexts}
            serverErrors={actionData?.fieldErrors}
            submitLabel={`Save revision ${view.revision + 1}`}
            rowVersion={view.rowVersion}
          />
        </>
      )}
    </>
  );
}
