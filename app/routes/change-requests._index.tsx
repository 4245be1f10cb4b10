import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { z } from "zod";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { ChangeRequestFlags, ChangeRequestStatusBadge, SiteCodes, STATUS_LABELS } from "~/components/change-request-status";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectField, TextField } from "~/components/filter-fields";
import { PagePagination } from "~/components/pagination";
import { UtcTime } from "~/components/time";
import { CHANGE_REQUEST_STATUSES } from "~/domain/change-request-lifecycle";
import { listChangeRequests } from "~/queries/change-requests.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

const PAGE_SIZE = 50;

/** Each param falls back on its own: a bad link narrows nothing and never fails. */
const searchSchema = z.object({
  status: z.enum(CHANGE_REQUEST_STATUSES).optional().catch(undefined),
  site: z
    .string()
    .regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/)
    .optional()
    .catch(undefined),
  material: z
    .string()
    .trim()
    .toUpperCase()
    .max(64)
    .transform((v) => v || undefined)
    .optional()
    .catch(undefined),
  author: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9._-]{1,64}$/)
    .optional()
    .catch(undefined),
  awaiting: z.enum(["1"]).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

export const meta: MetaFunction = () => [{ title: "Change requests · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const search = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const signedIn = await requirePermission(request, "read", "ChangeRequest");
  const db = await getDb();
  const result = await listChangeRequests(
    db,
    { ...search, awaiting: search.awaiting === "1", pageSize: PAGE_SIZE },
    { userId: signedIn.user.id, grants: signedIn.grants, sites: siteFilter(signedIn) },
  );
  return { search, canSign: signedIn.ability.can("sign", "ChangeRequest"), ...result };
}

export default function ChangeRequests() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  const ability = useAbility();
  const { search } = data;
  const filtered = Boolean(search.status || search.site || search.material || search.author || search.awaiting);
  return (
    <>
      <PageHeader
        title="Change requests"
        lead="Proposed changes to how materials are tracked, with their review and electronic signatures. Only change requests touching your sites are listed."
      >
        {ability.can("create", "ChangeRequest") ? (
          <Link to="/change-requests/new" className="button-link">
            New change request
          </Link>
        ) : null}
      </PageHeader>

      <Form method="get" className="filters" key={location.search} role="search" aria-label="Filter change requests">
        <SelectField
          name="status"
          label="Status"
          defaultValue={search.status ?? ""}
          options={CHANGE_REQUEST_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] }))}
        />
        <SelectField
          name="site"
          label="Site"
          defaultValue={search.site ?? ""}
          anyLabel="All my sites"
          options={data.sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))}
        />
        <TextField name="material" label="Material" defaultValue={search.material ?? ""} maxLength={64} type="text" hint="Part number, e.g. SUB-1003" />
        <SelectField
          name="author"
          label="Author"
          defaultValue={search.author ?? ""}
          options={data.authors.map((a) => ({ value: a.username, label: `${a.displayName} (${a.username})` }))}
        />
        {data.canSign ? (
          <div className="field field-checkbox">
            <span className="checkbox-line">
              <input type="checkbox" id="field-awaiting" name="awaiting" value="1" defaultChecked={search.awaiting === "1"} />
              <label htmlFor="field-awaiting">Awaiting my signature ({data.awaitingCount})</label>
            </span>
          </div>
        ) : null}
        <div className="filter-actions">
          <button type="submit">Apply</button>
          {filtered ? <Link to="/change-requests">Clear</Link> : null}
        </div>
      </Form>

      <DataTable
        id="change-requests"
        caption="Change requests"
        captionDetail={`${data.total} ${data.total === 1 ? "change request" : "change requests"}${filtered ? " (filtered)" : ""}, latest change first`}
      >
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Title</th>
            <th scope="col">Status</th>
            <th scope="col">Sites</th>
            <th scope="col">Author</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.length === 0 ? <EmptyRow colSpan={6}>{filtered ? "No change request matches these filters." : "No change requests yet."}</EmptyRow> : null}
          {data.rows.map((row) => (
            <tr key={row.number}>
              <th scope="row">
                <Link to={`/change-requests/${row.number}`}>{row.number}</Link>
              </th>
              <td className="wrap">{row.title}</td>
              <td>
                <ChangeRequestStatusBadge status={row.status} /> <ChangeRequestFlags stale={row.stale} conflict={row.conflict} />
                {row.awaitingMe ? <Badge tone="info">awaiting you</Badge> : null}
              </td>
              <td>
                <SiteCodes sites={row.sites} />
              </td>
              <td>{row.authorName}</td>
              <td>
                <UtcTime value={row.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {data.pageCount > 1 ? <PagePagination page={data.page} pageCount={data.pageCount} total={data.total} label="Change request pages" /> : null}
    </>
  );
}
