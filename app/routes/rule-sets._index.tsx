import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { SelectField } from "~/components/filter-fields";
import { UtcTime } from "~/components/time";
import { ruleSetVersionList } from "~/queries/rule-sets.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";

const searchSchema = z.object({
  site: z
    .string()
    .regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/)
    .optional()
    .catch(undefined),
});

export const meta: MetaFunction = () => [{ title: "Rule sets · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const search = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const db = await getDb();
  // A site the reader cannot see shows nothing, like an unknown site code.
  const list = await ruleSetVersionList(db, { at: await databaseNow(db), siteCode: search.site, sites: siteFilter(signedIn) });
  return { search, ...list };
}

export default function RuleSets() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  return (
    <>
      <PageHeader
        title="Rule sets"
        lead={
          <>
            Published rule-set versions per site; status at <UtcTime value={data.at} />.
          </>
        }
      />
      <Form method="get" className="filters" key={location.search} aria-label="Filter rule sets">
        <SelectField
          name="site"
          label="Site"
          defaultValue={data.search.site ?? ""}
          anyLabel="All sites"
          options={data.sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))}
        />
        <div className="filter-actions">
          <button type="submit">Show</button>
        </div>
      </Form>

      {data.bySite.length === 0 ? <p className="muted">No sites to show.</p> : null}
      {data.bySite.map(({ site, versions }) => (
        <DataTable
          key={site.code}
          id={`versions-${site.code.toLowerCase()}`}
          caption={`${site.code} — ${site.name}`}
          captionDetail={
            <>
              {`${versions.length} ${versions.length === 1 ? "version" : "versions"}`}
              {versions.length >= 2 ? (
                <>
                  {" · "}
                  <Link to={`/rule-sets/${site.code}/compare`}>Compare versions</Link>
                </>
              ) : null}
            </>
          }
        >
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Effective from</th>
              <th scope="col">Issued at</th>
              <th scope="col">Backdated</th>
              <th scope="col">Digest</th>
              <th scope="col">Previous digest</th>
              <th scope="col">Created by</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {versions.length === 0 ? <EmptyRow colSpan={9}>No version yet: everything at this site is legacy.</EmptyRow> : null}
            {versions.map((v) => (
              <tr key={v.version} className={v.status === "in force" ? "row-current" : undefined}>
                <th scope="row">
                  <Link to={`/rule-sets/${site.code}/${v.version}`}>v{v.version}</Link>
                </th>
                <td>
                  {v.status === "in force" ? (
                    <Badge tone="good">in force</Badge>
                  ) : v.status === "scheduled" ? (
                    <Badge tone="info">scheduled</Badge>
                  ) : (
                    <span className="muted">superseded</span>
                  )}
                </td>
                <td>
                  <UtcTime value={v.effectiveFrom} />
                </td>
                <td>
                  <UtcTime value={v.issuedAt} />
                </td>
                <td>{v.backdated ? <Badge tone="warn">backdated</Badge> : "no"}</td>
                <td>
                  <Digest value={v.digest} />
                </td>
                <td>
                  <Digest value={v.previousDigest} />
                </td>
                <td>{v.createdBy}</td>
                <td className="wrap">{v.reason}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ))}
    </>
  );
}
