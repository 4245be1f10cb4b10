import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { createTwoFilesPatch } from "diff";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { TextDiff } from "~/components/change-request-diff";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectInput } from "~/components/form-fields";
import { UtcTime } from "~/components/time";
import { ruleSetVersionDocument, ruleSetVersionList, ruleSetVersionSite } from "~/queries/rule-sets.server";
import { requirePermission } from "~/services/signed-in.server";
import { requireRecord, siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { notFound } from "~/utils/errors.server";

const paramsSchema = z.object({ site: z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,15}$/) });
/** A missing or malformed version falls back to the default pair: the previous and the latest. */
const versionParam = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/)
  .transform(Number)
  .optional()
  .catch(undefined);
const searchSchema = z.object({ from: versionParam, to: versionParam });

/** The fields of a compiled rule (app/domain/rule-set.ts CompiledRule) compared one by one. */
const RULE_FIELDS = [
  ["trackingMode", "tracking mode"],
  ["containerTracking", "container tracking"],
  ["consumptionScan", "scan at consumption"],
  ["identifierFormats", "identifier formats"],
  ["riskClass", "risk class"],
  ["gtin", "GTIN"],
  ["allowedAlternates", "allowed alternates"],
] as const;

type Rule = Record<string, unknown> & { partNumber: string };
type MaterialChange = { partNumber: string; change: "added" | "removed" | "changed"; field: string; from: string; to: string };

/** A rule field as a reviewer reads it (the JSON stays in the text diff below). */
function show(field: string, value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (field === "allowedAlternates" && Array.isArray(value)) {
    const lines = value as { component: string; alternates: string[] }[];
    return lines.length ? lines.map((l) => `${l.component}: ${l.alternates.join(", ") || "none"}`).join("; ") : "none";
  }
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  return String(value);
}

function summary(rule: Rule): string {
  return `${show("trackingMode", rule.trackingMode)}; containers ${show("containerTracking", rule.containerTracking)}; scan ${show(
    "consumptionScan",
    rule.consumptionScan,
  )}; formats ${show("identifierFormats", rule.identifierFormats)}`;
}

/** Per material, what changes from one version's rules to the other's: added, removed, or field by field. */
function materialChanges(from: readonly Rule[], to: readonly Rule[]): MaterialChange[] {
  const before = new Map(from.map((r) => [r.partNumber, r]));
  const after = new Map(to.map((r) => [r.partNumber, r]));
  const parts = [...new Set([...before.keys(), ...after.keys()])].sort();
  return parts.flatMap((partNumber): MaterialChange[] => {
    const was = before.get(partNumber);
    const now = after.get(partNumber);
    if (!was) return [{ partNumber, change: "added", field: "rule", from: "no rule", to: summary(now!) }];
    if (!now) return [{ partNumber, change: "removed", field: "rule", from: summary(was), to: "no rule" }];
    return RULE_FIELDS.flatMap(([field, label]): MaterialChange[] => {
      // Compiled rules are canonical (sorted arrays), so equal JSON means an equal value.
      if (JSON.stringify(was[field]) === JSON.stringify(now[field])) return [];
      return [{ partNumber, change: "changed", field: label, from: show(field, was[field]), to: show(field, now[field]) }];
    });
  });
}

/**
 * A rule with its part number first and the compared fields in the table's order, so a hunk of
 * the text diff shows which material it is in (canonical JSON would sort the part number to the
 * middle). Values are untouched.
 */
function forReading(rule: Rule): Rule {
  const ordered: Rule = { partNumber: rule.partNumber };
  for (const [field] of RULE_FIELDS) if (field in rule) ordered[field] = rule[field];
  for (const key of Object.keys(rule).sort()) if (!(key in ordered)) ordered[key] = rule[key];
  return ordered;
}

