import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { StatusMessage } from "~/components/form-fields";
import { Field, FormError, parseForm, useSchemaForm } from "~/components/forms";
import { NOTIFICATION_KIND_AUDIENCE, NOTIFICATION_KIND_LABELS } from "~/domain/notifications";
import { notificationSettings } from "~/queries/notifications.server";
import { notificationPreferencesSchema } from "~/schemas/notifications";
import { emailConfigured, saveNotificationPreferences } from "~/services/notifications.server";
import { requireUser } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";

export const meta: MetaFunction = () => [{ title: "Notification settings · C-981" }];

/** Each signed-in user's own preferences and e-mail address (ADR 032); no role needed. */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requireUser(request);
  return { settings: await notificationSettings(await getDb(), signedIn.user.id), emailConfigured: emailConfigured() };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requireUser(request);
  const form = parseForm(notificationPreferencesSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  try {
    await saveNotificationPreferences(await getDb(), { id: signedIn.user.id, username: signedIn.user.username }, form.data);
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors }));
  }
  throw redirect("/account/notifications?saved=1");
}

export default function NotificationSettings() {
  const { settings, emailConfigured } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(notificationPreferencesSchema, actionData?.fieldErrors);
  return (
    <>
      <PageHeader title="Notification settings" lead={<Link to="/inbox">Back to the inbox</Link>} />
      {searchParams.get("saved") ? <StatusMessage>Notification settings saved.</StatusMessage> : null}
      {emailConfigured ? null : (
        <p className="notice notice-warn">
          No mail server is configured for this portal (C981_SMTP_URL): notifications go to your inbox only, and no e-mail is sent whatever you choose here.
        </p>
      )}
      <section aria-labelledby="preferences-heading" className="card form-card">
        <h2 id="preferences-heading">What you are told, and how</h2>
        <FormError errors={errors.form} />
        <Form method="post" onSubmit={onSubmit} noValidate>
          <Field
            label="E-mail address"
            name="email"
            type="email"
            autoComplete="email"
            maxLength={254}
            defaultValue={settings.email ?? ""}
            hint="Leave it empty to be told in the inbox only."
            errors={errors.email}
          />
          <table className="data-table">
            <caption className="visually-hidden">Notification kinds</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Inbox</th>
                <th scope="col">E-mail</th>
              </tr>
            </thead>
            <tbody>
              {settings.kinds.map((k) => (
                <tr key={k.kind}>
                  <th scope="row">
                    {NOTIFICATION_KIND_LABELS[k.kind]}
                    <br />
                    <span className="muted">When {NOTIFICATION_KIND_AUDIENCE[k.kind]}.</span>
                  </th>
                  <td>
                    <input type="checkbox" name={`kinds.${k.kind}.inbox`} defaultChecked={k.inbox} aria-label={`${NOTIFICATION_KIND_LABELS[k.kind]}: inbox`} />
                  </td>
                  <td>
                    <input type="checkbox" name={`kinds.${k.kind}.email`} defaultChecked={k.email} aria-label={`${NOTIFICATION_KIND_LABELS[k.kind]}: e-mail`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="submit" disabled={navigation.state === "submitting"}>
            Save notification settings
          </button>
        </Form>
      </section>
    </>
  );
}
