import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { FormError, parseForm } from "~/components/forms";
import { UtcTime } from "~/components/time";
import { NOTIFICATION_KIND_LABELS } from "~/domain/notifications";
import { inbox } from "~/queries/notifications.server";
import { inboxActionSchema } from "~/schemas/notifications";
import { markAllNotificationsRead, markNotificationRead } from "~/services/notifications.server";
import { requireUser } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";

export const meta: MetaFunction = () => [{ title: "Inbox · C-981" }];

/** Every signed-in user's own notifications (ADR 032); no role needed, only one's own are shown. */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requireUser(request);
  return { notifications: await inbox(await getDb(), signedIn.user.id) };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requireUser(request);
  const form = parseForm(inboxActionSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  const user = { id: signedIn.user.id, username: signedIn.user.username };
  try {
    if (form.data.intent === "read") await markNotificationRead(await getDb(), user, form.data.id);
    else await markAllNotificationsRead(await getDb(), user);
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors }));
  }
  throw redirect("/inbox");
}

export default function Inbox() {
  const { notifications } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const unread = notifications.filter((n) => n.readAt === null).length;
  return (
    <>
      <PageHeader title="Inbox" lead={`${unread} unread of ${notifications.length}.`}>
        <Link to="/account/notifications">Notification settings</Link>
        {unread > 0 ? (
          <Form method="post">
            <input type="hidden" name="intent" value="read_all" />
            <button type="submit" className="button-secondary" disabled={navigation.state === "submitting"}>
              Mark all read
            </button>
          </Form>
        ) : null}
      </PageHeader>
      <FormError errors={actionData?.fieldErrors.form ?? actionData?.fieldErrors.id} />
      <section aria-labelledby="notifications-heading" className="card">
        <h2 id="notifications-heading">Notifications</h2>
        {notifications.length === 0 ? (
          <p className="muted">Nothing yet: you are told here when a review is requested of you, or of what happens to your change requests.</p>
        ) : (
          <ul className="notification-list" aria-label="Notifications">
            {notifications.map((n) => (
              <li key={n.id} className={n.readAt === null ? "unread" : undefined} aria-label={`${n.readAt === null ? "Unread: " : ""}${n.title}`}>
                <Badge tone={n.readAt === null ? "info" : "neutral"}>{NOTIFICATION_KIND_LABELS[n.kind]}</Badge>{" "}
                <Link to={n.link}>
                  <strong>{n.title}</strong>
                </Link>
                <p>{n.body}</p>
                <p className="muted">
                  <UtcTime value={n.createdAt} />
                  {" · e-mail: "}
                  {n.emailStatus.replace("_", " ")}
                  {n.readAt === null ? null : " · read"}
                </p>
                {n.readAt === null ? (
                  <Form method="post">
                    <input type="hidden" name="intent" value="read" />
                    <input type="hidden" name="id" value={n.id} />
                    <button type="submit" className="link-button" disabled={navigation.state === "submitting"}>
                      Mark read<span className="visually-hidden">: {n.title}</span>
                    </button>
                  </Form>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
