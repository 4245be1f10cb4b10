import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { MIN_PASSWORD_LENGTH } from "~/domain/password-policy";
import { changePasswordSchema } from "~/schemas/password";
import { safeRedirect } from "~/schemas/sign-in";
import { changeOwnPassword } from "~/services/passwords.server";
import { requireUser } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";
import { readEnv } from "~/utils/env.server";
import { actionError } from "~/utils/errors.server";

export const meta: MetaFunction = () => [{ title: "Change password · C-981" }];

/** Every signed-in user changes their own password here (21 CFR 11.300(b), ADR 020); no role needed. */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requireUser(request);
  return { username: signedIn.user.username, passwordChange: signedIn.user.passwordChange, historyDepth: readEnv().C981_PASSWORD_HISTORY };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requireUser(request);
  const form = parseForm(changePasswordSchema(signedIn.user.username), await request.formData());
  // Only problems go back, never the values.
  if (!form.ok) return data({ fieldErrors: form.fieldErrors as FieldErrors }, { status: 400 });
  try {
    await changeOwnPassword(await getDb(), {
      username: signedIn.user.username,
      currentPassword: form.data.currentPassword,
      newPassword: form.data.newPassword,
      historyDepth: readEnv().C981_PASSWORD_HISTORY,
      keepSessionIdHash: signedIn.sessionIdHash,
      via: "portal",
    });
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors }));
  }
  const back = safeRedirect(form.data.redirectTo, "/");
  throw redirect(`${back}${back.includes("?") ? "&" : "?"}passwordChanged=1`);
}

export default function ChangePassword() {
  const { username, passwordChange, historyDepth } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(changePasswordSchema(username), actionData?.fieldErrors);
  return (
    <>
      <PageHeader title="Change password" lead={`Signed in as ${username}.`} />
      <section aria-labelledby="password-heading" className="card form-card">
        <h2 id="password-heading">Your password</h2>
        {passwordChange ? (
          <p>
            {passwordChange === "expired" ? "Your password is older than the maximum age." : "An administrator set your password."} Choose your own before you
            sign anything.
          </p>
        ) : null}
        <p className="muted">
          At least {MIN_PASSWORD_LENGTH} characters; not your user name, not a common password, no runs such as aaaa or 12345; none of your last {historyDepth}.
          Your other sessions end.
        </p>
        <FormError errors={errors.form} />
        <Form method="post" onSubmit={onSubmit} noValidate>
          <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? "/"} />
          <Field
            label="Current password"
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
            errors={errors.currentPassword}
          />
          <Field
            label="New password"
            name="newPassword"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            maxLength={256}
            errors={errors.newPassword}
          />
          <Field
            label="New password again"
            name="confirmPassword"
            type="password"
            autoComplete="new-password"
            required
            maxLength={256}
            errors={errors.confirmPassword}
          />
          <button type="submit" disabled={navigation.state === "submitting"}>
            Change password
          </button>
        </Form>
      </section>
    </>
  );
}
