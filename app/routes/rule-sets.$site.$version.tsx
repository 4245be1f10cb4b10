import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { formatCount } from "~/components/format";
import { StatusMessage } from "~/components/form-fields";
import { ReleasedChangeRequests, ReleaseManifestation } from "~/components/release-signature";
import { ReleaseWaivers } from "~/components/release-waivers";
import { UtcTime } from "~/components/time";
import { TrackingBadge } from "~/components/tracking-badge";
import { ruleSetVersionRelease } from "~/queries/releases.server";
import { ruleSetVersionDocument, ruleSetVersionSite } from "~/queries/rule-sets.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

const paramsSchema = z.object({
  site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/),
  version: z
    .string()
    .regex(/^[1-9][0-9]{0,8}$/)
    .transform(Number),
});

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const found = await ruleSetVersionSite(db, { siteCode: parsed.data.site, version: parsed.data.version });
  if (!found) throw notFound();
  // The record-level check comes before the version itself is read.
  requireRecord(signedIn, "read", "RuleSetVersion", { siteId: found.siteId });
  const { site: siteCode, version } = parsed.data;
  const [document, release] = await Promise.all([
    ruleSetVersionDocument(db, { siteCode, version, at: await databaseNow(db) }),
    ruleSetVersionRelease(db, { siteCode, version }),
  ]);
  if (!document || !release) throw notFound();
  return { ...document, release };
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.siteCode} v${data.version} · Rule sets · C-981` : "Rule set not found · C-981" },
];

export default function RuleSetVersion() {
  const v = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const scheduled = new Date(v.effectiveFrom).getTime() > new Date(v.issuedAt).getTime();
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">Rule set</span> {v.siteCode} v{v.version}
          </>
        }
        lead={v.siteName}
      >
        <nav aria-label="Versions of this site" className="pager-inline">
          {v.version > 1 ? <Link to={`/rule-sets/${v.siteCode}/${v.version - 1}`}>← v{v.version - 1}</Link> : null}
          <Link to={`/rule-sets?site=${v.siteCode}`}>All {v.siteCode} versions</Link>
          {v.version < v.latestVersion ? <Link to={`/rule-sets/${v.siteCode}/${v.version + 1}`}>v{v.version + 1} →</Link> : null}
        </nav>
      </PageHeader>

      <StatusMessage>
        {searchParams.get("released") === "1" && v.release.signature ? (
          <>
            <strong>Released:</strong> {v.siteCode} v{v.version} is signed and stored
            {scheduled ? (
              <>
                ; it takes effect at <UtcTime value={v.effectiveFrom} />
              </>
            ) : (
              " and in force now"
            )}
            .
          </>
        ) : null}
      </StatusMessage>

      <section aria-labelledby="version-heading" className="card">
        <h2 id="version-heading">Version</h2>
        <dl className="properties">
          <div>
            <dt>Effective from</dt>
            <dd>
              <UtcTime value={v.effectiveFrom} />
            </dd>
          </div>
          <div>
            <dt>Issued at</dt>
            <dd>
              <UtcTime value={v.issuedAt} /> {v.backdated ? <Badge tone="warn">backdated</Badge> : null}
            </dd>
          </div>
          <div>
            <dt>Kind</dt>
            <dd>{v.release.kind}</dd>
          </div>
          <div>
            <dt>Expires at</dt>
            <dd>{v.release.expiresAt ? <UtcTime value={v.release.expiresAt} /> : <span className="muted">never</span>}</dd>
          </div>
          <div>
            <dt>Created by</dt>
            <dd>{v.createdBy}</dd>
          </div>
          <div>
            <dt>Reason</dt>
            <dd>{v.reason}</dd>
          </div>
          <div className="wide">
            <dt>Change requests released</dt>
            <dd>
              <ReleasedChangeRequests requests={v.release.changeRequests} />
            </dd>
          </div>
          <div className="wide">
            <dt>SHA-256 digest</dt>
            <dd>
              <Digest value={v.digest} full />{" "}
              {v.digestMatches ? <Badge tone="good">matches the stored bytes</Badge> : <Badge tone="bad">does not match the stored bytes</Badge>}
            </dd>
          </div>
          {v.digestMatches ? null : (
            <div className="wide">
              <dt>Digest of the stored bytes</dt>
              <dd>
                <Digest value={v.computedDigest} full />
              </dd>
            </div>
          )}
          {v.digestV2 === null ? null : (
            <div className="wide">
              <dt>SHA-256 digest, schema version 2</dt>
              <dd>
                <Digest value={v.digestV2} full />{" "}
                {v.digestV2Matches ? <Badge tone="good">matches the stored bytes</Badge> : <Badge tone="bad">does not match the stored bytes</Badge>}
              </dd>
            </div>
          )}
          <div className="wide">
            <dt>Previous digest</dt>
            <dd>
              <Digest value={v.previousDigest} full />
            </dd>
          </div>
        </dl>
      </section>

      <ReleaseManifestation signature={v.release.signature} createdBy={v.createdBy} keyIds={v.release.signingKeyIds} />
      <ReleaseWaivers waivers={v.release.waiver ? [v.release.waiver] : []} id="version-waiver" caption="Waiver given with the release signature" />

      <DataTable
        id="introduced-rules"
        caption="Rules introduced by this version"
        captionDetail={`${formatCount(v.introduced.length)} ${v.introduced.length === 1 ? "rule" : "rules"}`}
      >
        <thead>
          <tr>
            <th scope="col">Material</th>
            <th scope="col">Tracking mode</th>
            <th scope="col">Containers</th>
            <th scope="col">Consumption scan</th>
            <th scope="col">Identifier formats</th>
          </tr>
        </thead>
        <tbody>
          {v.introduced.length === 0 ? <EmptyRow colSpan={5}>This version changed no rule.</EmptyRow> : null}
          {v.introduced.map((rule) => (
            <tr key={rule.partNumber}>
              <th scope="row">
                <Link to={`/materials/${encodeURIComponent(rule.partNumber)}`}>{rule.partNumber}</Link>
              </th>
              <td>
                <TrackingBadge mode={rule.trackingMode} />
              </td>
              <td>{rule.containerTracking ? "yes" : "no"}</td>
              <td>{rule.consumptionScan}</td>
              <td>{rule.identifierFormatCodes.length === 0 ? <span className="muted">none</span> : rule.identifierFormatCodes.join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <section aria-labelledby="canonical-heading">
        <h2 id="canonical-heading">Compiled rule set</h2>
        <p className="muted">The digest is taken over the RFC 8785 canonical bytes ({formatCount(v.canonicalBytes)} bytes); shown here indented for reading.</p>
        {/* biome-ignore lint/a11y/useSemanticElements: the <pre> is the scrollable, focusable region itself; a wrapping <section> would split the name from what scrolls */}
        <pre className="code-block tall" role="region" tabIndex={0} aria-label="Compiled rule set, canonical JSON indented">
          <code>{v.pretty ?? v.canonicalText}</code>
        </pre>
        {v.pretty === null ? <p className="error-text">The stored bytes are not valid JSON; shown as text.</p> : null}
      </section>
    </>
  );
}
