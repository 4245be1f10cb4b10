import { Link } from "@remix-run/react";
import type { ChangeRequestStatus } from "~/domain/change-request-lifecycle";
import { manifestTime } from "./change-request-signatures";
import { ChangeRequestStatusBadge } from "./change-request-status";
import { Digest } from "./digest";
import { formatUtc } from "./format";

export interface ReleaseSignatureView {
  printedName: string;
  signerUsername: string;
  meaning: string;
  signedAt: Date | string;
  digest: string;
}

/**
 * The release manager's signature on a rule-set version, as its manifestation (21 CFR 11.50):
 * printed name, date and time (UTC, milliseconds) and meaning, with the SHA-256 it signs.
 */
export function ReleaseManifestation({
  signature,
  createdBy,
  keyIds,
}: {
  signature: ReleaseSignatureView | null;
  createdBy: string;
  keyIds: readonly string[];
}) {
  return (
    <section aria-labelledby="release-signature-heading" className="card signatures">
      <h2 id="release-signature-heading">Release signature</h2>
      {signature === null ? (
        <p className="muted">No release manager signed this version: it was created by {createdBy}, not by a release.</p>
      ) : (
        <ol className="signature-list">
          <li className="signature" aria-label={`Release signature of ${signature.printedName}`}>
            <p className="manifestation">
              <strong className="printed-name">{signature.printedName}</strong> — <span className="meaning">{signature.meaning}</span> —{" "}
              <time dateTime={formatUtc(signature.signedAt)}>{manifestTime(signature.signedAt)}</time>
            </p>
            <dl className="signature-facts">
              <div>
                <dt>Role</dt>
                <dd>release manager</dd>
              </div>
              <div>
                <dt>User name</dt>
                <dd>
                  <code>{signature.signerUsername}</code>
                </dd>
              </div>
              <div className="wide">
                <dt>Signed rule set (SHA-256)</dt>
                <dd>
                  <Digest value={signature.digest} full />
                </dd>
              </div>
              <div className="wide">
                <dt>Sealed for runtimes (JWS, Ed25519) by key</dt>
                <dd>
                  {keyIds.length ? (
                    keyIds.map((kid) => (
                      <code key={kid} className="digest release-kid">
                        {kid}
                      </code>
                    ))
                  ) : (
                    <span className="muted">no JWS stored</span>
                  )}
                </dd>
              </div>
            </dl>
          </li>
        </ol>
      )}
    </section>
  );
}

/** The change requests a version released, linked. */
export function ReleasedChangeRequests({ requests }: { requests: readonly { number: string; title: string | null; status: ChangeRequestStatus | null }[] }) {
  if (requests.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="release-cr-list">
      {requests.map((r) => (
        <li key={r.number}>
          <Link to={`/change-requests/${r.number}`}>{r.number}</Link>
          {r.title ? ` ${r.title}` : null} {r.status ? <ChangeRequestStatusBadge status={r.status} /> : null}
        </li>
      ))}
    </ul>
  );
}
