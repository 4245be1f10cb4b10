import { Form, Link, useNavigation } from "@remix-run/react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { SIGNATURE_MEANINGS, type SignatureMeaning } from "~/schemas/change-request";
import { signIntentSchema, signWithUsernameSchema } from "~/schemas/change-request-actions";
import type { ReviewerRole } from "../../policies/approval";
import { reviewerRoleLabel } from "./change-request-status";
import { CheckboxField, SelectInput, TextAreaField } from "./form-fields";
import { Digest } from "./digest";
import { manifestTime } from "./change-request-signatures";
import { formatUtc } from "./format";
import { ErrorList, Field, FormError, useSchemaForm, type FieldErrors } from "./forms";
import { FindingAcknowledgements } from "./finding-acknowledgements";
import type { FindingToAcknowledge } from "~/domain/impact-analysis/acknowledgements";
import { threadElementId } from "~/domain/comment-threads";

const MEANINGS = Object.keys(SIGNATURE_MEANINGS) as SignatureMeaning[];

/** The signing form's element id: the Review link's target without scripts, the modal with them. */
export const SIGN_DIALOG_ID = "sign";
/** The review panel's Review button, where focus returns when the dialog closes. */
export const REVIEW_BUTTON_ID = "review-button";

/** True once the page runs scripts: the progressive enhancements switch on after hydration. */
function useEnhanced() {
  const [enhanced, setEnhanced] = useState(false);
  useEffect(() => setEnhanced(true), []);
  return enhanced;
}

function signDialog(): HTMLDialogElement | null {
  const element = document.getElementById(SIGN_DIALOG_ID);
  return element instanceof HTMLDialogElement ? element : null;
}

const closeSignDialog = () => signDialog()?.close();

/** Opens the modal with focus on the meaning (the chosen one, if any): the first thing to decide. */
function openSignDialog() {
  const dialog = signDialog();
  if (!dialog) return;
  if (!dialog.open) dialog.showModal();
  (dialog.querySelector<HTMLElement>('input[name="meaning"]:checked') ?? dialog.querySelector<HTMLElement>('input[name="meaning"]'))?.focus();
}

/**
 * The review panel's one "Review" action. Without scripts it is a link to the inline signing form
 * at the foot of the page; with them, a button that opens that form as a modal dialog.
 */
export function ReviewButton({ number }: { number: string }) {
  const enhanced = useEnhanced();
  if (!enhanced) {
    return (
      <a href={`#${SIGN_DIALOG_ID}`} id={REVIEW_BUTTON_ID} className="button-link">
        Review {number}
      </a>
    );
  }
  return (
    <button type="button" id={REVIEW_BUTTON_ID} aria-haspopup="dialog" onClick={openSignDialog}>
      Review {number}
    </button>
  );
}

/**
 * The frame of the signing form. Without scripts: an inline section the Review link points at (the
 * same <Form> posts either way). With scripts: a native modal <dialog>, opened by the Review
 * button; Escape or Cancel closes it and focus goes back to the Review button. After a refused
 * submission (the server's errors, or the schema's in the browser) it is opened again with the
 * errors showing and focus on the first invalid field.
 */
function DialogFrame({ enhanced, errors, children }: { enhanced: boolean; errors: FieldErrors; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const shownErrors = useRef<FieldErrors | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the <dialog> exists only once enhanced; errors are then shown in it
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || errors === shownErrors.current || Object.keys(errors).length === 0) return;
    shownErrors.current = errors;
    if (!dialog.open) dialog.showModal();
    // The password is never kept for another attempt.
    const password = dialog.querySelector<HTMLInputElement>('input[name="password"]');
    if (password) password.value = "";
    const invalid = dialog.querySelector<HTMLElement>('[aria-invalid="true"]') ?? dialog.querySelector<HTMLElement>('[role="alert"]');
    if (invalid) {
      if (!invalid.matches("input, select, textarea, button, a[href]")) invalid.tabIndex = -1;
      invalid.focus();
    }
  }, [errors, enhanced]);
  if (!enhanced) {
    return (
      <section aria-labelledby="sign-heading" className="card form-card signature-dialog" id={SIGN_DIALOG_ID}>
        {children}
      </section>
    );
  }
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the click handled is a link's, which Enter raises too
    <dialog
      ref={ref}
      id={SIGN_DIALOG_ID}
      aria-labelledby="sign-heading"
      className="card form-card signature-dialog signature-modal"
      onClose={() => document.getElementById(REVIEW_BUTTON_ID)?.focus()}
      // A link to a place on the page (the impact analysis) closes the modal, so the page shows it.
      onClick={(event) => {
        if (event.target instanceof Element && event.target.closest('a[href^="#"]')) closeSignDialog();
      }}
    >
      {children}
    </dialog>
  );
}

/**
 * The electronic-signature dialog (21 CFR 11.200), a modal opened from the review panel (an inline
 * section without scripts, so it works with the same form). The password is asked every time; the
 * user name too at the first signature of a continuous series. The meaning is chosen from a fixed
 * list. The signature names the impact analysis shown on the page (its SHA-256 travels in the
 * form); without a current one there is nothing to sign with, and the dialog says so instead of
 * offering to sign.
 */
