import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { useAbility } from "~/components/ability";
import { Badge } from "~/components/badge";
import { Digest } from "~/components/digest";
import { CreatedItems, ImportFigures, IssueTable, QuarantinedGtin, RefusalNotice } from "~/components/epcis-import";
import { formatCount } from "~/components/format";
import { UtcTime } from "~/components/time";
import { documentFootprint, epcisImportAttempt, itemsCreatedByDocument } from "~/queries/epcis-imports.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

/** Items listed on an import's record; beyond this the genealogy search finds them. */
const ITEMS_SHOWN = 200;

const paramsSchema = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `EPCIS import ${data?.attempt.fileName ?? ""} · C-981` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  // Whoever may see the site's genealogy may see what was imported into it (a quality engineer too).
  const signedIn = await requirePermission(request, "read", "TraceItem");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const attempt = await epcisImportAttempt(db, { id: parsed.data.id, sites: siteFilter(signedIn) });
  // Another site's attempt is answered as one that does not exist.
  if (!attempt) throw notFound();
  if (attempt.outcome === "refused") return { attempt, footprint: null, created: null };
  const at = { fileDigest: attempt.fileDigest, siteCode: attempt.site };
  const [footprint, created] = await Promise.all([documentFootprint(db, at), itemsCreatedByDocument(db, { ...at, limit: ITEMS_SHOWN })]);
  return { attempt, footprint, created };
}

export default function EpcisImportRecord() {
  const { attempt, footprint, created } = useLoaderData<typeof loader>();
  const refused = attempt.outcome === "refused";
  const canReadAudit = useAbility().can("read", "AuditTrail");
  return (
    <>
      <PageHeader
        title={
          <>
            {attempt.fileName} <Badge tone={refused ? "bad" : "good"}>{attempt.outcome}</Badge>
          </>
        }
        lead={
          <>
            EPCIS import record {attempt.id}: {refused ? "refused" : "imported"} at {attempt.site} by {attempt.actor}, <UtcTime value={attempt.at} />.
          </>
        }
      >
        <Link to="/imports/epcis">EPCIS import and history</Link>
      </PageHeader>

      <section className="card" aria-labelledby="document-heading">
        <h2 id="document-heading">Document</h2>
        <dl className="properties">
          <div>
            <dt>File</dt>
            <dd>{attempt.fileName}</dd>
          </div>
          <div className="wide">
            <dt>SHA-256</dt>
            <dd>
              <Digest value={attempt.fileDigest} full />
            </dd>
          </div>
          <div>
            <dt>Site</dt>
            <dd>{attempt.site}</dd>
          </div>
          <div>
            <dt>Imported by</dt>
            <dd>{attempt.actor}</dd>
          </div>
          <div>
            <dt>When</dt>
            <dd>
              <UtcTime value={attempt.at} />
            </dd>
          </div>
          <div>
            <dt>Audit trail</dt>
            <dd>
              entry {attempt.id}
              {canReadAudit ? (
                <>
                  {" "}
                  · <Link to={`/audit?entityType=epcis_document&entityId=${attempt.fileDigest}`}>every entry of this document</Link>
                </>
              ) : null}
            </dd>
          </div>
        </dl>
      </section>

      {refused ? (
        <section className="card" aria-labelledby="refusal-heading">
          <h2 id="refusal-heading">Refused: nothing was imported</h2>
          <RefusalNotice>
            <p>
              The document was refused whole with {attempt.errorCount === null ? "its" : formatCount(attempt.errorCount)} error(s); no event, trace item or edge
              was stored. The record keeps the first {formatCount(attempt.errors.length)}, located below.
            </p>
          </RefusalNotice>
          <IssueTable id="record-errors" caption="Errors" issues={attempt.errors} total={attempt.errorCount} />
        </section>
      ) : (
        <>
          <section className="card" aria-labelledby="result-heading">
            <h2 id="result-heading">Result when imported</h2>
            <ImportFigures
              figures={[
                { label: "Events read", value: attempt.events },
                { label: "Applied to the genealogy", value: attempt.applied },
                { label: "Trace items created", value: attempt.itemsCreated },
                { label: "Edges created", value: attempt.edgesCreated },
                { label: "Quarantined (unknown GTIN)", value: attempt.quarantined },
              ]}
            />
            {attempt.unknownGtins.length ? (
              <p>
                GTINs unknown when imported:{" "}
                {attempt.unknownGtins.map((g, i) => (
                  <span key={g}>
                    {i > 0 ? ", " : null}
                    <code>{g}</code>
                  </span>
                ))}
                .
              </p>
            ) : null}
          </section>
          {footprint && created ? (
            <section className="card" aria-labelledby="now-heading">
              <h2 id="now-heading">In the genealogy now</h2>
              <p className="muted small">Events released from quarantine since the import count as applied; their items and edges are listed here.</p>
              <ImportFigures
                figures={[
                  { label: "Events applied", value: footprint.applied },
                  { label: "Events still quarantined", value: footprint.quarantined },
                  { label: "Events declared erroneous", value: footprint.superseded },
                  { label: "Trace items", value: created.total },
                  { label: "Edges", value: footprint.edges },
                ]}
              />
              {footprint.waitingGtins.length ? (
                <p>
                  Still waiting for a material with GTIN{" "}
                  {footprint.waitingGtins.map((g, i) => (
                    <span key={g}>
                      {i > 0 ? ", " : null}
                      <QuarantinedGtin gtin={g} />
                    </span>
                  ))}
                  .
                </p>
              ) : null}
              <h3>Trace items created by this document</h3>
              <CreatedItems items={created.items} total={created.total} more={<Link to="/genealogy">search the genealogy by identifier</Link>} />
            </section>
          ) : null}
        </>
      )}
    </>
  );
}
