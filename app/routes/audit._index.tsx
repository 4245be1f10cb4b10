import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { AuditEntity } from "~/components/audit-entity";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectField } from "~/components/filter-fields";
import { formatCount } from "~/components/format";
import { JsonDetails } from "~/components/json-details";
import { KeysetPagination } from "~/components/pagination";
import { UtcTime } from "~/components/time";
import { auditTrailPage } from "~/queries/screens.server";
import { getDb } from "~/utils/db.server";

const PAGE_SIZE = 50;

const searchSchema = z.object({
  before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().catch(undefined),
  entityType: z.string().min(1).max(100).optional().catch(undefined),
  actor: z.string().min(1).max(200).optional().catch(undefined),
});

export const meta: MetaFunction = () => [{ title: "Audit trail · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const search = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const db = await getDb();
  return { search, ...(await auditTrailPage(db, { ...search, pageSize: PAGE_SIZE })) };
}

export default function AuditTrail() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  const { search } = data;
  return (
    <>
      <PageHeader
        title="Audit trail"
        lead={
          <>
            Append-only, hash-chained; newest first. Head: <strong>seq {formatCount(data.head)}</strong>.
          </>
        }
      />
      <Form method="get" className="filters" key={location.search} aria-label="Filter the audit trail">
        <SelectField
          name="entityType"
          label="Entity type"
          defaultValue={search.entityType ?? ""}
          options={data.entityTypes.map((t) => ({ value: t, label: t }))}
        />
        <SelectField
          name="actor"
          label="Actor"
          defaultValue={search.actor ?? ""}
          options={data.actors.map((a) => ({ value: a, label: a }))}
        />
        <div className="filter-actions">
          <button type="submit">Apply</button>
          {search.entityType || search.actor || search.before ? <Link to="/audit">Clear</Link> : null}
        </div>
      </Form>

      <DataTable
        id="audit-trail"
        caption="Audit entries"
        captionDetail={search.before !== undefined ? `before seq ${formatCount(search.before)}` : "from the head"}
      >
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
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.length === 0 ? <EmptyRow colSpan={8}>No audit entries match.</EmptyRow> : null}
          {data.rows.map((row) => (
            <tr key={row.seq}>
              <th scope="row" className="num">
                {row.seq}
              </th>
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
              <td>
                <JsonDetails summary="before" json={row.before} />
              </td>
              <td>
                <JsonDetails summary="after" json={row.after} />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      <KeysetPagination older={data.older} newer={data.newer} label="Audit trail pages" />
    </>
  );
}
