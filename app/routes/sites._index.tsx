import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { UtcTime } from "~/components/time";
import { siteList } from "~/queries/sites.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "Sites · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "Site");
  const db = await getDb();
  const at = await databaseNow(db);
  return { at, sites: await siteList(db, { at, sites: siteFilter(signedIn) }) };
}

export default function Sites() {
  const data = useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader
        title="Sites"
        lead={
          <>
            Rule-set versions in force at <UtcTime value={data.at} />.
          </>
        }
      />
      <DataTable id="sites" caption="Sites">
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Name</th>
            <th scope="col">Time zone</th>
            <th scope="col" className="num">
              Versions
            </th>
            <th scope="col">Version in force</th>
            <th scope="col">Effective from</th>
            <th scope="col">Digest</th>
          </tr>
        </thead>
        <tbody>
          {data.sites.length === 0 ? <EmptyRow colSpan={7}>No sites yet.</EmptyRow> : null}
          {data.sites.map((site) => (
            <tr key={site.code}>
              <th scope="row">
                <Link to={`/rule-sets?site=${site.code}`}>{site.code}</Link>
              </th>
              <td>{site.name}</td>
              <td>{site.timeZone}</td>
              <td className="num">{site.versionCount}</td>
              {site.current ? (
                <>
                  <td>
                    <Link to={`/rule-sets/${site.code}/${site.current.version}`}>v{site.current.version}</Link>
                    {site.scheduledVersion !== null ? (
                      <>
                        {" "}
                        <Badge tone="info">v{site.scheduledVersion} scheduled</Badge>
                      </>
                    ) : null}
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
                  None in force: legacy
                  {site.scheduledVersion !== null ? ` (v${site.scheduledVersion} scheduled)` : ""}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </DataTable>
    </>
  );
}
