/**
 * The rules of quality events (ADR 034), pure: which status changes are allowed, what a valid set of
 * references is, and how the rule in force at raise reads. The vocabulary is app/domain/quality-event.ts;
 * the zod schema (app/schemas/quality-event.ts) and the service (app/services/quality-events.server.ts)
 * apply these rules. No Node imports: the browser's form imports it too.
 */
import type { QualityDisposition, QualityEventStatus, QualityReferenceKind, RuleAtRaise } from "./quality-event";

export type StatusChange = { ok: true } | { ok: false; message: string };

/** open → contained → closed, or open → closed; closed is final. */
const NEXT: Record<QualityEventStatus, readonly QualityEventStatus[]> = {
  open: ["contained", "closed"],
  contained: ["closed"],
  closed: [],
};

/**
 * Whether an event in `from` may go to `to` with `disposition`. Staying in the same status (to record a
 * disposition or a comment) is allowed until the event is closed; closing needs a decided disposition.
 */
export function statusChange(from: QualityEventStatus, to: QualityEventStatus, disposition: QualityDisposition): StatusChange {
  if (from === "closed") return { ok: false, message: "the event is closed: a closed quality event does not change any more" };
  if (from !== to && !NEXT[from].includes(to)) return { ok: false, message: `a ${from} event cannot go back to ${to}` };
  if (to === "closed" && disposition === "pending") return { ok: false, message: "closing needs a disposition (not pending)" };
  return { ok: true };
}

/** The statuses an event in `from` may be set to (itself included while it is not closed). */
export function statusesFrom(from: QualityEventStatus): QualityEventStatus[] {
  return from === "closed" ? [] : [from, ...NEXT[from]];
}

/** A status an event may be raised in (an import brings closed ones): closed needs a disposition. */
export function initialStatusProblem(status: QualityEventStatus, disposition: QualityDisposition): string | null {
  return status === "closed" && disposition === "pending" ? "A closed event needs a disposition (not pending)" : null;
}

/** One reference as written on a form, a CLI line or a QMS export row. */
export interface ReferenceDraft {
  kind: QualityReferenceKind;
  /** The material's part number: required for serials, lots and materials; not given for containers. */
  material?: string | null;
  /** The serial, lot or container (SSCC) identifier; not given for a material. */
  identifier?: string | null;
}

const present = (v: string | null | undefined): v is string => typeof v === "string" && v.trim() !== "";

/**
 * The key that makes two references the same: a serial or lot by (material, identifier) — identifiers
 * are unique per material —, a container by its identifier alone (an SSCC is unique), a material by its
 * part number.
 */
export function referenceKey(ref: ReferenceDraft): string {
  const material = (ref.material ?? "").trim();
  const identifier = (ref.identifier ?? "").trim();
  if (ref.kind === "container") return `container|${identifier}`;
  if (ref.kind === "material") return `material|${material}`;
  return `${ref.kind}|${material}|${identifier}`;
}

/**
 * What is wrong with a set of references, keyed as a form names its fields (`references`,
 * `references.2.identifier`). At least one reference; each names what its kind needs; no reference twice.
 */
export function referenceProblems(refs: readonly ReferenceDraft[]): Record<string, string[]> {
  const problems = new Map<string, string[]>();
  const add = (key: string, message: string) => problems.set(key, [...(problems.get(key) ?? []), message]);
  if (refs.length === 0) add("references", "Name at least one serial, lot, container or material");
  const seen = new Map<string, number>();
  refs.forEach((ref, i) => {
    const at = `references.${i}`;
    const n = i + 1;
    if (ref.kind === "serial" || ref.kind === "lot") {
      if (!present(ref.identifier)) add(`${at}.identifier`, `Reference ${n}: give the ${ref.kind} identifier`);
      if (!present(ref.material)) add(`${at}.material`, `Reference ${n}: give the material's part number (${ref.kind} identifiers are unique per material)`);
    } else if (ref.kind === "container") {
      if (!present(ref.identifier)) add(`${at}.identifier`, `Reference ${n}: give the container's identifier (SSCC)`);
      if (present(ref.material)) add(`${at}.material`, `Reference ${n}: a container is named by its identifier alone; leave the material empty`);
    } else {
      if (!present(ref.material)) add(`${at}.material`, `Reference ${n}: give the material's part number`);
      if (present(ref.identifier))
        add(`${at}.identifier`, `Reference ${n}: a material reference names no serial, lot or container; leave the identifier empty`);
    }
    const key = referenceKey(ref);
    const first = seen.get(key);
    if (first !== undefined) add(at, `Reference ${n} repeats reference ${first + 1}`);
    else seen.set(key, i);
  });
  return Object.fromEntries(problems);
}

/** "legacy — before EIN's first rule set", "EIN v2: serial", "EIN v1: no rule for the material". */
export function ruleAtRaiseText(rule: RuleAtRaise, site: string): string {
  if (rule.state === "legacy") return `legacy — before ${site}'s first rule set`;
  if (rule.state === "unruled") return `${site} v${rule.version}: no rule for the material`;
  return `${site} v${rule.version}: ${rule.trackingMode}`;
}

/** A stored reference row's rule state as the domain type (the table keeps it in three columns). */
export function ruleAtRaiseOf(row: {
  ruleState: "legacy" | "unruled" | "ruled";
  ruleSetVersion: number | null;
  trackingModeAtRaise: RuleAtRaiseMode | null;
}): RuleAtRaise {
  if (row.ruleState === "legacy" || row.ruleSetVersion === null) return { state: "legacy" };
  if (row.ruleState === "unruled" || row.trackingModeAtRaise === null) return { state: "unruled", version: row.ruleSetVersion };
  return { state: "ruled", version: row.ruleSetVersion, trackingMode: row.trackingModeAtRaise };
}
type RuleAtRaiseMode = Extract<RuleAtRaise, { state: "ruled" }>["trackingMode"];

/** The number of the n-th event: QE-0001 (four digits at least, as the table's check says). */
export function qualityEventNumber(n: number | bigint | string): string {
  return `QE-${String(n).padStart(4, "0")}`;
}
