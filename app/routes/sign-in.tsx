import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { safeRedirect, signInSchema } from "~/schemas/sign-in";
import { signIn } from "~/services/sessions.server";
import { getSignedIn } from "~/services/signed-in.server";
import { sessionCookie, sessionIdFrom } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { readEnv } from "~/utils/env.server";

export const meta: MetaFunction = () => [{ title: "Sign in · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getSignedIn(request)) {
    throw redirect(safeRedirect(new URL(request.url).searchParams.get("redirectTo")));
  }
  return null;
}

function clientAddress(request: Request): string | null {
  return request.headers.get("x-c981-client-ip");
}

export async function action({ request }: ActionFunctionArgs) {
  const form = parseForm(signInSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors as FieldErrors }, { status: 400 });
  const { username, password, redirectTo } = form.data;
  const result = await signIn(await getDb(), {
    username,
    password,
    ip: clientAddress(request),
    previousSessionId: sessionIdFrom(request),
    maxHours: readEnv().C981_SESSION_MAX_HOURS,
    passwordMaxAgeDays: readEnv().C981_PASSWORD_MAX_AGE_DAYS,
  });
  if (!result.ok) {
    if (result.reason === "throttled") {
      const minutes = Math.ceil(result.retryAfterSeconds / 60);
      return data(
        { fieldErrors: { form: [`Too many failed sign-ins for this user name. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`] } as FieldErrors },
        { status: 429, headers: { "Retry-After": String(result.retryAfterSeconds) } },
      );
    }
    return data({ fieldErrors: { form: ["Wrong user name or password, or the account is deactivated."] } as FieldErrors }, { status: 401 });
  }
  // A password set by an administrator (or too old) is changed first: nothing is signed before (ADR 020).
  const to = result.passwordChange ? `/account/password?redirectTo=${encodeURIComponent(safeRedirect(redirectTo))}` : safeRedirect(redirectTo);
  throw redirect(to, { headers: { "Set-Cookie": sessionCookie(request, result.sessionId, result.expiresAt) } });
}

export default function SignIn() {
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(signInSchema, actionData?.fieldErrors);
  return (
    <section className="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to C-981</h1>
      <FormError errors={errors.form} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? "/"} />
        <Field label="User name" name="username" autoComplete="username" autoCapitalize="none" required maxLength={64} errors={errors.username} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required maxLength={256} errors={errors.password} />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Sign in
        </button>
      </Form>
    </section>
  );
}
