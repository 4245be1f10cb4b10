/**
 * What the change-request form shows beside a tracking change while it is being written: the rule
 * in force for the material at each chosen site (with its rule-set version and since when), and the
 * look-alikes the chosen identifier formats make with those used there (ADR 013). Also what a
 * proposal started from the material page or the Reconciliation report is prefilled with. Reads
 * only, scoped to the reader's sites in SQL.
 */
import { and, eq, isNull } from "drizzle-orm";
import { materials } from "../../db/schema";
import { prefillRule, type ProposalContext, type ProposalSiteContext, type RuleInForceShown } from "../domain/format-choice";
import { resolveRuleInForce, type RuleInForce, type TrackingMode } from "../domain/tracking-rule";
import type { DbOrTx } from "../utils/db.server";
import { formatCatalogue, materialLookAlikes } from "./look-alikes.server";
import { rulesInForce } from "./rules-in-force.server";
import { siteOptions, visibleOf, type VisibleSites } from "./sites.server";
import { ruleHistory, siteVersions } from "./tracking-rules.server";

const iso = (d: Date) => d.toISOString();

function shown(inForce: RuleInForce): RuleInForceShown {
  if (inForce.state === "legacy")
    return {
      state: "legacy",
      firstVersion: inForce.firstVersion && { version: inForce.firstVersion.version, effectiveFrom: iso(inForce.firstVersion.effectiveFrom) },
    };
  const version = { version: inForce.version.version, effectiveFrom: iso(inForce.version.effectiveFrom) };
  if (inForce.state === "unruled") return { state: "unruled", version };
  const r = inForce.rule;
  return {
    state: "ruled",
    version,
    rule: {
      trackingMode: r.trackingMode,
      containerTracking: r.containerTracking,
      identifierFormatCodes: [...r.identifierFormatCodes].sort(),
      consumptionScan: r.consumptionScan,
      version: r.version,
      effectiveFrom: iso(r.effectiveFrom),
    },
  };
}

async function productMaterial(db: DbOrTx, partNumber: string) {
  const [row] = await db
    .select({ id: materials.id, partNumber: materials.partNumber, description: materials.description })
    .from(materials)
    // A system material (the logistics unit, ADR 014) is no product: no change request targets it.
    .where(and(eq(materials.partNumber, partNumber), isNull(materials.systemRole)));
  return row ?? null;
}

/** The rule in force for a material at each of these sites (the reader's only), in site-code order. */
export async function rulesInForceAt(db: DbOrTx, params: { materialId: number; sites: readonly string[]; at: Date; visible: VisibleSites }) {
  const chosen = visibleOf(await siteOptions(db), params.visible).filter((s) => params.sites.includes(s.code));
  return Promise.all(
    chosen.map(async (site) => {
      const [versions, rules] = await Promise.all([siteVersions(db, site.id), ruleHistory(db, { materialId: params.materialId, siteId: site.id })]);
      return { site, inForce: resolveRuleInForce(versions, rules, params.at) };
    }),
  );
}

/**
 * The form's context of one tracking change: `partNumber` at `sites`, with `formats` chosen. A
 * chosen format a site does not offer is left out there (the service names it when the form is
 * sent); sites the reader may not see are left out.
 */
export async function proposalContext(
  db: DbOrTx,
  params: { partNumber: string | null; sites: readonly string[]; formats: readonly string[]; at: Date; visible: VisibleSites },
): Promise<ProposalContext> {
  if (!params.partNumber) return { material: null, note: "Name a material to see the rule in force.", sites: [] };
  const material = await productMaterial(db, params.partNumber);
  if (!material) return { material: null, note: `No material has part number ${params.partNumber}.`, sites: [] };
  const [atSites, catalogue] = await Promise.all([rulesInForceAt(db, { materialId: material.id, ...params }), formatCatalogue(db)]);
  const shownMaterial = { partNumber: material.partNumber, description: material.description };
  if (atSites.length === 0) return { material: shownMaterial, note: "Choose a site to see the rule in force there.", sites: [] };
  const chosenAt = (site: string) =>
    [...new Set(params.formats)].filter((code) => catalogue.has(code) && [null, site].includes(catalogue.get(code)!.site)).sort();
  const lookAlikes = await materialLookAlikes(db, {
    partNumber: material.partNumber,
    rules: atSites.map(({ site }) => ({ site: site.code, formats: chosenAt(site.code) })),
    sites: params.visible,
  });
  return {
    material: shownMaterial,
    note: null,
    sites: atSites.map(({ site, inForce }): ProposalSiteContext => {
      const found = lookAlikes.find((l) => l.site === site.code);
      return {
        site: site.code,
        siteName: site.name,
        inForce: shown(inForce),
        chosen: chosenAt(site.code),
        lookAlikes: found?.lookAlikes ?? { selfAmbiguous: [], pairs: [], unusable: [], undecided: [] },
        templates: found?.templates ?? [],
      };
    }),
  };
}

/** The contexts of a form's tracking changes (null for other rows and for family changes), as the form opens. */
export async function proposalContextsOf(
  db: DbOrTx,
  changes: readonly Record<string, unknown>[],
  params: { at: Date; visible: VisibleSites },
): Promise<(ProposalContext | null)[]> {
  return Promise.all(
    changes.map((c) => {
      if (c.kind !== "tracking" || typeof c.material !== "string" || !c.material) return null;
      const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
      return proposalContext(db, { partNumber: c.material, sites: list(c.sites), formats: list(c.identifierFormatCodes), ...params });
    }),
  );
}

/**
 * A tracking change prefilled for `partNumber` at `site` (the material page's "Propose a change",
 * or the Reconciliation report's link with the mode to change to; the material may be one the
 * request creates): null when the site is unknown or not the reader's. The formats come from the
 * rule in force, adjusted to the mode (formatsForMode: a kind the mode needs is filled with the
 * format the site's rules in force use most for it); ERP and PLM records hold a tracking flag,
 * no identifier formats.
 */
export async function proposalPrefill(
  db: DbOrTx,
  params: { partNumber: string; site: string; mode: TrackingMode | null; at: Date; visible: VisibleSites },
): Promise<{ site: string; rule: ReturnType<typeof prefillRule> } | null> {
  const site = visibleOf(await siteOptions(db), params.visible).find((s) => s.code === params.site);
  if (!site) return null;
  const material = await productMaterial(db, params.partNumber);
  const rif = rulesInForce(db, params.at);
  const [catalogue, inForceAtSite, atSite] = await Promise.all([
    formatCatalogue(db),
    db.select({ codes: rif.identifierFormatCodes }).from(rif).where(eq(rif.siteId, site.id)),
    material ? rulesInForceAt(db, { materialId: material.id, sites: [site.code], at: params.at, visible: params.visible }) : Promise.resolve([]),
  ]);
  const uses = new Map<string, number>();
  for (const row of inForceAtSite) for (const code of new Set(row.codes)) uses.set(code, (uses.get(code) ?? 0) + 1);
  const usable = [...catalogue.values()]
    .filter((f) => f.site === null || f.site === site.code)
    .map((f) => ({ code: f.code, identifies: f.identifies, site: f.site, uses: uses.get(f.code) ?? 0 }));
  const inForce = atSite[0]?.inForce.state === "ruled" ? atSite[0].inForce.rule : null;
  return { site: site.code, rule: prefillRule({ inForce, mode: params.mode, usable }) };
}
