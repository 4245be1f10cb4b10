/**
 * Read models for look-alike identifier formats (ADR 013): per label template, and per
 * site rule of a material. The decision itself is the pure `packages/identifiers/src/look-alike.ts`; these queries
 * only gather the formats used together, scoped to the reader's sites in SQL.
 */
import { asc, eq, inArray } from "drizzle-orm";
import { identifierFormats, labelTemplateFormats, labelTemplates, materials, routingOperationMaterials, routingOperations, sites } from "../../db/schema";
import type { IdentifierFormat } from "../../packages/identifiers/src/identifier-format";
import { describeFormat } from "../../packages/identifiers/src/identifier-format";
import { formatsUsedWith, lookAlikesFor, type LookAlikeReport, type NamedFormat } from "../../packages/identifiers/src/look-alike";
import type { Identifies } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";
import type { VisibleSites } from "./sites.server";

export interface FormatRow extends NamedFormat {
  name: string;
  site: string | null;
  description: string;
}

/** Every identifier format (global master data; site patterns name their site). */
export async function formatCatalogue(db: DbOrTx): Promise<Map<string, FormatRow>> {
  const rows = await db
    .select({
      code: identifierFormats.code,
      name: identifierFormats.name,
      identifies: identifierFormats.identifies,
      definition: identifierFormats.definition,
      site: sites.code,
    })
    .from(identifierFormats)
    .leftJoin(sites, eq(sites.id, identifierFormats.siteId))
    .orderBy(asc(identifierFormats.code));
  return new Map(
    rows.map((r) => [
      r.code,
      {
        code: r.code,
        name: r.name,
        identifies: r.identifies as Identifies,
        definition: r.definition as IdentifierFormat,
        site: r.site,
        description: describeFormat(r.definition as IdentifierFormat),
      },
    ]),
  );
}

interface TemplateRow {
  siteId: number;
  site: string;
  code: string;
  name: string;
  workCentre: string | null;
  formats: string[];
}

async function templatesAt(db: DbOrTx, visible: VisibleSites): Promise<TemplateRow[]> {
  const rows = await db
    .select({
      siteId: sites.id,
      site: sites.code,
      code: labelTemplates.code,
      name: labelTemplates.name,
      workCentre: labelTemplates.workCentre,
      format: identifierFormats.code,
    })
    .from(labelTemplates)
    .innerJoin(sites, eq(sites.id, labelTemplates.siteId))
    .leftJoin(labelTemplateFormats, eq(labelTemplateFormats.labelTemplateId, labelTemplates.id))
    .leftJoin(identifierFormats, eq(identifierFormats.id, labelTemplateFormats.identifierFormatId))
    .where(visible === null ? undefined : inArray(sites.id, [...visible]))
    .orderBy(asc(sites.code), asc(labelTemplates.code), asc(identifierFormats.code));
  const byKey = new Map<string, TemplateRow>();
  for (const r of rows) {
    const key = `${r.site}|${r.code}`;
    const t = byKey.get(key) ?? { siteId: r.siteId, site: r.site, code: r.code, name: r.name, workCentre: r.workCentre, formats: [] };
    if (r.format) t.formats.push(r.format);
    byKey.set(key, t);
  }
  return [...byKey.values()];
}

const named = (catalogue: Map<string, FormatRow>, codes: readonly string[]) => codes.flatMap((c) => (catalogue.has(c) ? [catalogue.get(c)!] : []));

/** Label templates at the reader's sites, each with its formats and their look-alikes. */
export async function labelTemplateLookAlikes(db: DbOrTx, params: { sites: VisibleSites }) {
  const [catalogue, templates] = await Promise.all([formatCatalogue(db), templatesAt(db, params.sites)]);
  return templates.map((t) => ({
    site: t.site,
    code: t.code,
    name: t.name,
    workCentre: t.workCentre,
    formats: named(catalogue, t.formats).map(({ code, name, identifies, description }) => ({ code, name, identifies, description })),
    lookAlikes: lookAlikesFor(t.formats, named(catalogue, t.formats)),
  }));
}

export interface SiteLookAlikes {
  site: string;
  ruleFormats: string[];
  /** Formats used together with the rule's: its own and those on the templates below. */
  context: string[];
  templates: string[];
  lookAlikes: LookAlikeReport;
}

/**
 * For a material, per visible site with a rule in force: the look-alikes involving the rule's
 * formats among the formats used with them (label templates where it is made or scanned, and
 * site-wide ones). `rules` carries the rule formats in force per site code.
 */
export async function materialLookAlikes(
  db: DbOrTx,
  params: { partNumber: string; rules: { site: string; formats: readonly string[] }[]; sites: VisibleSites },
): Promise<SiteLookAlikes[]> {
  const wanted = params.rules.filter((r) => r.formats.length > 0);
  if (wanted.length === 0) return [];
  const [catalogue, templates, made, consumed] = await Promise.all([
    formatCatalogue(db),
    templatesAt(db, params.sites),
    db
      .select({ site: sites.code, workCentre: routingOperations.workCentre })
      .from(routingOperations)
      .innerJoin(materials, eq(materials.id, routingOperations.materialId))
      .innerJoin(sites, eq(sites.id, routingOperations.siteId))
      .where(eq(materials.partNumber, params.partNumber)),
    db
      .select({ site: sites.code, workCentre: routingOperations.workCentre })
      .from(routingOperationMaterials)
      .innerJoin(routingOperations, eq(routingOperations.id, routingOperationMaterials.operationId))
      .innerJoin(materials, eq(materials.id, routingOperationMaterials.materialId))
      .innerJoin(sites, eq(sites.id, routingOperations.siteId))
      .where(eq(materials.partNumber, params.partNumber)),
  ]);
  return wanted.map((rule) => {
    const workCentres = [...made, ...consumed].filter((r) => r.site === rule.site).map((r) => r.workCentre);
    const used = formatsUsedWith({ site: rule.site, ruleFormats: rule.formats, workCentres, templates });
    return {
      site: rule.site,
      ruleFormats: [...rule.formats].sort(),
      context: used.codes,
      templates: used.templates,
      lookAlikes: lookAlikesFor(rule.formats, named(catalogue, used.codes)),
    };
  });
}
