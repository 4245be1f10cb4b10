import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { AuditTable } from "~/components/audit-table";
import { ChainStatus, type ChainStatusView } from "~/components/chain-status";
import { SelectField, TextField } from "~/components/filter-fields";
import { formatCount } from "~/components/format";
import { KeysetPagination } from "~/components/pagination";
import { auditFilterParams, auditTrailPage, parseAuditSearch } from "~/queries/audit.server";
import { screenChainStatus } from "~/services/audit-anchors.server";
import { readEnv } from "~/utils/env.server";
import { requirePermission } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";

const PAGE_SIZE = 50;

export const meta: MetaFunction = () => [{ title: "Audit trail · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  // Only grants for all sites reach the audit trail (policies/ability.ts); others get 403.
  await requirePermission(request, "read", "AuditTrail");
  const { filters, before, problems } = parseAuditSearch(new URL(request.url).searchParams);
  const db = await getDb();
  const page = await auditTrailPage(db, { filters, before, pageSize: PAGE_SIZE });
  // Not awaited: the status streams in after the table (see ChainStatus). Incremental: from the
  // latest signed anchor this server has proven, not the whole chain on every view (ADR 019).
  const chain: Promise<ChainStatusView> = screenChainStatus(db, readEnv().C981_SIGNING_KEYS_DIR);
  const exportQuery = auditFilterParams(filters).toString();
  return {
    filters,
    before,
    problems,
    filtered: Object.keys(filters).length > 0,
    exportHref: `/audit.csv${exportQuery ? `?${exportQuery}` : ""}`,
    chain,
    ...page,
  };
}

/** A time as a `datetime-local` value (UTC, which the labels say), as short as it can be. */
function dateTimeLocal(value: Date | undefined): string {
  if (!value) return "";
  return value
    .toISOString()
    .slice(0, 23)
    .replace(/\.000$/, "")
    .replace(/(T\d{2}:\d{2}):00$/, "$1");
}

export default function AuditTrail() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  const ability = useAbility();
  const { filters } = data;
  return (
    <>
      <PageHeader
        title="Audit trail"
        lead={
          <>
            Append-only, hash-chained; newest first. Current data point: <strong>seq {formatCount(data.head)}</strong>.
          </>
        }
      >
        {ability.can("export", "AuditTrail") ? (
          // A plain link: the CSV is a file download, not a page of the app.
          <>
            <a href={data.exportHref} download>
              Export CSV{data.filtered ? " (filtered)" : ""}
            </a>{" "}
            {/* The signed anchors, checkable with openssl alone (ADR 019). */}
            <a href="/audit/anchors.tar" download>
              Download signed anchors
            </a>
          </>
        ) : null}
      </PageHeader>

      <ChainStatus status={data.chain} />

      {data.problems.length > 0 ? (
        <div className="notice notice-warn" role="alert">
          <p>Check the filters:</p>
          <ul>
            {data.problems.map((p) => (
              <li key={p.message}>
                {p.message}
                {p.ignored ? " — this filter is not applied." : "."}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      {/* Keyed by the query so the inputs show the URL's values after back/forward navigation. */}
      <Form method="get" className="filters" key={location.search} aria-label="Filter the audit trail">
        <SelectField
          name="entityType"
          label="Entity type"
          defaultValue={filters.entityType ?? ""}
          options={data.entityTypes.map((t) => ({ value: t, label: t }))}
        />
        <TextField name="entityId" label="Entity id" type="text" defaultValue={filters.entityId ?? ""} maxLength={200} hint="Exact match" />
        <SelectField name="actor" label="Actor" defaultValue={filters.actor ?? ""} options={data.actors.map((a) => ({ value: a, label: a }))} />
        <TextField name="from" label="From (UTC)" type="datetime-local" step="0.001" defaultValue={dateTimeLocal(filters.from)} hint="Inclusive" />
        <TextField name="to" label="To (UTC)" type="datetime-local" step="0.001" defaultValue={dateTimeLocal(filters.to)} hint="Inclusive" />
        <div className="filter-actions">
          <button type="submit">Apply</button>
          {data.filtered || data.before !== undefined || data.problems.length > 0 ? <Link to="/audit">Clear</Link> : null}
        </div>
      </Form>

      <AuditTable
        id="audit-trail"
        caption="Audit entries"
        captionDetail={
          <>
            {data.before !== undefined ? `before seq ${formatCount(data.before)}` : "from the head"}
            {data.filtered ? " (filtered)" : ""}
          </>
        }
        rows={data.rows}
        empty="No audit entries match."
        entity
        changes
      />
      <KeysetPagination older={data.older} newer={data.newer} label="Audit trail pages" />
    </>
  );
}
