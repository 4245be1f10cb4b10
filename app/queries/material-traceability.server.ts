/**
 * A material's required traceability as its page shows it (ADR 035): per site the reader may see, the
 * justification report's row for it (the report read for that one material) (required vs actual, shortfalls, deviations), and the justification
 * history — every requirement row that governed or governs it (its own, its family's, its risk class
 * + regulated flag's), oldest first.
 */
import type { MaterialTraceability } from "../domain/traceability-justification";
import type { RequirementSubject } from "../domain/traceability-requirement";
import type { DbOrTx } from "../utils/db.server";
import { siteOptions, type VisibleSites } from "./sites.server";
import { traceabilityJustification } from "./traceability-justification.server";
import { requirementHistory, requirementSubjects, type StoredRequirement } from "./traceability-requirements.server";

export type { MaterialTraceability };

const governs = (r: StoredRequirement, m: RequirementSubject) =>
  r.scope === "material"
    ? r.partNumber === m.partNumber
    : r.scope === "family"
      ? r.family === m.family
      : r.riskClass === m.riskClass && r.regulated === m.regulated;

export async function materialTraceability(db: DbOrTx, params: { partNumber: string; sites: VisibleSites; at: Date }): Promise<MaterialTraceability | null> {
  const subject = (await requirementSubjects(db)).find((s) => s.partNumber === params.partNumber);
  if (!subject) return null;
  const visible = (await siteOptions(db)).filter((s) => params.sites === null || params.sites.includes(s.id));
  const perSite: MaterialTraceability["perSite"] = [];
  for (const site of visible) {
    const report = await traceabilityJustification(db, { siteCode: site.code, at: params.at, partNumber: params.partNumber });
    const row = report?.rows.find((r) => r.partNumber === params.partNumber);
    if (row) perSite.push({ site: site.code, row });
  }
  const history = (await requirementHistory(db)).filter((r) => governs(r, subject));
  return { perSite, history };
}
