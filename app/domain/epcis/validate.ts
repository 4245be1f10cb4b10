/**
 * EPCIS 2.0 documents checked against GS1's official JSON Schema (vendored in `schema/`, see
 * SOURCE.md) with ajv + ajv-formats. A document is streamed (app/services/epcis-import.server.ts),
 * so the header and each event are checked on their own against the schema's parts: the header is
 * the document with an empty `eventList`, an event is `#/definitions/EPCIS-Document-Event`. Every
 * error is located by its JSON pointer in the whole document (`/epcisBody/eventList/0/action`).
 *
 * One kind of schema error is tolerated (ADR 014): a sensor report's measurement `type` that is not
 * in the standard's list. Genealogy does not read sensor data, the event is stored as received,
 * and the import reports a warning located like an error. Everything else the schema refuses is an
 * error and refuses the whole document.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import epcisSchema from "./schema/EPCIS-JSON-Schema.json";

export interface EpcisIssue {
  /** Index of the event in `eventList`; null for the document header. */
  eventIndex: number | null;
  /** JSON pointer into the whole document. */
  path: string;
  message: string;
  /** Where in the file, for a problem found in its bytes (ADR 016): 0-based byte, 1-based line and column. */
  location?: { byte: number; line: number; column: number };
}

const SCHEMA_ID = "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json";

let compiled: { document: ValidateFunction; event: ValidateFunction } | null = null;

