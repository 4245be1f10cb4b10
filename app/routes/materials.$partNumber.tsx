import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { AttributeChangeRequests, ChangeRequestsAtSite } from "~/components/change-request-material-list";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { formatCount, formatQuantity } from "~/components/format";
import { RuleTimeline, RuleInForceSummary } from "~/components/rule-timeline";
import { UtcTime } from "~/components/time";
import { TrackingBadge } from "~/components/tracking-badge";
import { LookAlikeTable } from "~/components/look-alikes";
import { MaterialQualityEvents, QualityEventBadges } from "~/components/quality-event-markers";
import { RequiredTraceability } from "~/components/required-traceability";
import { changeRequestsForMaterial } from "~/queries/change-requests.server";
import { materialLookAlikes } from "~/queries/look-alikes.server";
import { materialTraceability } from "~/queries/material-traceability.server";
import { materialMaster } from "~/queries/materials.server";
import { materialQualityEvents } from "~/queries/quality-event-marks.server";
import { siteOptions } from "~/queries/sites.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";
import { mayAtSite } from "../../policies/change-request-sites";

export async function loader({ request, params }: LoaderFunctionArgs) {
  const partNumber = params.partNumber ?? "";
  const signedIn = await requirePermission(request, "read", "Material");
  const db = await getDb();
  // Materials are global master data; what happens to one at a site is shown only for the reader's sites.
  const master = partNumber.length <= 100 ? await materialMaster(db, { partNumber, at: await databaseNow(db), sites: siteFilter(signedIn) }) : null;
  if (!master) throw notFound(`No material has part number ${partNumber.slice(0, 100)}.`);
  // Which change requests proposed (and, once released, set) its rules at the reader's sites.
  const changeRequests = signedIn.ability.can("read", "ChangeRequest")
    ? await changeRequestsForMaterial(db, { partNumber: master.material.partNumber, sites: siteFilter(signedIn) })
    : { bySite: [], attributes: [] };
  // Look-alike formats: the formats its rule in force uses at each site, among those used with them there.
  const lookAlikes = await materialLookAlikes(db, {
    partNumber: master.material.partNumber,
    rules: master.rules.flatMap(({ site, inForce }) => (inForce.state === "ruled" ? [{ site: site.code, formats: inForce.rule.identifierFormatCodes }] : [])),
    sites: siteFilter(signedIn),
  });
  // Where the reader may propose a change (the policy decides; the new-request form is prefilled with the material and the site).
  const siteIds = new Map((await siteOptions(db)).map((s) => [s.code, s.id]));
  const proposeAt = master.rules.flatMap(({ site }) => {
    const id = siteIds.get(site.code);
    return id !== undefined && mayAtSite(signedIn.ability, "create", id) ? [site.code] : [];
  });
  // Open quality events on its items or on the material, at the reader's sites (ADR 037).
  const qualityEvents = await materialQualityEvents(db, { partNumber: master.material.partNumber, sites: siteFilter(signedIn) });
  // Required vs actual per site and the justification history (ADR 035).
  const traceability = await materialTraceability(db, { partNumber: master.material.partNumber, sites: siteFilter(signedIn), at: await databaseNow(db) });
  return { ...master, changeRequests, lookAlikes, proposeAt, qualityEvents, traceability };
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.material.partNumber} · Materials · C-981` : "Material not found · C-981" },
];

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

export default function MaterialMaster() {
  const data = useLoaderData<typeof loader>();
  const { material } = data;
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">Material</span> {material.partNumber}
          </>
        }
        lead={material.description}
      >
        <Link to="/materials">All materials</Link>
      </PageHeader>

      <section aria-labelledby="master-heading" className="card">
        <h2 id="master-heading">Master data</h2>
        <dl className="properties">
          <div>
            <dt>Part number</dt>
            <dd>
              <code>{material.partNumber}</code>
            </dd>
          </div>
          <div>
            <dt>GTIN</dt>
            <dd>{material.gtin ? <code>{material.gtin}</code> : <span className="muted">none</span>}</dd>
          </div>
          <div>
            <dt>Description</dt>
            <dd>{material.description}</dd>
          </div>
          <div>
            <dt>Unit of measure</dt>
            <dd>{material.unitOfMeasure}</dd>
          </div>
          <div>
            <dt>Risk class</dt>
            <dd>
              <Badge tone={material.riskClass === "high" ? "bad" : material.riskClass === "medium" ? "warn" : "neutral"}>{material.riskClass}</Badge>
            </dd>
          </div>
          <div>
            <dt>Regulatory flags</dt>
            <dd>
              {material.regulatoryFlags.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                <ul className="inline-list">
                  {material.regulatoryFlags.map((flag) => (
                    <li key={flag}>
                      <Badge tone="info">{flag}</Badge>
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
          <div>
            <dt>Family</dt>
            <dd>
              <Link to={`/materials?family=${encodeURIComponent(material.familyCode)}`}>{material.familyCode}</Link> — {material.familyName}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <UtcTime value={material.createdAt} />
            </dd>
          </div>
        </dl>
      </section>

      <AttributeChangeRequests rows={data.changeRequests.attributes} />

      <section aria-labelledby="rules-heading">
        <h2 id="rules-heading">Tracking rules per site</h2>
        <p className="muted">
          In force at <UtcTime value={data.at} />.
        </p>
        {data.rules.length === 0 ? <p className="muted">No sites yet.</p> : null}
        {data.rules.map(({ site, inForce, timeline }) => (
          <section key={site.code} aria-labelledby={`rules-${slug(site.code)}`} className="site-rules">
            <h3 id={`rules-${slug(site.code)}`}>
              {site.code} <span className="muted">{site.name}</span>
            </h3>
            <RuleInForceSummary inForce={inForce} siteCode={site.code} />
            {data.proposeAt.includes(site.code) ? (
              <p>
                <Link className="button-link" to={`/change-requests/new?${new URLSearchParams({ material: material.partNumber, site: site.code }).toString()}`}>
                  Propose a change at {site.code}
                </Link>
              </p>
            ) : null}
            <RuleTimeline id={`timeline-${slug(site.code)}`} siteCode={site.code} rows={timeline} />
            {data.lookAlikes
              .filter((l) => l.site === site.code)
              .map((l) => (
                <div key={l.site}>
                  <p className="muted">
                    Identifier formats of the rule in force: {l.ruleFormats.join(", ")}; compared with the formats used with them at {site.code} (
                    {l.templates.length ? `label templates ${l.templates.join(", ")}` : "no label templates where it is made or scanned"}).
                  </p>
                  <LookAlikeTable id={`look-alikes-${slug(site.code)}`} caption={`Look-alike identifier formats at ${site.code}`} report={l.lookAlikes} />
                </div>
              ))}
            <ChangeRequestsAtSite
              id={`change-requests-${slug(site.code)}`}
              siteCode={site.code}
              rows={data.changeRequests.bySite.filter((row) => row.site === site.code)}
            />
          </section>
        ))}
      </section>

      <section aria-labelledby="bom-heading">
        <h2 id="bom-heading">Bills of materials</h2>
        <DataTable id="where-used" caption="Where used (parents)">
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Parent</th>
              <th scope="col">Description</th>
              <th scope="col" className="num">
                Line
              </th>
              <th scope="col">Used as</th>
              <th scope="col" className="num">
                Quantity
              </th>
            </tr>
          </thead>
          <tbody>
            {data.usedIn.length + data.usedAsAlternate.length === 0 ? <EmptyRow colSpan={6}>Not used in any bill of materials.</EmptyRow> : null}
            {data.usedIn.map((line) => (
              <tr key={`c-${line.siteCode}-${line.parentPartNumber}-${line.lineNo}`}>
                <td>{line.siteCode}</td>
                <th scope="row">
                  <Link to={`/materials/${encodeURIComponent(line.parentPartNumber)}`}>{line.parentPartNumber}</Link>
                </th>
                <td className="wrap">{line.parentDescription}</td>
                <td className="num">{line.lineNo}</td>
                <td>component</td>
                <td className="num">
                  {formatQuantity(line.quantity)} {line.unit}
                </td>
              </tr>
            ))}
            {data.usedAsAlternate.map((line) => (
              <tr key={`a-${line.siteCode}-${line.parentPartNumber}-${line.lineNo}`}>
                <td>{line.siteCode}</td>
                <th scope="row">
                  <Link to={`/materials/${encodeURIComponent(line.parentPartNumber)}`}>{line.parentPartNumber}</Link>
                </th>
                <td className="wrap">{line.parentDescription}</td>
                <td className="num">{line.lineNo}</td>
                <td>
                  alternate #{line.priority} for <Link to={`/materials/${encodeURIComponent(line.primaryPartNumber)}`}>{line.primaryPartNumber}</Link>
                </td>
                <td className="num muted">—</td>
              </tr>
            ))}
          </tbody>
        </DataTable>

        <DataTable
          id="components"
          caption="Components"
          captionDetail="Tracking modes are those in force now at the line's site; an alternate tracked differently is flagged."
        >
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col" className="num">
                Line
              </th>
              <th scope="col">Component</th>
              <th scope="col">Description</th>
              <th scope="col" className="num">
                Quantity
              </th>
              <th scope="col">Tracking</th>
              <th scope="col">Alternates</th>
            </tr>
          </thead>
          <tbody>
            {data.components.length === 0 ? <EmptyRow colSpan={7}>No components: this material has no BOM.</EmptyRow> : null}
            {data.components.map((line) => (
              <tr key={`${line.siteCode}-${line.lineNo}`}>
                <td>{line.siteCode}</td>
                <td className="num">{line.lineNo}</td>
                <th scope="row">
                  <Link to={`/materials/${encodeURIComponent(line.partNumber)}`}>{line.partNumber}</Link>
                </th>
                <td className="wrap">{line.description}</td>
                <td className="num">
                  {formatQuantity(line.quantity)} {line.unit}
                </td>
                <td>
                  <TrackingBadge mode={line.trackingMode} />
                </td>
                <td>
                  {line.alternates.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ol className="alternates">
                      {line.alternates.map((alt) => (
                        <li key={alt.partNumber} className={alt.differs ? "mismatch" : undefined}>
                          <Link to={`/materials/${encodeURIComponent(alt.partNumber)}`}>{alt.partNumber}</Link> <TrackingBadge mode={alt.trackingMode} />
                          {alt.differs ? <Badge tone="warn">tracked differently</Badge> : null}
                        </li>
                      ))}
                    </ol>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </section>

      <section aria-labelledby="items-heading">
        <h2 id="items-heading">Trace items</h2>
        <DataTable id="item-counts" caption="Trace items by site and status">
          <thead>
            <tr>
              <th scope="col">Site</th>
              {data.traceItems.statuses.map((status) => (
                <th scope="col" className="num" key={status}>
                  {status}
                </th>
              ))}
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {data.traceItems.countsBySite.length === 0 ? (
              <EmptyRow colSpan={data.traceItems.statuses.length + 2}>No trace items of this material.</EmptyRow>
            ) : null}
            {data.traceItems.countsBySite.map((site) => (
              <tr key={site.siteCode}>
                <th scope="row">{site.siteCode}</th>
                {site.counts.map((c) => (
                  <td className="num" key={c.status}>
                    {formatCount(c.count)}
                  </td>
                ))}
                <td className="num">{formatCount(site.total)}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>

        {data.traceItems.recent.length > 0 ? (
          <DataTable id="recent-items" caption="Latest trace items" captionDetail="Open one to see its genealogy.">
            <thead>
              <tr>
                <th scope="col">Identifier</th>
                <th scope="col">Kind</th>
                <th scope="col">Site</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Quantity
                </th>
                <th scope="col">Created or first event</th>
              </tr>
            </thead>
            <tbody>
              {data.traceItems.recent.map((item) => (
                <tr key={item.id}>
                  <th scope="row">
                    <Link to={`/genealogy/${item.id}`}>
                      <code>{item.identifier}</code>
                    </Link>{" "}
                    <QualityEventBadges events={data.qualityEvents.byItem[item.id] ?? []} />
                  </th>
                  <td>{item.kind}</td>
                  <td>{item.siteCode}</td>
                  <td>{item.status}</td>
                  <td className="num">
                    {formatQuantity(item.quantity)} {item.unit}
                  </td>
                  <td>
                    <UtcTime value={item.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        ) : null}
      </section>

      {data.traceability ? <RequiredTraceability data={data.traceability} /> : null}

      <MaterialQualityEvents events={data.qualityEvents.events} />

      <section aria-labelledby="external-heading">
        <h2 id="external-heading">ERP and PLM records</h2>
        <DataTable
          id="external-records"
          caption="Imported master records"
          captionDetail="A record whose tracking flag maps to a mode other than the rule in force is flagged."
        >
          <thead>
            <tr>
              <th scope="col">System</th>
              <th scope="col">Key</th>
              <th scope="col">Site</th>
              <th scope="col">Tracking flag</th>
              <th scope="col">Mapped mode</th>
              <th scope="col">Against the rule in force</th>
              <th scope="col">Imported</th>
              <th scope="col">Source digest</th>
            </tr>
          </thead>
          <tbody>
            {data.externalRecords.length === 0 ? <EmptyRow colSpan={8}>No ERP or PLM record names this material.</EmptyRow> : null}
            {data.externalRecords.map((record) => (
              <tr key={record.id} className={record.disagreements.length > 0 ? "row-mismatch" : undefined}>
                <td>{record.system.toUpperCase()}</td>
                <th scope="row">
                  <code>{record.externalKey}</code>
                </th>
                <td>{record.siteCode ?? <span className="muted">global</span>}</td>
                <td>
                  <code>{record.trackingFlag}</code>
                </td>
                <td>
                  <TrackingBadge mode={record.trackingMode} />
                </td>
                <td>
                  {record.comparedWith.length === 0 ? (
                    <span className="muted">no rule in force to compare</span>
                  ) : record.disagreements.length === 0 ? (
                    <Badge tone="good">agrees</Badge>
                  ) : (
                    <>
                      <Badge tone="bad">disagrees</Badge> {record.disagreements.map((d) => `${d.siteCode}: ${d.trackingMode}`).join(", ")}
                    </>
                  )}
                </td>
                <td>
                  <UtcTime value={record.importedAt} />
                </td>
                <td>
                  <Digest value={record.sourceDigest} />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </section>
    </>
  );
}