export function SignatureDialog({
  number,
  revision,
  contentHash,
  rowVersion,
  roles,
  needsUsername,
  analysis,
  findings,
  blocking,
  deviations = [],
  serverErrors,
}: {
  number: string;
  revision: number;
  contentHash: string;
  rowVersion: number;
  roles: readonly ReviewerRole[];
  needsUsername: boolean;
  /** The latest impact analysis on the page, and why it may not be signed with (null: it may). */
  analysis: { sha256: string; createdAt: Date | string; problem: string | null; replaySha256?: string | null } | null;
  /** The critical and warning findings of that analysis: an approval acknowledges each (ADR 029). */
  findings: readonly FindingToAcknowledge[];
  /** The open blocking comment threads: an approval is refused while there is one (ADR 030). */
  blocking: readonly { id: number; label: string }[];
  /**
   * The deviations from required traceability the request carries (ADR 036): a regulatory reviewer's
   * approval also attests "approve deviation from required traceability", in the same signature.
   */
  deviations?: readonly { material: string; site: string; expiresOn: string | null }[];
  serverErrors: FieldErrors | undefined;
}) {
  const navigation = useNavigation();
  const enhanced = useEnhanced();
  const { onSubmit, errors } = useSchemaForm(needsUsername ? signWithUsernameSchema : signIntentSchema, serverErrors);
  const meaningErrorId = "sign-meaning-error";
  const analysisErrorId = "sign-analysis-error";
  const signable = analysis !== null && analysis.problem === null;
  const analysisErrors = errors.analysisHash;
  return (
    <DialogFrame enhanced={enhanced} errors={errors}>
      <h2 id="sign-heading">Sign {number}</h2>
      <p>
        You sign revision {revision} — the signed content has the SHA-256 <Digest value={contentHash} />. Your signature will show your printed name, the date
        and time (UTC) and its meaning. It is voided if the content is edited afterwards.
      </p>
      {signable ? (
        <p className="sign-analysis">
          You sign with impact analysis <Digest value={analysis.sha256} /> of{" "}
          <time dateTime={formatUtc(analysis.createdAt)}>{manifestTime(analysis.createdAt)}</time> (<a href="#impact-analysis">shown on the page</a>
          ).
        </p>
      ) : (
        <div className="notice notice-warn sign-analysis" id="sign-analysis-missing">
          <p>
            <strong>Not ready to sign:</strong> {analysis?.problem ?? "No impact analysis has been run for it yet."} A reviewer signs together with a current
            impact analysis: <a href="#impact-analysis">run a fresh one</a> (Impact analysis, on the page) and review it first.
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
      {blocking.length > 0 ? (
        <div className="notice notice-warn sign-blocking">
          <p>
            <strong>An approval will be refused</strong> while {blocking.length === 1 ? "a blocking comment thread is" : "blocking comment threads are"} open:{" "}
            {blocking.map((b, i) => (
              <span key={b.id}>
                {i > 0 ? ", " : null}
                <a href={`#${threadElementId(b.id)}`}>
                  thread #{b.id} on {b.label}
                </a>
              </span>
            ))}
            . The request's author or the thread's opener resolves it; you may still request changes or reject.
          </p>
        </div>
      ) : null}
      <FormError errors={[...(errors.form ?? []), ...(errors.rowVersion ?? []), ...(errors.intent ?? [])]} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="intent" value="sign" />
        <input type="hidden" name="rowVersion" value={rowVersion} />
        {/* Empty when there is nothing to sign with: the schema then names the field, should it be sent. */}
        <input type="hidden" name="analysisHash" value={signable ? analysis.sha256 : ""} />
        <input type="hidden" name="replayHash" value={signable ? (analysis.replaySha256 ?? "") : ""} />
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
        </div>
        <FindingAcknowledgements findings={signable ? findings : []} errors={errors.acknowledged} />
        {deviations.length > 0 && roles.includes("regulatory_reviewer") ? (
          <fieldset className="sign-deviation">
            <legend>Deviation from required traceability</legend>
            <p>
              This request carries {deviations.length === 1 ? "a deviation" : `${deviations.length} deviations`}:{" "}
              {deviations.map((d) => `${d.material} at ${d.site} (${d.expiresOn ? `until ${d.expiresOn}` : "no expiry"})`).join("; ")}. As regulatory reviewer,
              an approval also attests it: one signature, both meanings recorded.
            </p>
            <CheckboxField
              label="I approve deviation from required traceability"
              name="attestDeviation"
              id="sign-attest-deviation"
              errors={errors.attestDeviation}
            />
          </fieldset>
        ) : null}
        <div className="form-grid sign-credentials">
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
        {enhanced ? (
          <button type="button" className="button-secondary sign-cancel" onClick={closeSignDialog}>
            Cancel
          </button>
        ) : null}
      </Form>
    </DialogFrame>
  );
}
