import { Form, Link, useNavigation } from "@remix-run/react";
import { SIGNATURE_MEANINGS, type SignatureMeaning } from "~/schemas/change-request";
import { signIntentSchema, signWithUsernameSchema } from "~/schemas/change-request-actions";
import type { ReviewerRole } from "../../policies/approval";
import { reviewerRoleLabel } from "./change-request-status";
import { SelectInput, TextAreaField } from "./form-fields";
import { Digest } from "./digest";
import { manifestTime } from "./change-request-signatures";
import { formatUtc } from "./format";
import { ErrorList, Field, FormError, useSchemaForm, type FieldErrors } from "./forms";

const MEANINGS = Object.keys(SIGNATURE_MEANINGS) as SignatureMeaning[];

/**
 * The electronic-signature dialog (21 CFR 11.200): an inline section, not a modal, so it works
 * with the keyboard and without scripts. The password is asked every time; the user name too at
 * the first signature of a continuous series. The meaning is chosen from a fixed list. The
 * signature names the impact analysis shown on the page (its SHA-256 travels in the form); without
 * a current one there is nothing to sign with, and the dialog says so instead of offering to sign.
 */
export function SignatureDialog({
  number,
  revision,
  contentHash,
  rowVersion,
  roles,
  needsUsername,
  analysis,
  serverErrors,
}: {
  number: string;
  revision: number;
  contentHash: string;
  rowVersion: number;
  roles: readonly ReviewerRole[];
  needsUsername: boolean;
  /** The latest impact analysis on the page, and why it may not be signed with (null: it may). */
  analysis: { sha256: string; createdAt: Date | string; problem: string | null } | null;
  serverErrors: FieldErrors | undefined;
}) {
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(needsUsername ? signWithUsernameSchema : signIntentSchema, serverErrors);
  const meaningErrorId = "sign-meaning-error";
  const analysisErrorId = "sign-analysis-error";
  const signable = analysis !== null && analysis.problem === null;
  const analysisErrors = errors.analysisHash;
  return (
    <section aria-labelledby="sign-heading" className="card form-card signature-dialog">
      <h2 id="sign-heading">Sign {number}</h2>
      <p>
        You sign revision {revision} — the signed content has the SHA-256 <Digest value={contentHash} />. Your signature will show your printed name, the date
        and time (UTC) and its meaning. It is voided if the content is edited afterwards.
      </p>
      {signable ? (
        <p className="sign-analysis">
          You sign with impact analysis <Digest value={analysis.sha256} /> of{" "}
          <time dateTime={formatUtc(analysis.createdAt)}>{manifestTime(analysis.createdAt)}</time> (<a href="#impact-analysis">shown above</a>).
        </p>
      ) : (
        <div className="notice notice-warn sign-analysis" id="sign-analysis-missing">
          <p>
            <strong>Not ready to sign:</strong> {analysis?.problem ?? "No impact analysis has been run for it yet."} A reviewer signs together with a current
            impact analysis: <a href="#impact-analysis">run a fresh one</a> (Impact analysis, above) and review it first.
          </p>
        </div>
      )}
      {analysisErrors?.length ? (
        <div className="form-error" role="alert" id={analysisErrorId}>
          <p>{analysisErrors.join(" ")}</p>
          <p>
            <Link to={`/change-requests/${number}`}>Reload {number} to see the latest analysis</Link>
          </p>
        </div>
      ) : null}
      <FormError errors={[...(errors.form ?? []), ...(errors.rowVersion ?? []), ...(errors.intent ?? [])]} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="intent" value="sign" />
        <input type="hidden" name="rowVersion" value={rowVersion} />
        {/* Empty when there is nothing to sign with: the schema then names the field, should it be sent. */}
        <input type="hidden" name="analysisHash" value={signable ? analysis.sha256 : ""} />
        <fieldset className="radio-group" aria-describedby={errors.meaning?.length ? meaningErrorId : undefined}>
          <legend>Meaning of your signature</legend>
          {MEANINGS.map((meaning) => (
            <span className="checkbox-line" key={meaning}>
              <input type="radio" name="meaning" id={`sign-meaning-${meaning}`} value={meaning} aria-invalid={errors.meaning?.length ? true : undefined} />
              <label htmlFor={`sign-meaning-${meaning}`}>{SIGNATURE_MEANINGS[meaning]}</label>
            </span>
          ))}
          <ErrorList id={meaningErrorId} errors={errors.meaning} />
        </fieldset>
        <div className="form-grid">
          <SelectInput
            label="Role you sign in"
            name="role"
            id="sign-role"
            options={
              roles.length === 1
                ? roles.map((r) => ({ value: r, label: reviewerRoleLabel(r) }))
                : [{ value: "", label: "Choose…" }, ...roles.map((r) => ({ value: r, label: reviewerRoleLabel(r) }))]
            }
            defaultValue={roles.length === 1 ? roles[0] : ""}
            errors={errors.role}
          />
          {needsUsername ? (
            <Field
              label="User name"
              name="username"
              id="sign-username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              maxLength={64}
              required
              errors={errors.username}
              hint="First signature of a continuous series: your user name and password"
            />
          ) : null}
          <Field
            label="Password"
            name="password"
            id="sign-password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={256}
            errors={errors.password}
          />
        </div>
        <TextAreaField label="Comment" name="comment" id="sign-comment" rows={2} maxLength={5000} errors={errors.comment} hint="Required when you reject" />
        <button
          type="submit"
          disabled={!signable || navigation.state === "submitting"}
          aria-describedby={!signable ? "sign-analysis-missing" : analysisErrors?.length ? analysisErrorId : undefined}
        >
          Sign {number}
        </button>
      </Form>
    </section>
  );
}
