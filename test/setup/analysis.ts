import { analysisCurrency } from "../../app/queries/impact-analysis-currency.server";
import { runImpactAnalysis } from "../../app/services/impact-analysis.server";
import type { Db } from "../../app/utils/db.server";

/** The hash of a current impact analysis of the change request, running one when none is current (signatures need it). */
export async function analysed(db: Db, number: string, actor = "test.analyst"): Promise<string> {
  const currency = await analysisCurrency(db, number);
  if (currency.current) return currency.analysis.sha256;
  return (await runImpactAnalysis(db, { username: actor }, number)).sha256;
}
