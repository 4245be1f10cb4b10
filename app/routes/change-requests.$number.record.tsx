import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ChangeRequestContentView } from "~/components/change-request-content";
import { ExpandedChanges, StructuredDiff, TextDiff } from "~/components/change-request-diff";
import { ReleaseWaivers } from "~/components/release-waivers";
import { ApprovalsNeeded, manifestTime, SignatureManifestations } from "~/components/change-request-signatures";
import { ChangeRequestStatusBadge } from "~/components/change-request-status";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { formatUtc } from "~/components/format";
import { RecordTimes } from "~/components/time";
import { PrintButton } from "~/components/change-request-print";
import { changeRequestDetail } from "~/queries/change-requests.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Record of ${data.cr.number} · C-981` : "Change request · C-981" }];

/** The printable record: what was proposed, what it stands for, the bases, and every signature. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const detail = await changeRequestDetail(db, params.number ?? "", { historyLimit: 0 });
  if (!detail) throw notFound();
  requireRecord(signedIn, "read", "ChangeRequest", { siteIds: detail.siteIds });
  return {
    printedAt: await databaseNow(db),
    printedBy: signedIn.user.displayName,
    cr: detail.cr,
    siteCodes: detail.siteCodes,
    expanded: detail.expanded,
    currentOf: detail.currentOf,
    bases: detail.bases,
    approvals: detail.approvals,
    signatures: detail.signatures,
    diff: detail.diff,
    diffBasis: detail.diffBasis,
    textDiff: detail.textDiff,
    stale: detail.stale,
    waivers: detail.waivers,
  };
}

export default function ChangeRequestRecord() {
  const view = useLoaderData<typeof loader>();
  const { cr } = view;
  return (
    // The record keeps ISO 8601 UTC, as signed (ADR 031): not the reader's time zone.
    <RecordTimes>
      <article className="cr-record" aria-labelledby="record-title">
        <header className="record-header">
          <p className="record-kind">Change request record</p>
          <h1 id="record-title">
            {cr.number}: {cr.title}
          </h1>
          <p className="record-tools no-print">
            <Link to={`/change-requests/${cr.number}`}>Back to {cr.number}</Link> <PrintButton />
          </p>
        </header>

        <section aria-labelledby="record-identity" className="card">
          <h2 id="record-identity">Identification</h2>
          <dl className="properties">
            <div>
              <dt>Status</dt>
              <dd>
                <ChangeRequestStatusBadge status={cr.status} />
                {view.stale.length ? <span className="error-text"> — stale at {view.stale.join(", ")}</span> : null}
              </dd>
            </div>
            <div>
              <dt>Author</dt>
              <dd>
                {cr.authorName} ({cr.authorUsername})
              </dd>
            </div>
            <div>
              <dt>Revision</dt>
              <dd>{cr.revision}</dd>
            </div>
            <div>
              <dt>Sites</dt>
              <dd>{view.siteCodes.join(", ")}</dd>
            </div>
            <div>
              <dt>Created (UTC)</dt>
              <dd>
                <time dateTime={formatUtc(cr.createdAt)}>{manifestTime(cr.createdAt)}</time>
              </dd>
            </div>
            <div>
              <dt>Last changed (UTC)</dt>
              <dd>
                <time dateTime={formatUtc(cr.updatedAt)}>{manifestTime(cr.updatedAt)}</time>
              </dd>
            </div>
            <div className="wide">
              <dt>Signed content (SHA-256)</dt>
              <dd>
                <Digest value={cr.contentHash} full />
              </dd>
            </div>
          </dl>
        </section>

        <ChangeRequestContentView content={cr.content} />

        <section aria-labelledby="record-changes">
          <h2 id="record-changes">Changes per material</h2>
          <ExpandedChanges changes={view.expanded} current={view.currentOf} basis={view.diffBasis} />
          <StructuredDiff id="record-diff" rows={view.diff} basis={view.diffBasis} />
          <h3 id="record-text-diff">Rules as text</h3>
          <TextDiff text={view.textDiff} label={view.diffBasis === "signed" ? "Unified diff of the rules, signed base and proposed" : undefined} />
        </section>

        <DataTable
          id="record-bases"
          caption="Bases per site"
          captionDetail="the rule set each site had when this revision was written, and the version that released it"
        >
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Base version</th>
              <th scope="col">Rules digest (SHA-256)</th>
              <th scope="col">What it reads (SHA-256)</th>
              <th scope="col">Released in</th>
            </tr>
          </thead>
          <tbody>
            {view.bases.length === 0 ? <EmptyRow colSpan={5}>No bases recorded.</EmptyRow> : null}
            {view.bases.map((b) => (
              <tr key={b.site}>
                <th scope="row">
                  {b.site} <span className="muted">{b.siteName}</span>
                </th>
                <td>{b.version === null ? "none (legacy)" : `v${b.version}`}</td>
                <td>
                  <Digest value={b.rulesDigest} full />
                </td>
                <td>{b.touchedDigest ? <Digest value={b.touchedDigest} full /> : <span className="muted">—</span>}</td>
                <td>{b.releasedIn === null ? "not yet" : `v${b.releasedIn}`}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
        <ReleaseWaivers waivers={view.waivers} id="record-waivers" />

        <ApprovalsNeeded approvals={view.approvals} />
        <SignatureManifestations signatures={view.signatures} fullHash headingId="record-signatures" />

        <footer className="record-footer">
          <p className="muted small">
            Printed by {view.printedBy} at <time dateTime={formatUtc(view.printedAt)}>{manifestTime(view.printedAt)}</time>. The audit trail of {cr.number} is
            the authoritative history.
          </p>
        </footer>
      </article>
    </RecordTimes>
  );
}
