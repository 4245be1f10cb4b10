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

/**
 * Turns ajv's errors into located issues. Combinator errors (`must match "then" schema`, `must
 * match a schema in anyOf`) only repeat their leaves and are kept only where no leaf explains them.
 */
function toIssues(errors: readonly ErrorObject[], eventIndex: number | null, prefix: string, value: unknown) {
  const leaves = errors.filter((e) => !COMBINATORS.has(e.keyword));
  const tolerated = leaves.filter(
    // The sensor report `type` is always a measurement type (schema `#/definitions/measurementType`:
    // a GS1 list name or a non-GS1 URI); ajv's schemaPath does not keep the definition's name.
    (e) => MEASUREMENT_TYPE.test(e.instancePath) && (e.keyword === "enum" || e.keyword === "format" || e.keyword === "pattern"),
  );
  const toleratedPaths = new Set(tolerated.map((e) => e.instancePath));
  // GS1's schema often states a code list twice (an enum, and the same values as patterns under
  // anyOf): where an enum error is reported for a place, its pattern twins add nothing.
  const enumPaths = new Set(leaves.filter((e) => e.keyword === "enum").map((e) => e.instancePath));
  const real = leaves.filter((e) => !toleratedPaths.has(e.instancePath) && !(e.keyword === "pattern" && enumPaths.has(e.instancePath)));
  const unexplained = errors.filter(
    (e) =>
      COMBINATORS.has(e.keyword) && e.keyword !== "if" && !toleratedPaths.has(e.instancePath) && !leaves.some((l) => l.instancePath.startsWith(e.instancePath)),
  );
  const errorsOut: EpcisIssue[] = [];
  const seen = new Set<string>();
  for (const e of [...real, ...unexplained]) {
    const issue = { eventIndex, path: prefix + e.instancePath, message: describe(e) };
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
  const { event: validate } = validators();
  if (validate(event)) return { errors: [], warnings: [] };
  return toIssues(validate.errors ?? [], index, `/epcisBody/eventList/${index}`, event);
}
