import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectField } from "~/components/filter-fields";
import { PagePagination } from "~/components/pagination";
import { DISPOSITION_LABELS, kindLabel, QualityEventStatusBadge, SeverityBadge } from "~/components/quality-event";
import { UtcTime } from "~/components/time";
import { QUALITY_EVENT_KIND_LABELS, QUALITY_EVENT_KINDS, QUALITY_EVENT_STATUSES } from "~/domain/quality-event";
import { listQualityEvents } from "~/queries/quality-events.server";
import { qualityEventFilterSchema } from "~/schemas/quality-event";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "Quality events · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const search = qualityEventFilterSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const signedIn = await requirePermission(request, "read", "QualityEvent");
  const db = await getDb();
  const result = await listQualityEvents(db, { ...search, sites: siteFilter(signedIn) });
  return { search, sites: signedIn.sites.map((s) => s.code), ...result, pageCount: Math.max(1, Math.ceil(result.total / result.pageSize)) };
}

export default function QualityEvents() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  const ability = useAbility();
  const { search } = data;
  const filtered = Boolean(search.site || search.status || search.kind);
  return (
    <>
      <PageHeader
        title="Quality events"
        lead="Nonconformances, concessions, rework orders and customer complaints, each tied to the serials, lots, containers or materials it names and the rule in force for them when it was raised. Only events at your sites are listed."
      >
        {ability.can("create", "QualityEvent") ? (
          <>
            <Link to="/quality-events/new" className="button-link">
              Raise a quality event
            </Link>
            <Link to="/quality-events/import">Import a QMS export</Link>
          </>
        ) : null}
      </PageHeader>

      <Form method="get" className="filters" key={location.search} role="search" aria-label="Filter quality events">
        <SelectField
          name="site"
          label="Site"
          defaultValue={search.site ?? ""}
          anyLabel="All my sites"
          options={data.sites.map((s) => ({ value: s, label: s }))}
        />
        <SelectField name="status" label="Status" defaultValue={search.status ?? ""} options={QUALITY_EVENT_STATUSES.map((s) => ({ value: s, label: s }))} />
        <SelectField
          name="kind"
          label="Kind"
          defaultValue={search.kind ?? ""}
          options={QUALITY_EVENT_KINDS.map((k) => ({ value: k, label: QUALITY_EVENT_KIND_LABELS[k] }))}
        />
        <div className="filter-actions">
          <button type="submit">Apply</button>
          {filtered ? <Link to="/quality-events">Clear</Link> : null}
        </div>
      </Form>

      <DataTable
        id="quality-events"
        caption="Quality events"
        captionDetail={`${data.total} ${data.total === 1 ? "event" : "events"}${filtered ? " (filtered)" : ""}, latest raised first`}
      >
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Kind</th>
            <th scope="col">Title</th>
            <th scope="col">Site</th>
            <th scope="col">Status</th>
            <th scope="col">Severity</th>
            <th scope="col">Disposition</th>
            <th scope="col">References</th>
            <th scope="col">Raised</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.length === 0 ? <EmptyRow colSpan={9}>{filtered ? "No quality event matches these filters." : "No quality events yet."}</EmptyRow> : null}
          {data.rows.map((row) => (
            <tr key={row.number}>
              <th scope="row">
                <Link to={`/quality-events/${row.number}`}>{row.number}</Link>
              </th>
              <td>{kindLabel(row.kind)}</td>
              <td className="wrap">{row.title}</td>
              <td>{row.siteCode}</td>
              <td>
                <QualityEventStatusBadge status={row.status} />
              </td>
              <td>
                <SeverityBadge severity={row.severity} />
              </td>
              <td>{DISPOSITION_LABELS[row.disposition]}</td>
              <td className="num">{row.references}</td>
              <td>
                <UtcTime value={row.raisedAt} /> <span className="muted">by {row.raisedBy}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {data.pageCount > 1 ? <PagePagination page={data.page} pageCount={data.pageCount} total={data.total} label="Quality event pages" /> : null}
    </>
  );
}
