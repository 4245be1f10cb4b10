/**
 * Plausibility of an EPCIS event beyond the standard (pure; ADR 024): times that lie in the
 * future of the import, a container that holds itself, an item transformed into itself. The
 * import's clock ("now") and the allowed clock skew are passed in; nothing here reads a clock.
 * Cycles in the genealogy a document creates are found where its edges are known — in the
 * database, inside the import's transaction (app/services/epcis-cycles.server.ts).
 */
import { stronglyConnectedComponents } from "../strongly-connected";
import { parseEpc, type EpcReading } from "./identifiers";
import type { EpcisIssue } from "./validate";
import { cbvWord } from "./cbv";

type Event = Record<string, unknown>;

/** Default allowed clock skew between the capturing system and C-981: one day. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 86_400;
/** Largest skew accepted (a year): beyond it the check would mean nothing. */
export const MAX_CLOCK_SKEW_SECONDS = 366 * 86_400;

export interface TimeLimit {
  /** The import's time, epoch milliseconds. */
  now: number;
  /** Times up to this many seconds after `now` are accepted (clocks differ). */
  skewSeconds: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * A clock skew as written on the command line or in the environment: seconds (`3600`), or a
 * number with a unit `s`, `m`, `h`, `d` (`90m`, `12h`, `1d`). Whole values from 0 to a year.
 */
export function parseClockSkew(text: string): { ok: true; seconds: number } | { ok: false; message: string } {
  const m = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(text);
  if (!m) return { ok: false, message: `clock skew ${JSON.stringify(text)}: write seconds (3600) or a number with s, m, h or d (90m, 12h, 1d)` };
  const seconds = Number(m[1]) * UNITS[m[2] || "s"]!;
  if (seconds > MAX_CLOCK_SKEW_SECONDS) return { ok: false, message: `clock skew ${text} is more than a year` };
  return { ok: true, seconds };
}

/** `1 day`, `2 days 3 h`, `90 min`, `45 s`: the skew as a message shows it. */
export function describeSkew(seconds: number): string {
  if (seconds === 0) return "0 s";
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  const rest = seconds % 60;
  const parts = [days ? `${days} day${days === 1 ? "" : "s"}` : "", hours ? `${hours} h` : "", minutes ? `${minutes} min` : "", rest ? `${rest} s` : ""];
  return parts.filter(Boolean).join(" ");
}

/** The time after which a stated time is in the future, epoch milliseconds. */
const latestAccepted = (limit: TimeLimit) => limit.now + limit.skewSeconds * 1000;

function futureIssue(what: string, value: unknown, limit: TimeLimit, eventIndex: number | null, path: string): EpcisIssue | null {
  if (typeof value !== "string") return null;
  const t = Date.parse(value);
  // An unreadable time is the semantic check's error (checkEventSemantics), not this one's.
  if (Number.isNaN(t) || t <= latestAccepted(limit)) return null;
  return {
    eventIndex,
    path,
    message: `${what} ${value} is in the future: later than the import time ${new Date(limit.now).toISOString()} plus the allowed clock skew of ${describeSkew(limit.skewSeconds)} (limit ${new Date(latestAccepted(limit)).toISOString()})`,
  };
}

/**
 * The times an event states must not lie after the import time plus the skew: `eventTime` (when
 * it happened), `recordTime` (when a repository captured it) and an error declaration's
 * `declarationTime` (when it was declared wrong). None of them can be later than now.
 */
export function checkEventTimes(event: Event, index: number, limit: TimeLimit): EpcisIssue[] {
  const at = `/epcisBody/eventList/${index}`;
  const declaration = event.errorDeclaration && typeof event.errorDeclaration === "object" ? (event.errorDeclaration as Event) : null;
  return [
    futureIssue("eventTime", event.eventTime, limit, index, `${at}/eventTime`),
    futureIssue("recordTime", event.recordTime, limit, index, `${at}/recordTime`),
    declaration ? futureIssue("declarationTime", declaration.declarationTime, limit, index, `${at}/errorDeclaration/declarationTime`) : null,
  ].filter((issue): issue is EpcisIssue => issue !== null);
}

/** The document's `creationDate` must not lie after the import time plus the skew either. */
export function checkDocumentTime(header: Event, limit: TimeLimit): EpcisIssue[] {
  const issue = futureIssue("creationDate", header.creationDate, limit, null, "/creationDate");
  return issue ? [issue] : [];
}

/**
 * CBV 2.0 business steps after which an object that is both input and output of a
 * TransformationEvent is the same object reworked: `repairing` ("repairing an object"). No other
 * CBV step says that an object was changed and kept its identity (ADR 024).
 */
export const REWORK_BIZ_STEPS: ReadonlySet<string> = new Set(["repairing"]);

/**
 * The CBV name of a business step: the bare word (`repairing`, EPCIS 2.0 JSON), the CBV 2.0 Web
 * URI it stands for (`https://ref.gs1.org/cbv/BizStep-repairing`) or its CURIE
 * (`cbv:BizStep-repairing`). The CBV 1.x URN (`urn:epcglobal:cbv:bizstep:…`) is refused by GS1's
 * EPCIS 2.0 schema before this is asked. A business step of another vocabulary is not a CBV step: null.
 */
export function cbvBizStep(bizStep: unknown): string | null {
  return cbvWord(bizStep, "BizStep");
}

export const isReworkStep = (bizStep: unknown) => {
  const step = cbvBizStep(bizStep);
  return step !== null && REWORK_BIZ_STEPS.has(step);
};

/** What makes two readings one object: the genealogy key of a placed item, else the URI as written. */
const sameObject = (r: EpcReading) => (r.level === "other" || r.identifier === null ? `uri|${r.uri}` : `${r.level}|${r.gtin ?? ""}|${r.identifier}`);

function readAt(value: unknown): EpcReading | null {
  if (typeof value !== "string") return null;
  const r = parseEpc(value);
  return r.ok ? r.reading : null;
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const CHILD_LISTS: Record<string, string> = { AggregationEvent: "childEPCs", AssociationEvent: "childEPCs", TransactionEvent: "epcList" };

/**
 * Objects related to themselves:
 * - an Aggregation, Association or Transaction event whose `parentID` is also one of its children:
 *   a container cannot hold itself — an error (located at the child);
 * - a TransformationEvent naming one object as input and output: rework when the business step is
 *   a repair (REWORK_BIZ_STEPS), else no edge is recorded for it and a located warning says so
 *   (the item's genealogy is unchanged by a loop; the event is stored as received).
 */
export function checkSelfRelations(event: Event, index: number): { errors: EpcisIssue[]; warnings: EpcisIssue[] } {
  const at = `/epcisBody/eventList/${index}`;
  const errors: EpcisIssue[] = [];
  const warnings: EpcisIssue[] = [];
  const type = event.type;
  const childList = typeof type === "string" ? CHILD_LISTS[type] : undefined;
  if (childList) {
    const parent = readAt(event.parentID);
    if (parent) {
      const key = sameObject(parent);
      asArray(event[childList]).forEach((value, i) => {
        const child = readAt(value);
        if (child && sameObject(child) === key) {
          errors.push({
            eventIndex: index,
            path: `${at}/${childList}/${i}`,
            message: `${String(value)} is the parentID itself (${String(event.parentID)}): an object cannot contain itself`,
          });
        }
      });
    }
  }
  if (type === "TransformationEvent" && !isReworkStep(event.bizStep)) {
    const inputs = new Set<string>();
    for (const value of asArray(event.inputEPCList)) {
      const r = readAt(value);
      if (r) inputs.add(sameObject(r));
    }
    for (const element of asArray(event.inputQuantityList)) {
      const r = readAt((element as { epcClass?: unknown } | null)?.epcClass);
      if (r) inputs.add(sameObject(r));
    }
    if (inputs.size) {
      const step = typeof event.bizStep === "string" ? `business step ${event.bizStep}` : "no business step";
      const warn = (path: string, value: unknown) =>
        warnings.push({
          eventIndex: index,
          path,
          message: `${String(value)} is both input and output of this transformation with ${step}; only a repair (bizStep repairing) is recorded as rework, so no edge is recorded for it (ADR 024)`,
        });
      asArray(event.outputEPCList).forEach((value, i) => {
        const r = readAt(value);
        if (r && inputs.has(sameObject(r))) warn(`${at}/outputEPCList/${i}`, value);
      });
      asArray(event.outputQuantityList).forEach((element, i) => {
        const epcClass = (element as { epcClass?: unknown } | null)?.epcClass;
        const r = readAt(epcClass);
        if (r && inputs.has(sameObject(r))) warn(`${at}/outputQuantityList/${i}/epcClass`, epcClass);
      });
    }
  }
  return { errors, warnings };
}

/** A genealogy flow edge between two items (ids), `fresh` when the import being checked wrote it. */
export interface FlowEdge {
  id: number;
  input: number;
  output: number;
  fresh: boolean;
}

/**
 * Cycles through fresh edges: one per strongly connected component (iterative Tarjan) that holds a
 * fresh edge, as edge ids in flow order starting with the component's first fresh edge (by id),
 * closed by the shortest path back (breadth first within the component); at most `max` of them.
 * Linear in the edges given. Loops (input = output) are no flow and are ignored.
 */
export function cyclesThroughFresh(edges: readonly FlowEdge[], max = 10): number[][] {
  const out = new Map<number, FlowEdge[]>();
  for (const e of edges) {
    if (e.input === e.output) continue;
    const list = out.get(e.input);
    if (list) list.push(e);
    else out.set(e.input, [e]);
    if (!out.has(e.output)) out.set(e.output, []);
  }
  // Tarjan, iteratively (a genealogy can be deeper than the call stack).
  const component = stronglyConnectedComponents(out.keys(), (node) => out.get(node)!.map((e) => e.output));
  const cycles: number[][] = [];
  const reported = new Set<number>();
  const fresh = edges.filter((e) => e.fresh && e.input !== e.output && component.get(e.input) === component.get(e.output)).sort((a, b) => a.id - b.id);
  for (const closing of fresh) {
    if (cycles.length >= max) break;
    const c = component.get(closing.input)!;
    if (reported.has(c)) continue;
    reported.add(c);
    // Shortest path from the closing edge's output back to its input, inside the component.
    const reachedBy = new Map<number, FlowEdge>();
    const seen = new Set([closing.output]);
    let frontier = [closing.output];
    while (frontier.length && !seen.has(closing.input)) {
      const next: number[] = [];
      for (const node of frontier) {
        for (const e of out.get(node)!) {
          if (seen.has(e.output) || component.get(e.output) !== c) continue;
          seen.add(e.output);
          reachedBy.set(e.output, e);
          next.push(e.output);
        }
      }
      frontier = next;
    }
    const back: number[] = [];
    for (let node = closing.input; node !== closing.output; ) {
      const e = reachedBy.get(node)!;
      back.push(e.id);
      node = e.input;
    }
    cycles.push([closing.id, ...back.reverse()]);
  }
  return cycles;
}