function validators() {
  if (compiled) return compiled;
  // strict: false — the GS1 schema uses keywords ajv's strict mode warns about (e.g. `if` without
  // `type` siblings); the schema is GS1's, not ours to edit.
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: false });
  addFormats(ajv);
  ajv.addSchema(epcisSchema as object, SCHEMA_ID);
  compiled = {
    document: ajv.getSchema(SCHEMA_ID)!,
    event: ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/EPCIS-Document-Event` }),
  };
  return compiled;
}

/**
 * The EPCIS 2.0 event types, as GS1's schema lists them (an event of another type is an extension
 * event, which the schema checks as such).
 */
const STANDARD_EVENT_TYPES: readonly unknown[] = (
  epcisSchema as unknown as { definitions: Record<string, { allOf: { if?: { not?: { properties?: { type?: { enum?: string[] } } } } }[] }> }
).definitions["EPCIS-Document-Event"]!.allOf.find((part) => part.if?.not?.properties?.type?.enum)!.if!.not!.properties!.type!.enum!;

const COMBINATORS = new Set(["if", "anyOf", "oneOf", "allOf", "not"]);
/** A sensor report's measurement type: `/sensorElementList/0/sensorReport/1/type`. */
const MEASUREMENT_TYPE = /\/sensorElementList\/\d+\/sensorReport\/\d+\/type$/;

function describe(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `required property "${String(p.missingProperty)}" is missing`;
    case "additionalProperties":
      return `property "${String(p.additionalProperty)}" is not allowed here`;
    case "enum":
      return `must be one of ${(p.allowedValues as unknown[])
        .slice(0, 12)
        .map((v) => JSON.stringify(v))
        .join(", ")}${(p.allowedValues as unknown[]).length > 12 ? ", …" : ""}`;
    case "propertyNames":
      return `property name "${String(p.propertyName)}" is not allowed (neither a standard field nor a namespaced extension)`;
    default:
      return error.message ?? error.keyword;
  }
}

/** The value errors one place can get, most telling first: one message per place (the first of these). */
const VALUE_KEYWORDS = ["enum", "const", "type", "format", "pattern", "minimum", "exclusiveMinimum", "maximum", "minLength", "maxLength", "minItems"];

const depthOf = (pointer: string) => (pointer ? pointer.split("/").length - 1 : 0);

/**
 * Keeps, of each failed `anyOf`/`oneOf`, only the alternative that came nearest: the one whose
 * errors reach deepest into the value (it got furthest), then the one with fewest errors. ajv reports
 * an alternative's errors just before the combinator's own error, under its schema path
 * (`…/anyOf/2/…`); errors inside a `$ref` restart their schema path and stay as they are.
 */
function nearestAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  const dropped = new Set<number>();
  const grouped = new Set<number>();
  errors.forEach((combinator, k) => {
    if (combinator.keyword !== "anyOf" && combinator.keyword !== "oneOf") return;
    const prefix = `${combinator.schemaPath}/`;
    const alternatives = new Map<string, number[]>();
    for (let j = 0; j < k; j++) {
      if (grouped.has(j) || !errors[j]!.schemaPath.startsWith(prefix)) continue;
      grouped.add(j);
      const branch = errors[j]!.schemaPath.slice(prefix.length).split("/")[0]!;
      alternatives.set(branch, [...(alternatives.get(branch) ?? []), j]);
    }
    if (alternatives.size < 2) return;
    const score = (members: number[]) => ({ depth: Math.max(...members.map((j) => depthOf(errors[j]!.instancePath))), count: members.length });
    let best: number[] | null = null;
    for (const members of alternatives.values()) {
      if (!best) best = members;
      else {
        const a = score(members);
        const b = score(best);
        if (a.depth > b.depth || (a.depth === b.depth && a.count < b.count)) best = members;
      }
    }
    for (const members of alternatives.values()) if (members !== best) for (const j of members) dropped.add(j);
  });
  return errors.filter((_, k) => !dropped.has(k));
}

/** The allowed value nearest to a mistyped one (at most two edits away, or a quarter of its length). */
function didYouMean(value: unknown, allowed: readonly unknown[]): string {
  if (typeof value !== "string" || value.length > 100) return "";
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    if (typeof candidate !== "string") continue;
    const d = editDistance(value.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance > 0 && bestDistance <= Math.max(2, Math.floor(best.length / 4)) ? ` (did you mean ${JSON.stringify(best)}?)` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Turns ajv's errors into located issues, one per problem (ADR 014, 016). Combinator errors
 * (`must match "then" schema`, `must match a schema in anyOf`) only repeat their leaves and are kept
 * only where no leaf explains them; of an `anyOf`/`oneOf`, only the nearest alternative's errors
 * are kept; a place with several value errors (`must be string` and `must be one of …`) gets the
 * most telling one; a member name refused by `propertyNames` is said once, not once per allowed list.
 */
function toIssues(all: readonly ErrorObject[], eventIndex: number | null, prefix: string, value: unknown) {
  const errors = nearestAlternatives(all);
  const namesRefused = new Set(errors.filter((e) => e.keyword === "propertyNames").map((e) => e.instancePath));
  const leaves = errors.filter(
    (e) => !COMBINATORS.has(e.keyword) && !(namesRefused.has(e.instancePath) && (e.keyword === "enum" || e.keyword === "format" || e.keyword === "pattern")),
  );
  const tolerated = leaves.filter(
    // The sensor report `type` is always a measurement type (schema `#/definitions/measurementType`:
    // a GS1 list name or a non-GS1 URI); ajv's schemaPath does not keep the definition's name.
    (e) => MEASUREMENT_TYPE.test(e.instancePath) && (e.keyword === "enum" || e.keyword === "format" || e.keyword === "pattern"),
  );
  const toleratedPaths = new Set(tolerated.map((e) => e.instancePath));
  // One value error per place: GS1's schema often states a code list twice (an enum, and the same
  // values as patterns under anyOf) and a type next to it.
  const bestValueError = new Map<string, ErrorObject>();
  for (const e of leaves) {
    const rank = VALUE_KEYWORDS.indexOf(e.keyword);
    if (rank < 0 || toleratedPaths.has(e.instancePath)) continue;
    const held = bestValueError.get(e.instancePath);
    if (!held || rank < VALUE_KEYWORDS.indexOf(held.keyword)) bestValueError.set(e.instancePath, e);
  }
  const real = leaves.filter((e) => !toleratedPaths.has(e.instancePath) && (!VALUE_KEYWORDS.includes(e.keyword) || bestValueError.get(e.instancePath) === e));
  const unexplained = errors.filter(
    (e) =>
      COMBINATORS.has(e.keyword) && e.keyword !== "if" && !toleratedPaths.has(e.instancePath) && !leaves.some((l) => l.instancePath.startsWith(e.instancePath)),
  );
  const errorsOut: EpcisIssue[] = [];
  const seen = new Set<string>();
  for (const e of [...real, ...unexplained]) {
    let message = describe(e);
    if (VALUE_KEYWORDS.includes(e.keyword)) {
      const found = pointerGet(value, e.instancePath);
      message += `; it is ${shortJson(found)}`;
      if (e.keyword === "enum") message += didYouMean(found, (e.params as { allowedValues: unknown[] }).allowedValues);
    }
    // A refused member is located at the member itself (where a person looks, and where the
    // semantic check would name it too).
    const member =
      e.keyword === "propertyNames"
        ? (e.params as { propertyName: string }).propertyName
        : e.keyword === "additionalProperties"
          ? (e.params as { additionalProperty: string }).additionalProperty
          : null;
    const at = member === null ? e.instancePath : `${e.instancePath}/${member.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    const issue = { eventIndex, path: prefix + at, message };
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errorsOut.push(issue);
  }
  const warnings: EpcisIssue[] = [...toleratedPaths].map((path) => ({
    eventIndex,
    path: prefix + path,
    message: `sensor measurement type ${JSON.stringify(pointerGet(value, path))} is not in the EPCIS 2.0 list; kept as received, not used by genealogy (ADR 014)`,
  }));
  return { errors: errorsOut, warnings };
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/**
 * An event's schema errors and the semantic check's (checkEventSemantics), without the semantic
 * errors at a place the schema already refused: one message per problem (`eventTime: "yesterday"`
 * is not a date-time; that it has no time zone adds nothing).
 */
export function mergeEventIssues(schema: readonly EpcisIssue[], semantic: readonly EpcisIssue[]): EpcisIssue[] {
  const refused = new Set(schema.map((e) => e.path));
  return [...schema, ...semantic.filter((e) => !refused.has(e.path))];
}

function pointerGet(value: unknown, pointer: string): unknown {
  let node = value;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The document without its events, checked as a document with an empty `eventList`. */
export function validateHeader(header: Record<string, unknown>): { errors: EpcisIssue[]; warnings: EpcisIssue[] } {
  const body = header.epcisBody;
  const withEmptyList =
    body !== null && typeof body === "object" && !Array.isArray(body) && "eventList" in body
      ? { ...header, epcisBody: { ...(body as object), eventList: [] } }
      : header;
  const { document } = validators();
  if (document(withEmptyList)) return { errors: [], warnings: [] };
  const result = toIssues(document.errors ?? [], null, "", withEmptyList);
  if (header.type === "EPCISQueryDocument") {
    result.errors.push({ eventIndex: null, path: "/type", message: "an EPCISQueryDocument is a query result; C-981 imports EPCISDocument captures" });
  }
  return result;
}

export function validateEventSchema(event: unknown, index: number): { errors: EpcisIssue[]; warnings: EpcisIssue[] } {
  // An event whose type is missing or not an EPCIS 2.0 event type: the schema would try every event
  // type's rules and list them all; the semantic check names the type, once (checkEventSemantics).
  if (event !== null && typeof event === "object" && !Array.isArray(event) && !STANDARD_EVENT_TYPES.includes((event as { type?: unknown }).type))
    return { errors: [], warnings: [] };
  const { event: validate } = validators();
  if (validate(event)) return { errors: [], warnings: [] };
  return toIssues(validate.errors ?? [], index, `/epcisBody/eventList/${index}`, event);
}
