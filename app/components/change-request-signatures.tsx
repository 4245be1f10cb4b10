import { findingTitle } from "~/domain/impact-analysis/finding-titles";
import { SIGNATURE_MEANINGS, type SignatureMeaning } from "~/schemas/change-request";
import { reviewerRoleLabel } from "./change-request-status";
import { Digest } from "./digest";
import { formatUtc } from "./format";

export interface SignatureView {
  id: number;
  signerUsername: string;
  printedName: string;
  role: string;
  meaning: SignatureMeaning;
  signedAt: Date | string;
  contentHash: string;
  revision: number;
  /** SHA-256 of the impact analysis signed with (null: signed before analyses were required). */
  analysisHash: string | null;
  /** SHA-256 of the replay stored with that analysis (ADR 041); absent or null: none. */
  replayHash?: string | null;
  comment: string | null;
  /** What the signer attested besides the meaning, in the same signature (ADR 036): `traceability_deviation`. */
  attestations?: readonly string[];
  voidedAt: Date | string | null;
  voidReason: string | null;
  /** The findings of the analysis the signer acknowledged with this signature (ADR 029). */
  acknowledgements?: readonly { findingKey: string; findingCode: string; partNumber: string | null; site: string | null; severity: string; count: number }[];
}

export interface ApprovalView {
  role: string;
  reasons: readonly string[];
  /** Printed names of those whose valid approval fills the role. */
  givenBy: readonly string[];
}

/** "2026-05-04 09:15:02.123 UTC": the date and time of a signature as its manifestation shows it. */
export function manifestTime(value: Date | string): string {
  return formatUtc(value).replace("T", " ").replace(/Z$/, " UTC");
}

/** Which reviewer roles the request needs, why, and who has approved in each. */
export function ApprovalsNeeded({ approvals }: { approvals: readonly ApprovalView[] }) {
  return (
    <section aria-labelledby="cr-approvals-heading" className="card">
      <h2 id="cr-approvals-heading">Approvals needed and given</h2>
      <p className="approvals-summary">
        Needs:{" "}
        {approvals.map((a, i) => (
          <span key={a.role}>
            {i > 0 ? ", " : null}
            <strong>{reviewerRoleLabel(a.role)}</strong>{" "}
            {a.givenBy.length ? (
              <span className="approval-given">
                <span aria-hidden="true">✓</span>
                <span className="visually-hidden">approved</span> ({a.givenBy.join(", ")})
              </span>
            ) : (
              <span className="approval-pending">— pending</span>
            )}
          </span>
        ))}
      </p>
      <ul className="approval-reasons">
        {approvals.map((a) => (
          <li key={a.role}>
            <strong>{reviewerRoleLabel(a.role)}</strong>, because: {a.reasons.join("; ")}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * Electronic signatures with their manifestation (21 CFR 11.50): printed name, date and time
 * (UTC, milliseconds), meaning — plus role, revision and the hash of the signed content. Voided
 * signatures stay, struck through, with why they were voided.
 */
export function SignatureManifestations({
  signatures,
  fullHash = false,
  headingId = "cr-signatures-heading",
}: {
  signatures: readonly SignatureView[];
  fullHash?: boolean;
  headingId?: string;
}) {
  return (
    <section aria-labelledby={headingId} className="card signatures">
      <h2 id={headingId}>Signatures</h2>
      {signatures.length === 0 ? <p className="muted">Not signed yet.</p> : null}
      <ol className="signature-list">
        {signatures.map((s) => {
          const isVoid = s.voidedAt !== null;
          const time = formatUtc(s.signedAt);
          const manifestation = (
            <>
              <strong className="printed-name">{s.printedName}</strong> — <span className="meaning">{SIGNATURE_MEANINGS[s.meaning]}</span>
              {s.attestations?.includes("traceability_deviation") ? (
                <>
                  {" "}
                  and <span className="meaning attestation">Approve deviation from required traceability</span>
                </>
              ) : null}{" "}
              — <time dateTime={time}>{manifestTime(s.signedAt)}</time>
            </>
          );
          return (
            <li
              key={s.id}
              className={isVoid ? "signature signature-void" : "signature"}
              aria-label={`${isVoid ? "Void signature" : "Signature"} of ${s.printedName}`}
            >
              <p className="manifestation">{isVoid ? <s>{manifestation}</s> : manifestation}</p>
              <dl className="signature-facts">
                <div>
                  <dt>Role</dt>
                  <dd>{reviewerRoleLabel(s.role)}</dd>
                </div>
                <div>
                  <dt>User name</dt>
                  <dd>
                    <code>{s.signerUsername}</code>
                  </dd>
                </div>
                <div>
                  <dt>Revision</dt>
                  <dd>{s.revision}</dd>
                </div>
                <div>
                  <dt>Signed content (SHA-256)</dt>
                  <dd>
                    <Digest value={s.contentHash} full={fullHash} />
                  </dd>
                </div>
                <div>
                  <dt>Impact analysis (SHA-256)</dt>
                  <dd>
                    {s.analysisHash === null ? (
                      <span className="muted">none (signed before analyses were required)</span>
                    ) : (
                      <Digest value={s.analysisHash} full={fullHash} />
                    )}
                  </dd>
                </div>
                {s.replayHash ? (
                  <div>
                    <dt>Replay of the last 90 days (SHA-256)</dt>
                    <dd>
                      <Digest value={s.replayHash} full={fullHash} />
                    </dd>
                  </div>
                ) : null}
                {s.acknowledgements?.length ? (
                  <div className="wide">
                    <dt>Findings acknowledged by {s.printedName}</dt>
                    <dd>
                      <ul className="signature-acknowledgements">
                        {s.acknowledgements.map((a) => (
                          <li key={a.findingKey}>
                            {findingTitle(a.findingCode).title} <code className="finding-code">{a.findingCode}</code>
                            {a.partNumber !== null ? ` — ${a.partNumber} at ${a.site}` : ""} — {a.severity}, count {a.count}
                          </li>
                        ))}
                      </ul>
                    </dd>
                  </div>
                ) : null}
                {s.comment ? (
                  <div className="wide">
                    <dt>Comment</dt>
                    <dd>{s.comment}</dd>
                  </div>
                ) : null}
              </dl>
              {isVoid ? (
                <p className="void-reason">
                  <strong>Void</strong> since <time dateTime={formatUtc(s.voidedAt!)}>{manifestTime(s.voidedAt!)}</time>: {s.voidReason}
                </p>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
