import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow, SortHeader } from "~/components/data-table";
import { SelectField, TextField } from "~/components/filter-fields";
import { PagePagination } from "~/components/pagination";
import { UtcTime } from "~/components/time";
import { TrackingBadge } from "~/components/tracking-badge";
import { RISK_CLASSES } from "~/domain/material";
import { MATERIAL_SORTS, MODE_FILTERS, searchMaterials, type ModeFilter } from "~/queries/materials.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";

const PAGE_SIZE = 50;

/** Each param falls back to its default on its own: a bad link narrows nothing and never fails. */
const searchSchema = z.object({
  q: z.string().trim().max(100).catch(""),
  site: z
    .string()
    .regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/)
    .optional()
    .catch(undefined),
  family: z.string().min(1).max(64).optional().catch(undefined),
  mode: z.enum(MODE_FILTERS).optional().catch(undefined),
  risk: z.enum(RISK_CLASSES).optional().catch(undefined),
  sort: z.enum(MATERIAL_SORTS).catch("partNumber"),
  dir: z.enum(["asc", "desc"]).catch("asc"),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

export const meta: MetaFunction = () => [{ title: "Materials · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const search = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const signedIn = await requirePermission(request, "read", "Material");
  const db = await getDb();
  // The site list, the site filter and the per-site columns cover only the reader's sites.
  const result = await searchMaterials(db, { ...search, pageSize: PAGE_SIZE }, { at: await databaseNow(db), sites: siteFilter(signedIn) });
  return { search, ...result };
}

// Option lists for the form. The mode filters live in a .server module, which the browser bundle
// may not import; a Record keeps these complete when a value is added there.
const MODE_LABELS: Record<ModeFilter, string> = {
  serial: "Serial",
  lot: "Lot",
  none: "None (untracked)",
  unruled: "No rule in force",
};

function optionsOf<T extends string>(labels: Record<T, string>) {
  return (Object.entries(labels) as [T, string][]).map(([value, label]) => ({ value, label }));
}

export default function Materials() {
  const data = useLoaderData<typeof loader>();
  const location = useLocation();
  const { search } = data;
  const filtered = Boolean(search.q || search.site || search.family || search.mode || search.risk);
  return (
    <>
      <PageHeader
        title="Materials"
        lead={
          <>
            Tracking modes are the rules in force at <UtcTime value={data.at} />.
          </>
        }
      />

      {/* Keyed by the query so the inputs show the URL's values after back/forward navigation. */}
      <Form method="get" className="filters" key={location.search} role="search" aria-label="Filter materials">
        <TextField name="q" label="Search" defaultValue={search.q} maxLength={100} hint="Part number, description or GTIN" />
        <SelectField
          name="site"
          label="Site"
          defaultValue={search.site ?? ""}
          anyLabel="All sites"
          options={data.sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))}
        />
        <SelectField
          name="family"
          label="Family"
          defaultValue={search.family ?? ""}
          options={data.families.map((f) => ({ value: f.code, label: `${f.code} — ${f.name}` }))}
        />
        <SelectField
          name="mode"
          label="Tracking mode"
          defaultValue={search.mode ?? ""}
          options={optionsOf(MODE_LABELS)}
          hint={search.site ? `In force at ${search.site}` : "In force at any site (no rule: at none)"}
        />
        <SelectField name="risk" label="Risk class" defaultValue={search.risk ?? ""} options={RISK_CLASSES.map((r) => ({ value: r, label: r }))} />
        <input type="hidden" name="sort" value={search.sort} />
        <input type="hidden" name="dir" value={search.dir} />
        <div className="filter-actions">
          <button type="submit">Apply</button>
          {filtered ? <Link to="/materials">Clear</Link> : null}
        </div>
      </Form>

      <DataTable id="materials" caption="Materials" captionDetail={`${data.total} ${data.total === 1 ? "match" : "matches"}${filtered ? " (filtered)" : ""}`}>
        <thead>
          <tr>
            <SortHeader label="Part number" sortKey="partNumber" current={search.sort} dir={search.dir} />
            <SortHeader label="Description" sortKey="description" current={search.sort} dir={search.dir} />
            <SortHeader label="GTIN" sortKey="gtin" current={search.sort} dir={search.dir} />
            <SortHeader label="Family" sortKey="family" current={search.sort} dir={search.dir} />
            <SortHeader label="Risk" sortKey="risk" current={search.sort} dir={search.dir} />
            <th scope="col">UoM</th>
            <th scope="col">{data.site ? `Tracking at ${data.site.code}` : "Tracking per site"}</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.length === 0 ? <EmptyRow colSpan={7}>No material matches.</EmptyRow> : null}
          {data.rows.map((m) => (
            <tr key={m.partNumber}>
              <th scope="row">
                <Link to={`/materials/${encodeURIComponent(m.partNumber)}`}>{m.partNumber}</Link>
              </th>
              <td className="wrap">{m.description}</td>
              <td>{m.gtin ? <code>{m.gtin}</code> : <span className="muted">—</span>}</td>
              <td>
                <abbr title={m.familyName}>{m.familyCode}</abbr>
              </td>
              <td>
                <Badge tone={m.riskClass === "high" ? "bad" : m.riskClass === "medium" ? "warn" : "neutral"}>{m.riskClass}</Badge>
              </td>
              <td>{m.unitOfMeasure}</td>
              <td>
                <ul className="inline-list">
                  {m.trackingBySite.map((t) => (
                    <li key={t.siteCode}>
                      {data.site ? null : <span className="site-code">{t.siteCode}</span>} <TrackingBadge mode={t.trackingMode} />
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <PagePagination page={data.page} pageCount={data.pageCount} total={data.total} label="Materials pages" />
    </>
  );
}
