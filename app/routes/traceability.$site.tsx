import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { SelectInput } from "~/components/form-fields";
import { UtcTime } from "~/components/time";
import { JustificationSummary, JustificationTable } from "~/components/traceability-justification";
import { JUSTIFICATION_STATUS_LABELS, JUSTIFICATION_STATUSES } from "~/domain/traceability-justification";
import { justificationSite, traceabilityJustification } from "~/queries/traceability-justification.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Traceability justification ${data.report.site.code} · C-981` : "Traceability justification · C-981" },
];

const paramsSchema = z.object({ site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/) });
/** An unknown status filter shows every row rather than failing. */
const searchSchema = z.object({ status: z.enum(JUSTIFICATION_STATUSES).optional().catch(undefined) });

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  // Scoped in SQL to the reader's sites: another site's code finds nothing, like an unknown one (404).
  const site = await justificationSite(db, { siteCode: parsed.data.site, sites: siteFilter(signedIn) });
  if (!site) throw notFound();
  requireRecord(signedIn, "read", "RuleSetVersion", { siteId: site.id });
  requireRecord(signedIn, "read", "QualityEvent", { siteId: site.id });
  const report = await traceabilityJustification(db, { siteCode: site.code, at: await databaseNow(db) });
  if (!report) throw notFound();
  const { status } = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  return { report: { ...report, rows: status ? report.rows.filter((r) => r.status === status) : report.rows }, status: status ?? null };
}

export default function TraceabilityJustification() {
  const { report, status } = useLoaderData<typeof loader>();
  const code = report.site.code;
  return (
    <>
      <PageHeader
        title={`Traceability justification: ${code}`}
        lead={
          <>
            {report.site.name}. Generated <UtcTime value={report.generatedAt} /> at rule-set version{" "}
            {report.versionInForce === null ? "none (legacy)" : `v${report.versionInForce}`}; requirements are plant-wide, rules and deviations this site's.
            Deviations expire after their last day in the site's zone ({report.site.timeZone}, today {report.today}).
          </>
        }
      >
        <a href={`/traceability/${code}/justification.csv`} download>
          Export CSV
        </a>
        <Link to={`/traceability/${code}/print`}>Printable record</Link>
        <Link to="/traceability">Other sites</Link>
      </PageHeader>

      <section className="card" aria-labelledby="justification-summary">
        <h2 id="justification-summary">Summary</h2>
        <JustificationSummary summary={report.summary} />
      </section>

      <Form method="get" className="form-grid" aria-label="Filter">
        <SelectInput
          label="Status"
          name="status"
          id="justification-status"
          defaultValue={status ?? ""}
          options={[{ value: "", label: "Every status" }, ...JUSTIFICATION_STATUSES.map((s) => ({ value: s, label: JUSTIFICATION_STATUS_LABELS[s] }))]}
        />
        <button type="submit">Filter</button>
      </Form>

      <JustificationTable rows={report.rows} links caption={status ? `Materials: ${JUSTIFICATION_STATUS_LABELS[status]}` : "Materials"} />
    </>
  );
}
