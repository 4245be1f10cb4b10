/**
 * EPCIS 2.0 events in C-981's terms (pure; ADR 014): the checks the JSON Schema cannot express,
 * an event's identity, and its mapping onto trace items and genealogy edges.
 */
import { createHash } from "node:crypto";
import { canonicalize } from "../canonical-json";
import { cbvUri } from "./cbv";
import { parseEpc, type EpcReading } from "./identifiers";
import { isReworkStep } from "./plausibility";
import type { EpcisIssue } from "./validate";

export type EpcisEvent = Record<string, unknown> & { type?: unknown };

export const EVENT_TYPES = ["ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent", "TransactionEvent"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/* -------------------------------------------------------------------------------------------- */
/* Identity                                                                                      */
/* -------------------------------------------------------------------------------------------- */

/** Prefix of the identity C-981 gives an event without `eventID` (ADR 014). */
export const HASH_ID_PREFIX = "c981:jcs-sha256:";

/**
 * The event as it states a fact: without `errorDeclaration` (added when the fact is later declared
 * wrong) and without `recordTime` (set by each repository that captures it).
 */
function factOf(event: EpcisEvent): Record<string, unknown> {
  const { errorDeclaration: _d, recordTime: _r, ...fact } = event;
  return fact;
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** Fields of an event that hold one EPC or a list of EPCs. */
const EPC_FIELDS = ["parentID", "epcList", "childEPCs", "inputEPCList", "outputEPCList"] as const;
/** Fields of an event that hold quantity elements (`epcClass`). */
const QUANTITY_FIELDS = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"] as const;

/**
 * One spelling of an EPC or EPC class (ADR 014 *Identity*): the GS1 element string of what it
 * identifies, `(01)GTIN-14(21)serial`, `(01)GTIN-14(10)lot`, `(01)GTIN-14`, `(00)SSCC`; the EPC URN
 * (any company prefix length), the Digital Link (any host, scheme in any case) and the element
 * string of one object are one spelling. An identifier that names no trade item or container
 * (GIAI, SGLN…) is kept as written; one that does not parse is kept as written (it is refused by
 * the checks anyway).
 */
export function canonicalEpc(uri: string): string {
  const r = parseEpc(uri);
  if (!r.ok) return uri;
  const { level, gtin, identifier } = r.reading;
  if (level === "container" && identifier) return `(00)${identifier}`;
  if (gtin === null || identifier === null) return uri;
  // parseEpc gives every GTIN as GTIN-14 (URNs by construction, Digital Links with expandShortGtin).
  if (level === "serial") return `(01)${gtin}(21)${identifier}`;
  if (level === "lot") return `(01)${gtin}(10)${identifier}`;
  if (level === "class") return `(01)${gtin}`;
  return uri;
}

/**
 * The event as it states a fact (see factOf), in one spelling (ADR 014 *Identity*): every EPC and
 * EPC class as canonicalEpc gives it; EPC lists, quantity lists, business transactions, sources and
 * destinations in a fixed order (each is a set: EPCIS gives their order no meaning); CBV terms
 * (business step, disposition, transaction, source and destination types) as their Web URIs;
 * `eventTime` as the UTC instant it names (`eventTimeZoneOffset` is kept as received). Other fields
 * as received. Copies only what it changes.
 */
function canonicalFact(event: EpcisEvent): Record<string, unknown> {
  const fact = factOf(event);
  for (const field of EPC_FIELDS) {
    const value = fact[field];
    if (typeof value === "string") fact[field] = canonicalEpc(value);
    else if (Array.isArray(value)) fact[field] = inOneOrder(value.map((v) => (typeof v === "string" ? canonicalEpc(v) : v)));
  }
  for (const field of QUANTITY_FIELDS) {
    const value = fact[field];
    if (!Array.isArray(value)) continue;
    fact[field] = inOneOrder(
      value.map((q) =>
        q && typeof q === "object" && typeof (q as { epcClass?: unknown }).epcClass === "string"
          ? { ...q, epcClass: canonicalEpc((q as { epcClass: string }).epcClass) }
          : q,
      ),
    );
  }
  if (typeof fact.bizStep === "string") fact.bizStep = cbvUri(fact.bizStep, "BizStep");
  if (typeof fact.disposition === "string") fact.disposition = cbvUri(fact.disposition, "Disp");
  for (const [field, vocabulary] of [
    ["bizTransactionList", "BTT"],
    ["sourceList", "SDT"],
    ["destinationList", "SDT"],
  ] as const) {
    const value = fact[field];
    if (!Array.isArray(value)) continue;
    fact[field] = inOneOrder(
      value.map((entry) =>
        entry && typeof entry === "object" && typeof (entry as { type?: unknown }).type === "string"
          ? { ...entry, type: cbvUri((entry as { type: string }).type, vocabulary) }
          : entry,
      ),
    );
  }
  if (typeof fact.eventTime === "string") fact.eventTime = utcInstant(fact.eventTime);
  return fact;
}

/** A list whose order carries no meaning, sorted by the canonical JSON of its elements. */
function inOneOrder(values: unknown[]): unknown[] {
  return values
    .map((v) => [canonicalize(v), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v);
}

/**
 * An xsd:dateTime with a zone as the UTC instant it names, to the millisecond
 * (`2020-01-02T12:00:00+02:00` → `2020-01-02T10:00:00.000Z`). A time with more than millisecond
 * precision, or without a zone, is kept as written (the checks refuse a time without a zone).
 */
function utcInstant(time: string): string {
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!m) return time;
  let written = time;
  if (m[1] && m[1].length > 3) {
    // Digits beyond the millisecond count only when they are not zeros.
    if (!/^0+$/.test(m[1].slice(3))) return time;
    written = time.replace(`.${m[1]}`, `.${m[1].slice(0, 3)}`);
  }
  const ms = Date.parse(written);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : time;
}

/** SHA-256 of the RFC 8785 canonical form of the event's fact as received (see factOf). */
export function contentHash(event: EpcisEvent): string {
  return sha256(canonicalize(factOf(event)));
}

/**
 * An event's identity (ADR 014): SHA-256 of the RFC 8785 canonical form of its fact with every
 * EPC in one spelling (canonicalFact). `eventID` is not part of it: the same fact sent under two
 * event ids, or under one and none, is one event.
 */
export function identityHash(event: EpcisEvent): string {
  const { eventID: _id, ...fact } = canonicalFact(event);
  return sha256(canonicalize(fact));
}

/**
 * The handle of a stored event (the `event_ref` of its edges, what declarations and corrective
 * ids name): `eventID` when the event has one, else `c981:jcs-sha256:` + its identity hash.
 */
export function eventKey(event: EpcisEvent, hash = identityHash(event)): { key: string; fromEventId: boolean } {
  return typeof event.eventID === "string" ? { key: event.eventID, fromEventId: true } : { key: HASH_ID_PREFIX + hash, fromEventId: false };
}

export function declarationOf(event: EpcisEvent): { declarationTime: string; reason: string | null; correctiveEventIDs: string[] } | null {
  const d = event.errorDeclaration as Record<string, unknown> | undefined;
  if (!d || typeof d !== "object") return null;
  return {
    declarationTime: String(d.declarationTime),
    reason: typeof d.reason === "string" ? d.reason : null,
    correctiveEventIDs: Array.isArray(d.correctiveEventIDs) ? d.correctiveEventIDs.map(String) : [],
  };
}

/* -------------------------------------------------------------------------------------------- */
/* Semantic checks                                                                               */
/* -------------------------------------------------------------------------------------------- */

const EPC_LISTS: Record<EventType, { single: string[]; lists: string[]; quantityLists: string[] }> = {
  ObjectEvent: { single: [], lists: ["epcList"], quantityLists: ["quantityList"] },
  AggregationEvent: { single: ["parentID"], lists: ["childEPCs"], quantityLists: ["childQuantityList"] },
  AssociationEvent: { single: ["parentID"], lists: ["childEPCs"], quantityLists: ["childQuantityList"] },
  TransactionEvent: { single: ["parentID"], lists: ["epcList"], quantityLists: ["quantityList"] },
  TransformationEvent: { single: [], lists: ["inputEPCList", "outputEPCList"], quantityLists: ["inputQuantityList", "outputQuantityList"] },
};

const isEventType = (t: unknown): t is EventType => EVENT_TYPES.includes(t as EventType);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const hasOffset = (time: string) => /(Z|[+-]\d{2}:\d{2})$/.test(time);

export interface EventCheck {
  errors: EpcisIssue[];
  warnings: EpcisIssue[];
}

/** The rules of EPCIS 2.0 (§7.4) and of the GS1 identifiers that the JSON Schema leaves out. */
export function checkEventSemantics(event: EpcisEvent, index: number): EventCheck {
  const at = `/epcisBody/eventList/${index}`;
  const errors: EpcisIssue[] = [];
  const warnings: EpcisIssue[] = [];
  const error = (path: string, message: string) => errors.push({ eventIndex: index, path: at + path, message });
  const warn = (path: string, message: string) => warnings.push({ eventIndex: index, path: at + path, message });
  const type = event.type;
  if (!isEventType(type)) {
    error("/type", `event type ${JSON.stringify(type)} is not one of ${EVENT_TYPES.join(", ")}; C-981 does not import extension event types`);
    return { errors, warnings };
  }

  const eventTime = typeof event.eventTime === "string" ? event.eventTime : null;
  if (eventTime !== null) {
    if (!hasOffset(eventTime)) error("/eventTime", `${eventTime} has no time zone (Z or ±hh:mm required)`);
    else if (Number.isNaN(Date.parse(eventTime))) error("/eventTime", `${eventTime} is not a valid time`);
  }
  if (typeof event.recordTime === "string" && eventTime && Date.parse(event.recordTime) < Date.parse(eventTime)) {
    warn("/recordTime", `recordTime ${event.recordTime} is before eventTime ${eventTime}`);
  }

  const action = event.action;
  if (type === "AggregationEvent" || type === "AssociationEvent") {
    if ((action === "ADD" || action === "DELETE" || type === "AssociationEvent") && typeof event.parentID !== "string") {
      error("/parentID", `${type} with action ${String(action)} requires parentID (EPCIS 2.0 §7.4.3)`);
    }
    if (action === "ADD" && asArray(event.childEPCs).length + asArray(event.childQuantityList).length === 0) {
      error("/childEPCs", `${type} with action ADD needs at least one child (childEPCs or childQuantityList)`);
    }
  }
  if (type === "ObjectEvent" && action === "ADD" && asArray(event.epcList).length + asArray(event.quantityList).length === 0 && !event.ilmd) {
    warn("/epcList", "ObjectEvent ADD with neither epcList nor quantityList names no object");
  }
  if (type === "TransformationEvent") {
    const inputs = asArray(event.inputEPCList).length + asArray(event.inputQuantityList).length;
    const outputs = asArray(event.outputEPCList).length + asArray(event.outputQuantityList).length;
    if (inputs + outputs === 0) error("", "TransformationEvent names neither inputs nor outputs");
    if ("action" in event) error("/action", "TransformationEvent has no action (EPCIS 2.0 §7.4.6)");
    const shares = BigInt(namedOutputCount(event));
    if (shares > 0n) {
      asArray(event.inputQuantityList).forEach((element, i) => {
        const q = (element ?? {}) as { quantity?: unknown; uom?: unknown };
        if (typeof q.quantity === "number" && q.quantity > 0 && toMicro(q.quantity) < shares) {
          error(
            `/inputQuantityList/${i}/quantity`,
            `quantity ${q.quantity}${typeof q.uom === "string" ? ` ${q.uom}` : ""} cannot be shared among ${shares} outputs: genealogy holds quantities to 0.000001`,
          );
        }
      });
    }
  }

  const spec = EPC_LISTS[type];
  for (const field of spec.single) {
    const value = event[field];
    if (typeof value !== "string") continue;
    const r = parseEpc(value);
    if (!r.ok) error(`/${field}`, r.message);
    else if (r.reading.level === "lot" || r.reading.level === "class")
      error(`/${field}`, `${value} is a class of objects; ${field} names one object (SGTIN, SSCC, GIAI…)`);
  }
  for (const field of spec.lists) {
    asArray(event[field]).forEach((value, i) => {
      if (typeof value !== "string") return;
      const r = parseEpc(value);
      if (!r.ok) error(`/${field}/${i}`, r.message);
      else if (r.reading.level === "lot" || r.reading.level === "class")
        error(
          `/${field}/${i}`,
          `${value} is a class of objects; class-level identifiers belong in ${field.replace(/EPCs?List$|EPCs$/, "") || ""}QuantityList with a quantity`,
        );
    });
  }
  for (const field of spec.quantityLists) {
    // An item named twice in one list in one unit counts both (planEvent): their sum must fit too.
    const sums = new Map<string, bigint>();
    asArray(event[field]).forEach((element, i) => {
      if (!element || typeof element !== "object") return;
      const q = element as { epcClass?: unknown; quantity?: unknown; uom?: unknown };
      if (typeof q.epcClass === "string" && typeof q.quantity === "number" && q.quantity > 0 && toMicro(q.quantity) < MAX_MICRO) {
        const key = `${canonicalEpc(q.epcClass)}|${typeof q.uom === "string" ? q.uom : COUNT_UNIT}`;
        const sum = (sums.get(key) ?? 0n) + toMicro(q.quantity);
        sums.set(key, sum);
        if (sum >= MAX_MICRO && sum - toMicro(q.quantity) < MAX_MICRO)
          error(`/${field}/${i}/quantity`, `${q.epcClass} is named again: its quantities add up to more than genealogy holds (under 1,000,000,000,000)`);
      }
      if (typeof q.epcClass === "string") {
        const r = parseEpc(q.epcClass);
        if (!r.ok) error(`/${field}/${i}/epcClass`, r.message);
        else if (r.reading.level === "serial" || r.reading.level === "container") {
          error(`/${field}/${i}/epcClass`, `${q.epcClass} identifies one object; instance-level identifiers belong in an EPC list, not a quantity list`);
        }
      }
      if (q.uom !== undefined && q.quantity === undefined) error(`/${field}/${i}/uom`, "uom is given without a quantity");
      if (typeof q.quantity === "number") {
        if (!(q.quantity > 0)) error(`/${field}/${i}/quantity`, `quantity ${q.quantity} must be greater than zero`);
        else if (toMicro(q.quantity) >= MAX_MICRO)
          error(`/${field}/${i}/quantity`, `quantity ${q.quantity} is larger than genealogy holds (under 1,000,000,000,000, to 0.000001)`);
        else if (q.uom === undefined && !Number.isInteger(q.quantity))
          error(`/${field}/${i}/quantity`, `quantity ${q.quantity} without uom counts instances and must be a whole number`);
      } else if (q.quantity === undefined) {
        warn(`/${field}/${i}`, "no quantity: the class is kept in the stored event but not placed in the genealogy (a quantity would be invented)");
      }
    });
  }

  const declaration = declarationOf(event);
  if (declaration) {
    if (eventTime && Date.parse(declaration.declarationTime) < Date.parse(eventTime)) {
      error("/errorDeclaration/declarationTime", `declared erroneous at ${declaration.declarationTime}, before the event itself (${eventTime})`);
    }
    declaration.correctiveEventIDs.forEach((id, i) => {
      if (id === event.eventID) error(`/errorDeclaration/correctiveEventIDs/${i}`, `${id} is the declared event itself; it cannot correct itself`);
    });
  }
  return { errors, warnings };
}

/** Header rules beyond the schema: only capture documents of EPCIS 2.0. */
export function checkHeaderSemantics(header: Record<string, unknown>): EpcisIssue[] {
  const errors: EpcisIssue[] = [];
  if (header.type !== "EPCISDocument")
    errors.push({ eventIndex: null, path: "/type", message: `type must be "EPCISDocument", got ${JSON.stringify(header.type)}` });
  if (typeof header.schemaVersion === "string" && !header.schemaVersion.startsWith("2.")) {
    errors.push({ eventIndex: null, path: "/schemaVersion", message: `schemaVersion ${header.schemaVersion}: C-981 imports EPCIS 2.x` });
  }
  return errors;
}

/* -------------------------------------------------------------------------------------------- */
/* Mapping onto genealogy                                                                        */
/* -------------------------------------------------------------------------------------------- */

export type PlannedLevel = "serial" | "lot" | "class" | "container";

export interface PlannedItem {
  level: PlannedLevel;
  /** The material's GTIN; null for a container (a logistics unit, whatever it holds). */
  gtin: string | null;
  identifier: string;
  quantity: number;
  unit: string;
}

export interface PlannedEdge {
  kind: "consume" | "aggregate" | "rework";
  input: number;
  output: number;
  /** Decimal with up to 6 places (genealogy's precision, `numeric(18,6)`). */
  quantity: string;
  unit: string;
}

export interface EventPlan {
  type: EventType;
  eventTime: string;
  items: PlannedItem[];
  edges: PlannedEdge[];
  /** GTINs of trade items the event names: all must be C-981 materials for it to be applied. */
  gtins: string[];
  /** Identifiers that are valid but name no trade item or container (GIAI, GRAI, SGLN…), kept in the stored event only. */
  notPlaced: string[];
}

/** Count of instances: EPCIS quantity without uom. */
export const COUNT_UNIT = "EA";

export const itemKey = (item: Pick<PlannedItem, "level" | "gtin" | "identifier">) =>
  item.level === "container" ? `container|${item.identifier}` : `${item.gtin}|${item.identifier}`;

/** Genealogy holds quantities to 6 decimals (`numeric(18,6)`): shares are whole millionths. */
const MICRO = 1_000_000n;
/** Millionths `numeric(18,6)` cannot hold: a quantity of 10^12 or more. */
const MAX_MICRO = 10n ** 18n;

/**
 * A quantity in whole millionths, rounded down (never more than the event states): exact from the
 * number's shortest decimal form, so 0.1 is 100000 and 1e-7 is 0.
 */
export function toMicro(quantity: number): bigint {
  if (Number.isInteger(quantity) && Math.abs(quantity) <= Number.MAX_SAFE_INTEGER) return BigInt(quantity) * MICRO;
  const [mantissa, exponent] = quantity.toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "").replace("-", "");
  const shift = Number(exponent) - (digits.length - 1) + 6;
  return shift >= 0 ? BigInt(digits) * 10n ** BigInt(shift) : BigInt(digits) / 10n ** BigInt(-shift);
}

/** Millionths as a decimal (`2.500000` → `"2.5"`). */
export function fromMicro(micro: bigint): string {
  const whole = micro / MICRO;
  const fraction = (micro % MICRO).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/**
 * Splits `total` millionths into one positive share per weight, summing to `total` exactly:
 * one millionth each first (an edge of genealogy is never 0), the rest in proportion to the
 * weights, rounded down, the millionths left over going to the largest remainders (ties: the
 * earlier output). Null when `total` is smaller than the number of shares.
 */
export function shareOut(total: bigint, weights: readonly bigint[]): bigint[] | null {
  const n = BigInt(weights.length);
  if (n === 0n || total < n) return null;
  const rest = total - n;
  const sum = weights.reduce((a, b) => a + b, 0n);
  const shares = weights.map((w) => 1n + (rest * w) / sum);
  let left = total - shares.reduce((a, b) => a + b, 0n);
  const byRemainder = weights.map((w, i) => ({ i, r: (rest * w) % sum })).sort((a, b) => (b.r > a.r ? 1 : b.r < a.r ? -1 : a.i - b.i));
  for (let k = 0; left > 0n; k++, left--) shares[byRemainder[k]!.i]! += 1n;
  return shares;
}

interface NamedOutput {
  /** The planned item, or null when the output is kept in the stored event only (not placed). */
  item: number | null;
  quantity: number | null;
  unit: string | null;
}

/**
 * How much of one input each output of a TransformationEvent received (ADR 014, *Quantities*):
 * the event states what entered and what came out, not which input went where. The input's
 * quantity is shared among every output the event names — in proportion to the outputs'
 * quantities when every output has one in one unit (the outputs' mass balance), else evenly —
 * so the edges leaving an input never sum to more than entered. Shares of outputs that are not
 * placed are not written. Null when the quantity is too small to give each output a millionth.
 */
function sharesOf(total: bigint, outputs: readonly NamedOutput[]): Map<number, bigint> | null {
  const units = new Set(outputs.map((o) => o.unit));
  const proportional = outputs.every((o) => o.quantity !== null) && units.size === 1;
  const weights = outputs.map((o) => (proportional ? toMicro(o.quantity!) : 1n));
  // A weight of 0 (an output quantity under a millionth) still receives its one millionth.
  const shares = shareOut(total, weights.every((w) => w === 0n) ? weights.map(() => 1n) : weights);
  if (!shares) return null;
  const byItem = new Map<number, bigint>();
  outputs.forEach((o, k) => {
    if (o.item !== null) byItem.set(o.item, (byItem.get(o.item) ?? 0n) + shares[k]!);
  });
  return byItem;
}

/** Outputs a TransformationEvent names: every EPC (one instance) and every quantity element. */
function namedOutputCount(event: EpcisEvent): number {
  return asArray(event.outputEPCList).filter((v) => typeof v === "string").length + asArray(event.outputQuantityList).length;
}

/**
 * Maps a checked event onto trace items and edges (ADR 014):
 * - ObjectEvent: its objects become items; no flow, so no edges.
 * - AggregationEvent / AssociationEvent ADD or OBSERVE: every child → the parent, `aggregate`;
 *   DELETE (disaggregation) records no edge: the history that they were together stays.
 * - TransactionEvent with a parentID, not DELETE: the objects → the parent, `aggregate`.
 * - TransformationEvent: every input → every output, `consume`, with the output's share of the
 *   input's quantity (sharesOf); an input that is also an output is `rework` when the business
 *   step is a repair, else it gets no edge (ADR 024; checkSelfRelations warns).
 * Instance-level EPCs weigh one count (`EA`); quantity elements carry their quantity and uom.
 */
export function planEvent(event: EpcisEvent): EventPlan {
  const type = event.type as EventType;
  const items: PlannedItem[] = [];
  const index = new Map<string, number>();
  const notPlaced: string[] = [];
  const gtins = new Set<string>();

  const add = (reading: EpcReading, quantity: number, unit: string): number | null => {
    if (reading.level === "other" || reading.identifier === null) {
      notPlaced.push(reading.uri);
      return null;
    }
    const item: PlannedItem = { level: reading.level, gtin: reading.gtin, identifier: reading.identifier, quantity, unit };
    const key = itemKey(item);
    const known = index.get(key);
    if (known !== undefined) return known;
    if (item.gtin) gtins.add(item.gtin);
    index.set(key, items.length);
    items.push(item);
    return items.length - 1;
  };
  const read = (uri: unknown) => {
    if (typeof uri !== "string") return null;
    const r = parseEpc(uri);
    return r.ok ? r.reading : null;
  };
  const fromList = (field: string) =>
    asArray(event[field]).flatMap((uri) => {
      const r = read(uri);
      if (!r) return [];
      const i = add(r, 1, COUNT_UNIT);
      return i === null ? [] : [i];
    });
  /**
   * What the quantity elements state per item, in millionths: an item named twice in one list
   * (its URN and its Digital Link, or two elements) in one unit counts both (ADR 014, *Quantities*).
   */
  const stated = new Map<number, bigint>();
  const fromQuantities = (field: string) =>
    asArray(event[field]).flatMap((element) => {
      const q = element as { epcClass?: unknown; quantity?: unknown; uom?: unknown };
      const r = read(q.epcClass);
      if (!r) return [];
      if (typeof q.quantity !== "number") {
        notPlaced.push(r.uri);
        return [];
      }
      const i = add(r, q.quantity, typeof q.uom === "string" ? q.uom : COUNT_UNIT);
      if (i === null) return [];
      if ((typeof q.uom === "string" ? q.uom : COUNT_UNIT) === items[i]!.unit) stated.set(i, (stated.get(i) ?? 0n) + toMicro(q.quantity));
      return [i];
    });

  const edges: PlannedEdge[] = [];
  const edgeKeys = new Set<string>();
  const reworked = isReworkStep(event.bizStep);
  const link = (kind: PlannedEdge["kind"], input: number, output: number, quantity?: bigint) => {
    if (input === output && !reworked) return;
    const k = `${input}>${output}`;
    if (edgeKeys.has(k)) return;
    edgeKeys.add(k);
    const source = items[input]!;
    const amount = quantity === undefined ? fromMicro(toMicro(source.quantity)) : fromMicro(quantity);
    edges.push({ kind: input === output ? "rework" : kind, input, output, quantity: amount, unit: source.unit });
  };

  if (type === "TransformationEvent") {
    const inputs = [...fromList("inputEPCList"), ...fromQuantities("inputQuantityList")];
    const outputs: NamedOutput[] = [];
    for (const uri of asArray(event.outputEPCList)) {
      const r = read(uri);
      if (r) outputs.push({ item: add(r, 1, COUNT_UNIT), quantity: 1, unit: COUNT_UNIT });
    }
    for (const element of asArray(event.outputQuantityList)) {
      const q = element as { epcClass?: unknown; quantity?: unknown; uom?: unknown };
      const r = read(q.epcClass);
      if (!r) continue;
      if (typeof q.quantity !== "number") {
        notPlaced.push(r.uri);
        outputs.push({ item: null, quantity: null, unit: null });
        continue;
      }
      const unit = typeof q.uom === "string" ? q.uom : COUNT_UNIT;
      outputs.push({ item: add(r, q.quantity, unit), quantity: q.quantity, unit });
    }
    for (const i of new Set(inputs)) {
      const shares = sharesOf(stated.get(i) ?? toMicro(items[i]!.quantity), outputs);
      // No output to share among, or a quantity under a millionth per output (refused by checkEventSemantics).
      if (!shares) continue;
      for (const [o, share] of shares) link("consume", i, o, share);
    }
  } else {
    const spec = EPC_LISTS[type];
    const parentReading = spec.single.length ? read(event[spec.single[0]!]) : null;
    const children = [...spec.lists.flatMap(fromList), ...spec.quantityLists.flatMap(fromQuantities)];
    let parent: number | null = null;
    // A container has no material of its own and never takes a child's: what it holds is what its
    // edges say (ADR 014, containers are logistics units).
    if (parentReading) parent = add(parentReading, 1, COUNT_UNIT);
    const linksParent = type === "AggregationEvent" || type === "AssociationEvent" || type === "TransactionEvent";
    if (parent !== null && linksParent && event.action !== "DELETE") {
      for (const c of children) if (c !== parent) link("aggregate", c, parent);
    }
  }
  return { type, eventTime: String(event.eventTime), items, edges, gtins: [...gtins], notPlaced };
}
