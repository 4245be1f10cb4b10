/**
 * EPCIS identifiers read through the GS1 module (ADR 012): EPC URNs (TDS pure identity and class
 * forms) are turned into GS1 element strings and validated by the syntax dictionary; GS1 Digital
 * Link URIs are parsed by `parseGs1DigitalLink`. What the result identifies decides how genealogy
 * holds it (ADR 014): an SGTIN a serial item, an SSCC a container, an LGTIN a lot, a GTIN-only
 * class (`urn:epc:idpat:sgtin:…*`, Digital Link `/01/…` alone) a class item. Other keys (GIAI,
 * GRAI, GSRN, GDTI, SGLN, PGLN…) are valid EPCs but name no trade item; they stay in the stored
 * event and are not projected into trace items.
 */
import { gs1CheckDigit, parseGs1DigitalLink, validateGs1Elements, type Gs1Element } from "../../../packages/identifiers/src/gs1";

export type EpcLevel = "serial" | "lot" | "class" | "container" | "other";

export interface EpcReading {
  uri: string;
  level: EpcLevel;
  /** GTIN-14 for serial, lot and class readings. */
  gtin: string | null;
  /** What genealogy calls the item: the serial, the lot, the SSCC, or `(01)GTIN` for a class. */
  identifier: string | null;
  elements: Gs1Element[];
}

export type EpcResult = { ok: true; reading: EpcReading } | { ok: false; message: string };

const fail = (message: string): EpcResult => ({ ok: false, message });