/** The compiled rule set's rules, from the stored canonical bytes shown indented. */
function rulesOf(document: { pretty: string | null }): { rules: Rule[]; formats: unknown; kind: string } {
  if (document.pretty === null) throw new Response("The stored rule set is not valid JSON", { status: 500 });
  const parsed = JSON.parse(document.pretty) as { rules?: Rule[]; identifierFormats?: unknown; kind?: string };
  return { rules: parsed.rules ?? [], formats: parsed.identifierFormats ?? {}, kind: parsed.kind ?? "release" };
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "RuleSetVersion");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const search = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const siteCode = parsed.data.site;
  const db = await getDb();
  const at = await databaseNow(db);
  // Scoped in SQL to the sites the reader may see: another site's code finds nothing, like an unknown one.
  const list = await ruleSetVersionList(db, { at, siteCode, sites: siteFilter(signedIn) });
  const entry = list.bySite[0];
  if (!entry) throw notFound();
  const versions = entry.versions.map((v) => ({ version: v.version, status: v.status, effectiveFrom: v.effectiveFrom }));
  const base = { site: entry.site, versions, at };
  const latest = versions[0]?.version;
  if (latest === undefined) return { ...base, compared: null };

  const to = search.to ?? latest;
  const from = search.from ?? Math.max(1, to - 1);
  if (!versions.some((v) => v.version === to) || !versions.some((v) => v.version === from)) throw notFound();
  const found = await ruleSetVersionSite(db, { siteCode, version: to });
  if (!found) throw notFound();
  requireRecord(signedIn, "read", "RuleSetVersion", { siteId: found.siteId });

  const [fromDoc, toDoc] = await Promise.all([
    ruleSetVersionDocument(db, { siteCode, version: from, at }),
    ruleSetVersionDocument(db, { siteCode, version: to, at }),
  ]);
  if (!fromDoc || !toDoc) throw notFound();
  const before = rulesOf(fromDoc);
  const after = rulesOf(toDoc);
  const pretty = (rules: readonly Rule[]) => `${JSON.stringify(rules.map(forReading), null, 2)}\n`;
  const patch =
    from === to
      ? ""
      : createTwoFilesPatch(`${siteCode} v${from} rules`, `${siteCode} v${to} rules`, pretty(before.rules), pretty(after.rules), undefined, undefined, {
          context: 3,
        });
  return {
    ...base,
    compared: {
      from: { version: from, effectiveFrom: fromDoc.effectiveFrom, kind: before.kind, digest: fromDoc.digest },
      to: { version: to, effectiveFrom: toDoc.effectiveFrom, kind: after.kind, digest: toDoc.digest },
      changes: materialChanges(before.rules, after.rules),
      /** Only the hunks: a patch with no hunk means the rule arrays are the same text. */
      patch: /^@@/m.test(patch) ? patch : "",
      formatsDiffer: JSON.stringify(before.formats) !== JSON.stringify(after.formats),
    },
  };
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: data?.compared
      ? `${data.site.code} v${data.compared.from.version} → v${data.compared.to.version} · Rule sets · C-981`
      : data
        ? `${data.site.code} · Compare · Rule sets · C-981`
        : "Rule set not found · C-981",
  },
];

export default function CompareVersions() {
  const { site, versions, compared } = useLoaderData<typeof loader>();
  const location = useLocation();
  const options = versions.map((v) => ({
    value: String(v.version),
    label: `v${v.version}${v.status === "superseded" ? "" : ` (${v.status})`}`,
  }));
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">Compare</span> {site.code}
            {compared ? ` v${compared.from.version} → v${compared.to.version}` : null}
          </>
        }
        lead={site.name}
      >
        <Link to={`/rule-sets?site=${site.code}`}>All {site.code} versions</Link>
      </PageHeader>

      {compared === null ? (
        <p className="muted">{site.code} has no rule-set version yet: there is nothing to compare.</p>
      ) : (
        <>
          <Form method="get" className="filters" key={location.search} aria-label="Choose the versions to compare">
            <SelectInput label="From" name="from" id="compare-from" options={options} defaultValue={String(compared.from.version)} />
            <SelectInput label="To" name="to" id="compare-to" options={options} defaultValue={String(compared.to.version)} />
            <div className="filter-actions">
              <button type="submit">Compare</button>
            </div>
          </Form>

          <section aria-label="Versions compared" className="card">
            <dl className="properties">
              {(
                [
                  ["From", compared.from],
                  ["To", compared.to],
                ] as const
              ).map(([label, v]) => (
                <div key={label}>
                  <dt>{label}</dt>
                  <dd>
                    <Link to={`/rule-sets/${site.code}/${v.version}`}>v{v.version}</Link> ({v.kind}), effective from <UtcTime value={v.effectiveFrom} />
                  </dd>
                </div>
              ))}
            </dl>
          </section>

          {compared.from.version === compared.to.version ? (
            <p className="notice">Both sides are v{compared.to.version}: choose two different versions.</p>
          ) : null}

          <DataTable
            id="compare-materials"
            caption="Changes per material"
            captionDetail={`v${compared.from.version} → v${compared.to.version}, ${compared.changes.length} ${
              compared.changes.length === 1 ? "change" : "changes"
            }`}
          >
            <thead>
              <tr>
                <th scope="col">Material</th>
                <th scope="col">Change</th>
                <th scope="col">Field</th>
                <th scope="col">From (v{compared.from.version})</th>
                <th scope="col">
                  <span aria-hidden="true">→ </span>To (v{compared.to.version})
                </th>
              </tr>
            </thead>
            <tbody>
              {compared.changes.length === 0 ? <EmptyRow colSpan={5}>No rule differs between these versions.</EmptyRow> : null}
              {compared.changes.map((c) => (
                <tr key={`${c.partNumber}|${c.field}`}>
                  <th scope="row">
                    <Link to={`/materials/${encodeURIComponent(c.partNumber)}`}>{c.partNumber}</Link>
                  </th>
                  <td>{c.change}</td>
                  <td>{c.field}</td>
                  <td className="diff-from">{c.from}</td>
                  <td className="diff-to">{c.to}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
          {compared.formatsDiffer ? (
            <p className="notice notice-warn">The identifier format definitions the rules use also differ; see the compiled rule sets.</p>
          ) : null}

          <section aria-labelledby="compare-text-heading">
            <h2 id="compare-text-heading">Unified diff of the rules</h2>
            <p className="muted">
              The compiled rules of each version, indented with the part number first, compared line by line (the values are those of the signed canonical
              documents).
            </p>
            <TextDiff
              text={compared.patch}
              label={`Unified diff of the rules, v${compared.from.version} to v${compared.to.version}`}
              empty={
                <p className="muted">
                  The rules of v{compared.from.version} and v{compared.to.version} are the same text.
                </p>
              }
            />
          </section>
        </>
      )}
    </>
  );
}
