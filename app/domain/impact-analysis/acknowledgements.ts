/**
 * Which findings of an impact analysis a reviewer acknowledges before approving (issue 23, ADR
 * 029): every critical or warning finding, identified within the analysis by its code and the
 * proposed change it belongs to (part number and site), or by its code alone for the general
 * findings. Pure and browser-safe: the sign form lists them and the service checks against the
 * same list.
 */
import type { AnalysisReport, FindingCode, Severity } from "./report";

export interface FindingToAcknowledge {
  /** `CODE:PART@SITE` for a change's finding, `CODE` for a general one: what the form sends. */
  key: string;
  code: FindingCode;
  partNumber: string | null;
  site: string | null;
  severity: Extract<Severity, "critical" | "warning">;
  count: number;
  message: string;
  sample: string[];
}

/** The key of a finding within its analysis. */
export function findingKey(code: string, scope: { partNumber: string; site: string } | null): string {
  return scope ? `${code}:${scope.partNumber}@${scope.site}` : code;
}

/** Every critical or warning finding of the report, in report order (changes first, then general findings). */
export function findingsToAcknowledge(report: AnalysisReport): FindingToAcknowledge[] {
  const out: FindingToAcknowledge[] = [];
  const add = (f: AnalysisReport["findings"][number], scope: { partNumber: string; site: string } | null) => {
    if (f.severity === "info") return;
    out.push({
      key: findingKey(f.code, scope),
      code: f.code,
      partNumber: scope?.partNumber ?? null,
      site: scope?.site ?? null,
      severity: f.severity,
      count: f.count,
      message: f.message,
      sample: f.sample,
    });
  };
  for (const change of report.changes) for (const f of change.findings) add(f, { partNumber: change.partNumber, site: change.site });
  for (const f of report.findings) add(f, null);
  return out;
}

/** The findings not acknowledged, and acknowledgements naming no finding of the report. */
export function acknowledgementProblems(
  report: AnalysisReport,
  acknowledged: readonly string[],
): { missing: FindingToAcknowledge[]; unknown: string[]; acknowledged: FindingToAcknowledge[] } {
  const given = new Set(acknowledged);
  const all = findingsToAcknowledge(report);
  const known = new Set(all.map((f) => f.key));
  return {
    missing: all.filter((f) => !given.has(f.key)),
    unknown: [...given].filter((k) => !known.has(k)),
    acknowledged: all.filter((f) => given.has(f.key)),
  };
}

/** "MIXED_HISTORY at P-100@PLANT-A": how a finding is named in an error message. */
export function describeFindingKey(f: Pick<FindingToAcknowledge, "code" | "partNumber" | "site">): string {
  return f.partNumber === null ? f.code : `${f.code} (${f.partNumber} at ${f.site})`;
}