/** TDS: URN parts are percent-escaped; only `%xx` escapes of permitted characters may appear. */
function decodePart(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

function withCheckDigit(body: string): string {
  return body + gs1CheckDigit(body);
}

/** Company prefix + indicator/item reference → GTIN-14 (indicator digit moves to the front). */
function gtinOf(companyPrefix: string, itemRef: string): string | null {
  if (!/^\d+$/.test(companyPrefix) || !/^\d+$/.test(itemRef) || companyPrefix.length + itemRef.length !== 13) return null;
  if (companyPrefix.length < 6 || companyPrefix.length > 12) return null;
  return withCheckDigit(itemRef[0]! + companyPrefix + itemRef.slice(1));
}

function validated(uri: string, level: EpcLevel, gtin: string | null, identifier: string | null, elements: Gs1Element[]): EpcResult {
  const { errors } = validateGs1Elements(elements);
  if (errors.length) return fail(`${uri}: ${errors.map((e) => e.message).join("; ")}`);
  return { ok: true, reading: { uri, level, gtin, identifier, elements } };
}

const OTHER_EPC_SCHEMES = new Set([
  "sgln",
  "grai",
  "giai",
  "gsrn",
  "gsrnp",
  "gdti",
  "cpi",
  "sgcn",
  "ginc",
  "gsin",
  "itip",
  "upui",
  "pgln",
  "gid",
  "usdod",
  "adi",
  "bic",
  "imovn",
  "lgtin",
]);

function parseUrn(uri: string): EpcResult {
  const m = /^urn:epc:(id|class|idpat):([a-z]+):(.*)$/.exec(uri);
  if (!m) return fail(`${uri}: not an EPC URN (urn:epc:id:…, urn:epc:class:…, urn:epc:idpat:…)`);
  const [, form, scheme, rest] = m as unknown as [string, string, string, string];
  const parts = rest.split(".");
  if (form === "id" && scheme === "sgtin") {
    if (parts.length !== 3) return fail(`${uri}: an SGTIN URN has three parts, CompanyPrefix.IndicatorItemReference.Serial`);
    const gtin = gtinOf(parts[0]!, parts[1]!);
    if (!gtin) return fail(`${uri}: company prefix and indicator/item reference must be 13 digits together (prefix 6 to 12)`);
    const serial = decodePart(parts[2]!);
    if (serial === null || serial === "") return fail(`${uri}: the serial is empty or badly percent-escaped`);
    return validated(uri, "serial", gtin, serial, [
      { ai: "01", value: gtin },
      { ai: "21", value: serial },
    ]);
  }
  if (form === "id" && scheme === "sscc") {
    if (parts.length !== 2) return fail(`${uri}: an SSCC URN has two parts, CompanyPrefix.ExtensionSerialReference`);
    const [cp, ref] = parts as [string, string];
    if (!/^\d+$/.test(cp) || !/^\d+$/.test(ref) || cp.length + ref.length !== 17 || cp.length < 6 || cp.length > 12) {
      return fail(`${uri}: company prefix and extension/serial reference must be 17 digits together (prefix 6 to 12)`);
    }
    const sscc = withCheckDigit(ref[0]! + cp + ref.slice(1));
    return validated(uri, "container", null, sscc, [{ ai: "00", value: sscc }]);
  }
  if (form === "class" && scheme === "lgtin") {
    if (parts.length !== 3) return fail(`${uri}: an LGTIN URN has three parts, CompanyPrefix.IndicatorItemReference.Lot`);
    const gtin = gtinOf(parts[0]!, parts[1]!);
    if (!gtin) return fail(`${uri}: company prefix and indicator/item reference must be 13 digits together (prefix 6 to 12)`);
    const lot = decodePart(parts[2]!);
    if (lot === null || lot === "") return fail(`${uri}: the lot is empty or badly percent-escaped`);
    return validated(uri, "lot", gtin, lot, [
      { ai: "01", value: gtin },
      { ai: "10", value: lot },
    ]);
  }
  if (form === "idpat" && scheme === "sgtin") {
    if (parts.length !== 3 || parts[2] !== "*")
      return fail(`${uri}: C-981 reads an SGTIN pattern only as a GTIN class, CompanyPrefix.IndicatorItemReference.*`);
    const gtin = gtinOf(parts[0]!, parts[1]!);
    if (!gtin) return fail(`${uri}: company prefix and indicator/item reference must be 13 digits together (prefix 6 to 12)`);
    return validated(uri, "class", gtin, `(01)${gtin}`, [{ ai: "01", value: gtin }]);
  }
  if (OTHER_EPC_SCHEMES.has(scheme)) return { ok: true, reading: { uri, level: "other", gtin: null, identifier: null, elements: [] } };
  return fail(`${uri}: unknown EPC scheme "${scheme}"`);
}

function parseDigitalLink(uri: string): EpcResult {
  // Partners' documents may still spell a GTIN-13 as /01/9520123456788; it names the same trade
  // item as its GTIN-14 with a leading zero, which is what the reading stores (ADR 012).
  const result = parseGs1DigitalLink(uri, { expandShortGtin: true });
  if (result.status !== "valid") {
    const message = result.status === "invalid" ? result.errors.map((e) => e.message).join("; ") : result.message;
    return fail(`${uri}: ${message}`);
  }
  const elements = result.reading.elements.map(({ ai, value }) => ({ ai, value }));
  const get = (ai: string) => elements.find((e) => e.ai === ai)?.value ?? null;
  const kind = result.reading.classification.kind;
  const gtin = get("01");
  if (kind === "container") return { ok: true, reading: { uri, level: "container", gtin: null, identifier: get("00"), elements } };
  if (gtin && kind === "instance" && get("21")) return { ok: true, reading: { uri, level: "serial", gtin, identifier: get("21"), elements } };
  if (gtin && kind === "class") {
    const lot = get("10");
    return { ok: true, reading: { uri, level: lot ? "lot" : "class", gtin, identifier: lot ?? `(01)${gtin}`, elements } };
  }
  return { ok: true, reading: { uri, level: "other", gtin: null, identifier: null, elements } };
}

/**
 * Recent readings: an import reads each identifier twice close together (the check, then the
 * mapping) and class identifiers recur. Bounded: cleared when full, so memory stays flat.
 */
const recent = new Map<string, EpcResult>();
const RECENT_LIMIT = 20_000;

/** Reads one EPC (epcList, parentID, childEPCs…) or EPC class (quantityList `epcClass`). */
export function parseEpc(uri: string): EpcResult {
  const hit = recent.get(uri);
  if (hit) return hit;
  const result = uri.startsWith("urn:epc:")
    ? parseUrn(uri)
    : /^https?:\/\//i.test(uri)
      ? parseDigitalLink(uri)
      : fail(`${uri}: neither an EPC URN nor a GS1 Digital Link URI`);
  if (recent.size >= RECENT_LIMIT) recent.clear();
  recent.set(uri, result);
  return result;
}
