import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { DataTable, EmptyRow } from "~/components/data-table";
import { siteList } from "~/queries/sites.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "Traceability justification · C-981" }];

/** The sites whose traceability justification report the reader may see (scoped in SQL). */
export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const db = await getDb();
  const sites = await siteList(db, { at: await databaseNow(db), sites: siteFilter(signedIn) });
  return { sites: sites.map((s) => ({ code: s.code, name: s.name, version: s.current?.version ?? null })) };
}

export default function TraceabilitySites() {
  const { sites } = useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader
        title="Traceability justification"
        lead="Evidence for the auditor, per site: every material's required and actual traceability, the justification and the change requests that set it, open deviations and the open quality events that rely on it."
      />
      <DataTable id="traceability-sites" caption="Sites" captionDetail={`${sites.length} site(s)`}>
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Rule-set version in force</th>
            <th scope="col">Report</th>
          </tr>
        </thead>
        <tbody>
          {sites.length === 0 ? <EmptyRow colSpan={3}>No site is visible to you.</EmptyRow> : null}
          {sites.map((s) => (
            <tr key={s.code}>
              <th scope="row">
                <Link to={`/traceability/${s.code}`}>{s.code}</Link> <span className="muted small">{s.name}</span>
              </th>
              <td>{s.version === null ? <span className="muted">none (legacy)</span> : `v${s.version}`}</td>
              <td>
                <Link to={`/traceability/${s.code}`} aria-label={`Screen for ${s.code}`}>
                  Screen
                </Link>{" "}
                ·{" "}
                <a href={`/traceability/${s.code}/justification.csv`} download aria-label={`CSV for ${s.code}`}>
                  CSV
                </a>{" "}
                ·{" "}
                <Link to={`/traceability/${s.code}/print`} aria-label={`Printable record for ${s.code}`}>
                  Printable
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </>
  );
}
