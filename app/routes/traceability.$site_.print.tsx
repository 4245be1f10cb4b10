import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { PrintButton } from "~/components/change-request-print";
import { RecordTimes, UtcTime } from "~/components/time";
import { JustificationSummary, JustificationTable } from "~/components/traceability-justification";
import { justificationSite, traceabilityJustification } from "~/queries/traceability-justification.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Traceability justification record ${data.report.site.code} · C-981` : "Traceability justification · C-981" },
];

const paramsSchema = z.object({ site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/) });

/** The printable report: every row, never filtered, times in ISO 8601 UTC like the change-request record. */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const site = await justificationSite(db, { siteCode: parsed.data.site, sites: siteFilter(signedIn) });
  if (!site) throw notFound();
  requireRecord(signedIn, "read", "RuleSetVersion", { siteId: site.id });
  requireRecord(signedIn, "read", "QualityEvent", { siteId: site.id });
  const report = await traceabilityJustification(db, { siteCode: site.code, at: await databaseNow(db) });
  if (!report) throw notFound();
  return { report, printedBy: signedIn.user.displayName };
}

export default function TraceabilityJustificationRecord() {
  const { report, printedBy } = useLoaderData<typeof loader>();
  const code = report.site.code;
  return (
    <RecordTimes>
      <article className="cr-record" aria-labelledby="record-title">
        <header className="record-header">
          <p className="record-kind">Traceability justification record</p>
          <h1 id="record-title">
            {code}: {report.site.name}
          </h1>
          <p className="record-tools no-print">
            <Link to={`/traceability/${code}`}>Back to the report</Link> <PrintButton />
          </p>
        </header>
        <section className="card" aria-labelledby="record-identity">
          <h2 id="record-identity">Identification</h2>
          <dl className="properties">
            <div>
              <dt>Site</dt>
              <dd>
                {code} ({report.site.timeZone})
              </dd>
            </div>
            <div>
              <dt>Generated at</dt>
              <dd>
                <UtcTime value={report.generatedAt} />
              </dd>
            </div>
            <div>
              <dt>Generated for</dt>
              <dd>{printedBy}</dd>
            </div>
            <div>
              <dt>Rule-set version in force</dt>
              <dd>{report.versionInForce === null ? "none (legacy)" : `v${report.versionInForce}`}</dd>
            </div>
            <div>
              <dt>Deviations judged on</dt>
              <dd>{report.today} (the site's date)</dd>
            </div>
          </dl>
        </section>
        <section className="card" aria-labelledby="record-summary">
          <h2 id="record-summary">Summary</h2>
          <JustificationSummary summary={report.summary} />
        </section>
        <JustificationTable rows={report.rows} links={false} caption="Every material" />
      </article>
    </RecordTimes>
  );
}
