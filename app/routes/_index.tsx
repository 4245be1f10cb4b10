import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { AuditEntity } from "~/components/audit-entity";
import { AwaitingMySignature } from "~/components/change-request-awaiting";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { formatCount } from "~/components/format";
import { UtcTime } from "~/components/time";
import { awaitingMySignature } from "~/queries/change-requests.server";
import { dashboard } from "~/queries/screens.server";
import { requirePermission, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "Dashboard · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "Material");
  const db = await getDb();
  const [board, awaiting] = await Promise.all([
    dashboard(db, {
      at: await databaseNow(db),
      sites: siteFilter(signedIn),
      // Decided here, on the server: without the permission the entries are not in the data at all.
      withAudit: signedIn.ability.can("read", "AuditTrail"),
    }),
    // Reviewers only: change requests in review still needing a role they hold.
    signedIn.ability.can("sign", "ChangeRequest")
      ? awaitingMySignature(db, { userId: signedIn.user.id, grants: signedIn.grants, sites: siteFilter(signedIn) })
      : Promise.resolve(null),
  ]);
  return { ...board, awaiting };
}

export default function Dashboard() {
  const data = useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader
        title="Dashboard"
        lead={
          <>
            As of <UtcTime value={data.at} /> · data point <strong>seq {formatCount(data.auditHead)}</strong>
          </>
        }
      />

      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading" className="visually-hidden">
          Counts
        </h2>
        <dl className="stat-grid">
          <div className="stat">
            <dt>Sites</dt>
            <dd>
              <Link to="/sites">{formatCount(data.siteCount)}</Link>
            </dd>
          </div>
          <div className="stat">
            <dt>Materials</dt>
            <dd>
              <Link to="/materials">{formatCount(data.materialCount)}</Link>
            </dd>
          </div>
          <div className="stat">
            <dt>Open work orders</dt>
            <dd>{formatCount(data.openWorkOrders)}</dd>
          </div>
          <div className="stat">
            <dt>Audit head (data point)</dt>
            <dd>{data.latestAudit ? <Link to="/audit">seq {formatCount(data.auditHead)}</Link> : <>seq {formatCount(data.auditHead)}</>}</dd>
          </div>
        </dl>
      </section>

      {data.awaiting ? <AwaitingMySignature rows={data.awaiting} /> : null}

      <div className="two-column">
        <DataTable id="trace-items-by-status" caption="Trace items by status">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Items
              </th>
            </tr>
          </thead>
          <tbody>
            {data.traceItemsByStatus.map((row) => (
              <tr key={row.status}>
                <th scope="row">{row.status}</th>
                <td className="num">{formatCount(row.count)}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>

        <DataTable id="site-versions" caption="Rule set in force per site">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Version</th>
              <th scope="col">Effective from</th>
              <th scope="col">Digest</th>
            </tr>
          </thead>
          <tbody>
            {data.sites.length === 0 ? <EmptyRow colSpan={4}>No sites yet.</EmptyRow> : null}
            {data.sites.map((site) => (
              <tr key={site.code}>
                <th scope="row">
                  <abbr title={site.name}>{site.code}</abbr>
                </th>
                {site.current ? (
                  <>
                    <td>
                      <Link to={`/rule-sets/${site.code}/${site.current.version}`}>v{site.current.version}</Link>
                    </td>
                    <td>
                      <UtcTime value={site.current.effectiveFrom} />
                    </td>
                    <td>
                      <Digest value={site.current.digest} />
                    </td>
                  </>
                ) : (
                  <td colSpan={3} className="muted">
                    No version in force: legacy
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </DataTable>
      </div>

      {data.latestAudit ? <LatestAudit rows={data.latestAudit} /> : null}
    </>
  );
}

type LatestAuditRows = NonNullable<ReturnType<typeof useLoaderData<typeof loader>>["latestAudit"]>;

function LatestAudit({ rows }: { rows: LatestAuditRows }) {
  return (
      <DataTable id="latest-audit" caption="Latest audit entries" captionDetail={<Link to="/audit">All entries</Link>}>
        <thead>
          <tr>
            <th scope="col" className="num">
              Seq
            </th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Entity</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <EmptyRow colSpan={6}>The audit trail is empty.</EmptyRow> : null}
          {rows.map((row) => (
            <tr key={row.seq}>
              <td className="num">{row.seq}</td>
              <td>
                <UtcTime value={row.recordedAt} />
              </td>
              <td>{row.actor}</td>
              <td>
                <code>{row.action}</code>
              </td>
              <td>
                <AuditEntity entityType={row.entityType} entityId={row.entityId} />
              </td>
              <td className="wrap">{row.reason ?? <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>
  );
}
