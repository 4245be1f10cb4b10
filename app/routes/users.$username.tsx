import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import type { z } from "zod";
import { useAbility, useSignedInUser } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { AuditTable } from "~/components/audit-table";
import { CheckboxField, SelectInput, StatusMessage, TextAreaField } from "~/components/form-fields";
import { Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { RevokeForm } from "~/components/revoke-form";
import { grantLabel, ROLE_OPTIONS } from "~/components/role-list";
import { UtcTime, UtcTimeOrOpen } from "~/components/time";
import { entityAuditHistory } from "~/queries/audit.server";
import { siteOptions } from "~/queries/sites.server";
import { pendingGrants, userDetail } from "~/queries/users.server";
import { deactivateIntentSchema, emailIntentSchema, grantIntentSchema, revokeIntentSchema, userActionSchema, USERNAME_PATTERN } from "~/schemas/users";
import { decideGrant, deactivateUser, grantRole, revokeRole } from "~/services/users.server";
import { setUserEmail } from "~/services/notifications.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { actionError, notFound } from "~/utils/errors.server";

const HISTORY_LIMIT = 50;

type Intent = z.infer<typeof userActionSchema>["intent"];

const DONE_MESSAGES: Record<Intent | "create", string> = {
  create: "User created. Its roles take effect once a second administrator confirms them; the user must change the password you gave before signing anything.",
  grant: "Grant requested: it takes effect once a second administrator confirms it.",
  confirm: "Grant confirmed: the user holds the role now.",
  decline: "Grant declined.",
  revoke: "Role revoked.",
  deactivate: "User deactivated; their sessions were ended.",
  email: "E-mail address saved.",
};

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.user.username} · Users · C-981` : "User not found · C-981" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "User");
  const username = params.username ?? "";
  if (!USERNAME_PATTERN.test(username)) throw notFound();
  const db = await getDb();
  const user = await userDetail(db, { username });
  if (!user) throw notFound();
  const [history, sites, pending] = await Promise.all([
    entityAuditHistory(db, { entityType: "user", entityId: username, limit: HISTORY_LIMIT }),
    siteOptions(db),
    pendingGrants(db, { username }),
  ]);
  return { user, history, sites: sites.map(({ code, name }) => ({ code, name })), pending };
}

/** The grant a revoke form names, to show its errors on that row only. */
function grantKey(role: unknown, site: unknown): string {
  return `${String(role ?? "")}@${String(site ?? "") || "*"}`;
}

export async function action({ request, params }: ActionFunctionArgs) {
  const formData = await request.formData();
  const rawIntent = formData.get("intent");
  // Deactivating is its own permission; granting and revoking (and anything unknown) need update.
  const signedIn = await requirePermission(request, rawIntent === "deactivate" ? "deactivate" : "update", "User");
  const username = params.username ?? "";
  if (!USERNAME_PATTERN.test(username)) throw notFound();
  const intent = typeof rawIntent === "string" ? rawIntent : null;
  const target = intent === "revoke" ? grantKey(formData.get("grant.role"), formData.get("grant.site")) : null;

  const form = parseForm(userActionSchema, formData);
  if (!form.ok) return data({ intent, target, fieldErrors: form.fieldErrors }, { status: 400 });
  const db = await getDb();
  const actor = actorName(signedIn);
  const { reason } = form.data;
  try {
    switch (form.data.intent) {
      case "grant":
        await grantRole(db, actor, { username, grant: form.data.grant, reason });
        break;
      case "revoke":
        await revokeRole(db, actor, { username, grant: form.data.grant, reason });
        break;
      case "deactivate":
        await deactivateUser(db, actor, { username, reason });
        break;
      case "email":
        await setUserEmail(db, actor, username, form.data.email, reason);
        break;
      case "confirm":
      case "decline": {
        const id = form.data.grantRequest;
        // Only a request for this page's user: another user's request is not found here.
        if (!(await pendingGrants(db, { username })).some((p) => p.id === id)) throw notFound();
        await decideGrant(db, actor, { id, decision: form.data.intent, reason });
        break;
      }
    }
  } catch (error) {
    // No such user: the page's 404 (the very answer requireRecord gives). A role not held is the
    // form's problem, shown on it. The user name is the page, not a field: a problem with it
    // (deactivated, already deactivated) is said in the service's own words.
    return actionError(error, (fieldErrors) => ({ intent, target, fieldErrors }), {
      pageNotFound: (e) => !Object.keys(e.fields).some((f) => f.startsWith("grant")),
      pageFields: ["username"],
    });
  }
  // Post/Redirect/Get: a reload does not repeat the change.
  throw redirect(`/users/${encodeURIComponent(username)}?done=${form.data.intent}`);
}

function useErrorsFor(intent: Intent, target: string | null = null): FieldErrors | undefined {
  const actionData = useActionData<typeof action>();
  if (!actionData || actionData.intent !== intent) return undefined;
  if (target !== null && actionData.target !== target) return undefined;
  return actionData.fieldErrors;
}

export default function UserPage() {
  const { user, history } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const ability = useAbility();
  const me = useSignedInUser();
  const done = searchParams.get("done");
  const isSelf = me?.username === user.username;
  // After a change the history has a new head: remount the forms so they start empty again.
  const formKey = String(history.rows[0]?.seq ?? 0);
  const canUpdate = user.active && ability.can("update", "User");
  const canDeactivate = user.active && ability.can("deactivate", "User");
  // A decision's errors (and errors for a form that is no longer on the page (the user was deactivated meanwhile, the
  // role was already revoked) are shown at the top instead of nowhere.
  const formShown =
    actionData?.intent === "grant"
      ? canUpdate
      : actionData?.intent === "deactivate"
        ? canDeactivate
        : actionData?.intent === "email"
          ? canUpdate
          : actionData?.intent === "revoke"
            ? canUpdate && user.grants.some((g) => grantKey(g.role, g.siteCode) === actionData.target)
            : false;
  const orphanErrors = actionData && !formShown ? Object.values(actionData.fieldErrors).flatMap((e) => e ?? []) : undefined;
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">User</span> {user.username}
          </>
        }
        lead={user.displayName}
      >
        <Link to="/users">All users</Link>
      </PageHeader>

      {/* A later failed attempt replaces the notice of the earlier change (the URL keeps `done`). */}
      <StatusMessage>{!actionData && done && done in DONE_MESSAGES ? DONE_MESSAGES[done as keyof typeof DONE_MESSAGES] : null}</StatusMessage>
      <FormError errors={orphanErrors} />

      <section aria-labelledby="user-heading" className="card">
        <h2 id="user-heading">Account</h2>
        <dl className="properties">
          <div>
            <dt>User name</dt>
            <dd>
              <code>{user.username}</code>
            </dd>
          </div>
          <div>
            <dt>Display name</dt>
            <dd>{user.displayName}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>{user.active ? <Badge tone="good">active</Badge> : <Badge tone="neutral">deactivated</Badge>}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <UtcTime value={user.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Deactivated</dt>
            <dd>
              <UtcTimeOrOpen value={user.deactivatedAt} open="—" />
            </dd>
          </div>
        </dl>
      </section>

      <DataTable
        id="user-roles"
        caption="Roles"
        captionDetail={user.active ? "A role at all sites also grants what only all-site roles may do." : "A deactivated user's roles have no effect."}
      >
        <thead>
          <tr>
            <th scope="col">Role</th>
            <th scope="col">Site</th>
            {canUpdate ? <th scope="col">Revoke</th> : null}
          </tr>
        </thead>
        <tbody>
          {user.grants.length === 0 ? <EmptyRow colSpan={canUpdate ? 3 : 2}>No roles.</EmptyRow> : null}
          {user.grants.map((g, i) => (
            <tr key={grantKey(g.role, g.siteCode)}>
              <th scope="row">{ROLE_OPTIONS.find((o) => o.value === g.role)?.label ?? g.role}</th>
              <td>{g.siteCode ? <abbr title={g.siteName ?? undefined}>{g.siteCode}</abbr> : "all sites"}</td>
              {canUpdate ? (
                <td>
                  <GrantRevokeForm key={formKey} index={i} role={g.role} siteCode={g.siteCode} />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </DataTable>

      <PendingGrants key={`pending-${formKey}`} canDecide={canUpdate} me={me?.username ?? null} />

      {canUpdate ? <GrantForm key={formKey} isSelf={isSelf} /> : null}
      {canUpdate ? <EmailForm key={`email-${formKey}`} /> : null}
      {canDeactivate ? <DeactivateForm key={formKey} isSelf={isSelf} /> : null}

      <AuditTable
        entity={false}
        changes
        id="user-history"
        caption={`Audit history of ${user.username}`}
        captionDetail={
          <>
            newest first{history.more ? `, latest ${HISTORY_LIMIT}` : ""}
            {ability.can("read", "AuditTrail") ? (
              <>
                {" · "}
                <Link to={`/audit?entityType=user&entityId=${encodeURIComponent(user.username)}`}>In the audit trail</Link>
              </>
            ) : null}
          </>
        }
        rows={history.rows}
        empty="No audit entries for this user."
      />
    </>
  );
}

/** Grants one administrator asked for, waiting for another (ADR 020): no authority until confirmed. */
function PendingGrants({ canDecide, me }: { canDecide: boolean; me: string | null }) {
  const { pending } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  if (pending.length === 0) return null;
  return (
    <DataTable
      id="pending-grants"
      caption="Grants waiting for a second administrator"
      captionDetail="They give no authority until a different administrator confirms them."
    >
      <thead>
        <tr>
          <th scope="col">Role</th>
          <th scope="col">Site</th>
          <th scope="col">Asked for by</th>
          <th scope="col">Reason</th>
          {canDecide ? <th scope="col">Decision</th> : null}
        </tr>
      </thead>
      <tbody>
        {pending.map((p) => {
          const label = grantLabel(p.role, p.site);
          return (
            <tr key={p.id}>
              <th scope="row">{ROLE_OPTIONS.find((o) => o.value === p.role)?.label ?? p.role}</th>
              <td>{p.site ?? "all sites"}</td>
              <td>
                {p.requestedBy} <UtcTime value={p.requestedAt} />
              </td>
              <td>{p.reason}</td>
              {canDecide ? (
                <td>
                  <Form method="post" className="inline-form" aria-label={`Decide ${label}`}>
                    <input type="hidden" name="grantRequest" value={p.id} />
                    <Field
                      label={<span className="visually-hidden">Reason for deciding {label}</span>}
                      name="reason"
                      id={`decide-${p.id}-reason`}
                      type="text"
                      placeholder="Reason"
                      maxLength={500}
                      required
                    />
                    {p.requestedBy === me ? (
                      <span className="muted">You asked for it: another administrator confirms.</span>
                    ) : (
                      <button type="submit" name="intent" value="confirm" disabled={navigation.state === "submitting"}>
                        Confirm
                      </button>
                    )}
                    <button type="submit" name="intent" value="decline" className="button-secondary" disabled={navigation.state === "submitting"}>
                      Decline
                    </button>
                  </Form>
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </DataTable>
  );
}

function GrantRevokeForm({ index, role, siteCode }: { index: number; role: string; siteCode: string | null }) {
  return (
    <RevokeForm
      schema={revokeIntentSchema}
      serverErrors={useErrorsFor("revoke", grantKey(role, siteCode))}
      index={index}
      label={grantLabel(role, siteCode)}
      fields={[
        ["grant.role", role],
        ["grant.site", siteCode ?? ""],
      ]}
      buttonClassName="button-secondary"
    />
  );
}

function GrantForm({ isSelf }: { isSelf: boolean }) {
  const { sites } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(grantIntentSchema, useErrorsFor("grant"));
  return (
    <section aria-labelledby="grant-heading" className="card form-card">
      <h2 id="grant-heading">Grant a role</h2>
      {isSelf ? <p className="muted">This is your own account.</p> : null}
      <FormError errors={errors.form} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="intent" value="grant" />
        <div className="form-grid">
          <SelectInput
            label="Role"
            name="grant.role"
            id="grant-role"
            options={[{ value: "", label: "Choose a role" }, ...ROLE_OPTIONS]}
            defaultValue=""
            required
            errors={errors["grant.role"]}
          />
          <SelectInput
            label="Site"
            name="grant.site"
            id="grant-site"
            options={[{ value: "", label: "All sites" }, ...sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))]}
            defaultValue=""
            errors={errors["grant.site"]}
          />
        </div>
        <TextAreaField label="Reason" name="reason" id="grant-reason" rows={2} required maxLength={500} errors={errors.reason} />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Grant role
        </button>
      </Form>
    </section>
  );
}

/** The address notifications are e-mailed to (ADR 032); the user can set it too, on Notification settings. */
function EmailForm() {
  const { user } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(emailIntentSchema, useErrorsFor("email"));
  return (
    <section aria-labelledby="email-heading" className="card form-card">
      <h2 id="email-heading">E-mail address</h2>
      <FormError errors={errors.form} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="intent" value="email" />
        <Field
          label="E-mail address"
          name="email"
          id="user-email"
          type="email"
          maxLength={254}
          defaultValue={user.email ?? ""}
          hint="Notifications are e-mailed here; empty: inbox only."
          errors={errors.email}
        />
        <TextAreaField label="Reason" name="reason" id="email-reason" rows={2} required maxLength={500} errors={errors.reason} />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Save e-mail address
        </button>
      </Form>
    </section>
  );
}

function DeactivateForm({ isSelf }: { isSelf: boolean }) {
  const { user } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(deactivateIntentSchema, useErrorsFor("deactivate"));
  return (
    <section aria-labelledby="deactivate-heading" className="card form-card danger-zone">
      <h2 id="deactivate-heading">Deactivate</h2>
      <p>
        {user.username} will be signed out at once and can never sign in again. The account and its history stay; the user name is never given to anyone else.
      </p>
      {isSelf ? (
        <p className="error-text">
          <strong>This is your own account:</strong> you will be signed out and locked out.
        </p>
      ) : null}
      <FormError errors={errors.form} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="intent" value="deactivate" />
        <TextAreaField label="Reason" name="reason" id="deactivate-reason" rows={2} required maxLength={500} errors={errors.reason} />
        <CheckboxField
          label={`I confirm that ${user.username} is to be deactivated`}
          name="confirm"
          id="deactivate-confirm"
          value="yes"
          required
          errors={errors.confirm}
        />
        <button type="submit" className="button-danger" disabled={navigation.state === "submitting"}>
          Deactivate user
        </button>
      </Form>
    </section>
  );
}
