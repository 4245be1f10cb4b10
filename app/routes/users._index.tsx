import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectInput, TextAreaField } from "~/components/form-fields";
import { ErrorList, Field, FormError, parseForm, useSchemaForm } from "~/components/forms";
import { ROLE_OPTIONS, RoleList } from "~/components/role-list";
import { siteOptions } from "~/queries/sites.server";
import { createUserFormSchema, MIN_PASSWORD_LENGTH } from "~/schemas/users";
import { createUser } from "~/services/users.server";
import { listUsers } from "~/queries/users.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";

export const meta: MetaFunction = () => [{ title: "Users · C-981" }];

/** Role rows on the form; a user with more roles gets them on their own page. */
const GRANT_ROWS = 3;

export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "User");
  const db = await getDb();
  const [users, sites] = await Promise.all([listUsers(db), siteOptions(db)]);
  return { users, sites: sites.map(({ code, name }) => ({ code, name })) };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "User");
  const form = parseForm(createUserFormSchema, await request.formData());
  // Only problems go back, never the values: the password must not travel back in a response.
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  let username: string;
  try {
    // Portal: the roles wait for a second administrator; the password for its owner's change (ADR 020).
    ({ username } = await createUser(await getDb(), actorName(signedIn), form.data, "portal"));
  } catch (error) {
    // A problem without a field goes to the top.
    return actionError(error, (fieldErrors) => ({ fieldErrors }));
  }
  throw redirect(`/users/${encodeURIComponent(username)}?done=create`);
}

export default function Users() {
  const { users } = useLoaderData<typeof loader>();
  const ability = useAbility();
  return (
    <>
      <PageHeader
        title="Users"
        lead="People who may sign in, with their roles and the sites each role reaches. Users are deactivated, never deleted; a user name is never reused."
      />
      <DataTable id="users" caption="Users" captionDetail={`${users.length} ${users.length === 1 ? "user" : "users"}`}>
        <thead>
          <tr>
            <th scope="col">User name</th>
            <th scope="col">Display name</th>
            <th scope="col">Roles (sites)</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {users.length === 0 ? <EmptyRow colSpan={4}>No users yet.</EmptyRow> : null}
          {users.map((user) => (
            <tr key={user.username} className={user.active ? undefined : "row-inactive"}>
              <th scope="row">
                <Link to={`/users/${encodeURIComponent(user.username)}`}>{user.username}</Link>
              </th>
              <td>{user.displayName}</td>
              <td className="wrap">
                <RoleList grants={user.grants} />
              </td>
              <td>{user.active ? <Badge tone="good">active</Badge> : <Badge tone="neutral">deactivated</Badge>}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {ability.can("create", "User") ? <CreateUserForm /> : null}
    </>
  );
}

function CreateUserForm() {
  const { sites } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(createUserFormSchema, actionData?.fieldErrors);
  const siteChoices = [{ value: "", label: "All sites" }, ...sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))];
  const roleChoices = [{ value: "", label: "— no role —" }, ...ROLE_OPTIONS];
  const grantsErrorId = "create-user-grants-error";
  return (
    <section aria-labelledby="create-user-heading" className="card form-card">
      <h2 id="create-user-heading">Create user</h2>
      <FormError errors={errors.form} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <Field
            label="User name"
            name="username"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            maxLength={32}
            errors={errors.username}
            hint="3–32 lower-case letters, digits, dot, dash or underscore; never reused"
          />
          <Field label="Display name" name="displayName" autoComplete="off" required maxLength={100} errors={errors.displayName} />
          <Field
            label="Initial password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            maxLength={256}
            errors={errors.password}
            hint={`At least ${MIN_PASSWORD_LENGTH} characters, not the user name, not a common password, no runs such as aaaa or 12345. The user must change it before signing anything; the roles wait for a second administrator.`}
          />
        </div>
        <fieldset className="grant-rows" aria-describedby={errors.grants?.length ? grantsErrorId : undefined}>
          <legend>Roles</legend>
          <p className="muted small">One role per row; rows left at “no role” are ignored.</p>
          <ErrorList id={grantsErrorId} errors={errors.grants} />
          {Array.from({ length: GRANT_ROWS }, (_, i) => (
            <div className="grant-row" key={i}>
              <SelectInput
                label={`Role ${i + 1}`}
                name={`grants[${i}].role`}
                id={`create-grant-${i}-role`}
                options={roleChoices}
                defaultValue=""
                errors={errors[`grants.${i}.role`]}
              />
              <SelectInput
                label={`Site for role ${i + 1}`}
                name={`grants[${i}].site`}
                id={`create-grant-${i}-site`}
                options={siteChoices}
                defaultValue=""
                errors={errors[`grants.${i}.site`]}
              />
            </div>
          ))}
        </fieldset>
        <TextAreaField
          label="Reason"
          name="reason"
          id="create-user-reason"
          rows={2}
          required
          maxLength={500}
          errors={errors.reason}
          hint="Recorded in the audit trail with the new user"
        />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Create user
        </button>
      </Form>
    </section>
  );
}
