import { findingsToAcknowledge } from "../../app/domain/impact-analysis/acknowledgements";
import { analysisCurrency, storedAnalysis } from "../../app/queries/impact-analysis-currency.server";
import { runImpactAnalysis } from "../../app/services/impact-analysis.server";
import type { Db } from "../../app/utils/db.server";

/** The hash of a current impact analysis of the change request, running one when none is current (signatures need it). */
export async function analysed(db: Db, number: string, actor = "test.analyst"): Promise<string> {
  const currency = await analysisCurrency(db, number);
  if (currency.current) return currency.analysis.sha256;
  return (await runImpactAnalysis(db, { username: actor }, number)).sha256;
}

/**
 * A current analysis's hash with every critical and warning finding of it acknowledged: what a
 * reviewer sends to approve (ADR 029). Tests of the acknowledgements themselves choose their own.
 */
export async function reviewed(db: Db, number: string, actor = "test.analyst"): Promise<{ analysisHash: string; acknowledged: string[] }> {
  const analysisHash = await analysed(db, number, actor);
  return { analysisHash, acknowledged: await acknowledgementsFor(db, number, analysisHash) };
}

/** The keys of the critical and warning findings of the change request's latest analysis, if it has this hash (else none). */
export async function acknowledgementsFor(db: Db, number: string, analysisHash: string): Promise<string[]> {
  const stored = await storedAnalysis(db, number);
  if (!stored || stored.sha256 !== analysisHash) return [];
  return findingsToAcknowledge(stored.report).map((f) => f.key);
}
