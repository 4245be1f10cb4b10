/**
 * What a genealogy search term names, read with the GS1 parsers (pure; ADR 014, "Search"): an EPC
 * URN (`urn:epc:id:sgtin:…`, `…:sscc:…`, `urn:epc:class:lgtin:…`, `urn:epc:idpat:sgtin:…*`), a GS1
 * Digital Link URI or a bracketed element string (`(01)…(21)…`) becomes the keys a trace item is
 * stored under — a trade item's GTIN with its serial, lot or class identifier, or a container's
 * SSCC. Anything else (a bare serial, lot or container code) names no key: it is matched as an
 * identifier, as always. A term that looks like a GS1 form but does not parse names no key either
 * (the reason is kept for the screen); it is still matched as an identifier.
 */
import { parseGs1Bracketed, parseGs1DigitalLink, type Gs1Element, type Gs1ParseOptions } from "../../packages/identifiers/src/gs1";
import { parseEpc } from "./epcis/identifiers";

export type TraceItemKey =
  /** A serial, lot or class item: its material's GTIN-14 and its identifier. */
  | { level: "serial" | "lot" | "class"; gtin: string; identifier: string }
  /** A container: its SSCC-18, whatever its material. */
  | { level: "container"; identifier: string };

export interface SearchTerm {
  /** The term as typed (trimmed by the route): matched against identifiers as it is. */
  text: string;
  /** How it was read: `urn`, `digital-link`, `element-string`, or `identifier` (no GS1 form). */
  form: "urn" | "digital-link" | "element-string" | "identifier";
  /** The keys it names (empty for a bare identifier or a term that did not parse). */
  keys: TraceItemKey[];
  /** Why a term in a GS1 form names no key (did not parse, or names no trade item or container). */
  problem: string | null;
}

/**
 * Short GTINs (8, 12, 13 digits) in a Digital Link are read as GTIN-14 for a search (ADR 012's
 * `expandShortGtin`): a search is a lookup, never a record, and materials hold GTIN-14.
 */
const LENIENT: Gs1ParseOptions = { expandShortGtin: true };

function keysOfElements(elements: readonly Pick<Gs1Element, "ai" | "value">[]): TraceItemKey[] {
  const get = (ai: string) => elements.find((e) => e.ai === ai)?.value ?? null;
  const sscc = get("00");
  if (sscc) return [{ level: "container", identifier: sscc }];
  const gtin = get("01");
  if (!gtin) return [];
  const serial = get("21");
  if (serial) return [{ level: "serial", gtin, identifier: serial }];
  const lot = get("10");
  if (lot) return [{ level: "lot", gtin, identifier: lot }];
  return [{ level: "class", gtin, identifier: `(01)${gtin}` }];
}

const noKey = (text: string, form: SearchTerm["form"], problem: string): SearchTerm => ({ text, form, keys: [], problem });

/** Reads a search term; never throws. */
export function readSearchTerm(text: string): SearchTerm {
  if (text.startsWith("urn:epc:")) {
    const r = parseEpc(text);
    if (!r.ok) return noKey(text, "urn", r.message);
    const { level, gtin, identifier } = r.reading;
    if (level === "container" && identifier) return { text, form: "urn", keys: [{ level, identifier }], problem: null };
    if (level !== "other" && level !== "container" && gtin && identifier) return { text, form: "urn", keys: [{ level, gtin, identifier }], problem: null };
    return noKey(text, "urn", `${text} names no trade item or container (C-981 traces SGTIN, LGTIN, GTIN classes and SSCC)`);
  }
  const form = /^https?:\/\//i.test(text) ? "digital-link" : text.startsWith("(") ? "element-string" : null;
  if (form === null) return { text, form: "identifier", keys: [], problem: null };
  const result = form === "digital-link" ? parseGs1DigitalLink(text, LENIENT) : parseGs1Bracketed(text, LENIENT);
  if (result.status !== "valid") {
    const message = result.status === "invalid" ? result.errors.map((e) => e.message).join("; ") : result.message;
    return noKey(text, form, message);
  }
  const keys = keysOfElements(result.reading.elements);
  return keys.length ? { text, form, keys, problem: null } : noKey(text, form, `${text} names no GTIN or SSCC`);
}
