import { z } from "zod";
import {
  generalJwsSchema,
  jwksSchema,
  problemSchema,
  ruleSetDocumentSchema,
  ruleSetDocumentV2Schema,
  statusReportSchema,
  versionListSchema,
} from "../app/schemas/runtime-api";
import { SCAN_REPORT_MAX_BYTES, scanReportSchema } from "../app/schemas/scan-report";
import { SCAN_DECISIONS_MAX_BYTES, SCAN_DECISIONS_MAX_SCANS, scanDecisionsRequestSchema, scanDecisionsResponseSchema } from "../app/schemas/scan-decisions";

const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: "draft-2020-12", unrepresentable: "any" });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: ref("Problem") } } });
/** A 429 of a token bucket (ADR 042, Amendment 2): Retry-After says when the next request may go. */
const throttled = (description: string) => ({
  ...problem(description),
  headers: { "Retry-After": { description: "Seconds until the client's bucket holds a token again", schema: { type: "integer", minimum: 1 } } },
});
/** ADR 017: the database cannot be reached and the cache cannot answer (or is past the stale-if-error bound). */
const unavailable = {
  ...problem("The database cannot be reached just now; try again after Retry-After seconds"),
  headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer", minimum: 1 } } },
};
const site = { name: "site", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9-]{2,16}$" } };
/**
 * ADR 039: the schema version of the signed document. Absent or 1: schema version 1, byte for byte what
 * this API always served. 2: the version's schema-version-2 document (rule ids and routing) — for a
 * version made before schema version 2 existed, its schema-version-1 document (the payload's
 * `schemaVersion` says which). Each form has its own ETag.
 */
const schemaVersion = {
  name: "schemaVersion",
  in: "query",
  schema: { type: "integer", enum: [1, 2], default: 1 },
  description:
    "The rule-set document's schema version (ADR 039): 1 (default) or 2 (adds rule ids and routing). A version made before schema version 2 is served as 1 either way; the signed payload's `schemaVersion` says which.",
};
const jws = (description: string) => ({
  description,
  headers: { ETag: { schema: { type: "string" }, description: "strong, from the exact bytes served" } },
  content: { "application/jose+json": { schema: ref("GeneralJWS") } },
});

/** The OpenAPI 3.1 description of the runtime API, generated from the same zod schemas the code uses. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "C-981 runtime API",
      version: "1.0.0",
      description: "Signed rule sets for runtime MES systems. Verify the JWS with the JWKS at /.well-known/jwks.json.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A runtime client's token (npm run c981 -- clients:create)" } },
      schemas: {
        GeneralJWS: schema(generalJwsSchema),
        RuleSetDocument: schema(ruleSetDocumentSchema),
        RuleSetDocumentV2: schema(ruleSetDocumentV2Schema),
        VersionList: schema(versionListSchema),
        StatusReport: schema(statusReportSchema),
        ScanReport: schema(scanReportSchema),
        ScanReportStored: {
          type: "object",
          required: ["batchId", "result", "decisions"],
          properties: {
            batchId: { type: "string" },
            result: { type: "string", enum: ["stored", "duplicate"] },
            decisions: { type: "integer", description: "Decisions counted in the batch" },
          },
        },
        Problem: schema(problemSchema),
        JWKS: schema(jwksSchema),
        ScanDecisionsRequest: schema(scanDecisionsRequestSchema),
        ScanDecisions: schema(scanDecisionsResponseSchema),
      },
    },
    paths: {
      "/sites/{site}/ruleset": {
        get: {
          summary: "The rule set in force now",
          parameters: [
            site,
            {
              name: "waitSeconds",
              in: "query",
              schema: { type: "integer", minimum: 0, maximum: 60 },
              description: "Long-poll: wait until a newer version is in force",
            },
            schemaVersion,
            { name: "If-None-Match", in: "header", schema: { type: "string" } },
          ],
          responses: {
            "200": jws("The signed rule set in force"),
            "304": { description: "Not modified" },
            "400": problem("Bad input"),
            "401": problem("No or bad token"),
            "503": unavailable,
            "404": problem("Unknown site, or outside the client's sites"),
          },
        },
      },
      "/sites/{site}/ruleset/upcoming": {
        get: {
          summary: "The next scheduled version",
          parameters: [site, schemaVersion],
          responses: {
            "200": jws("The next scheduled rule set"),
            "400": problem("Bad schemaVersion"),
            "401": problem("No or bad token"),
            "503": unavailable,
            "404": problem("None scheduled"),
          },
        },
      },
      "/sites/{site}/ruleset/versions": {
        get: {
          summary: "All versions of the site",
          parameters: [site],
          responses: {
            "200": { description: "The versions", content: { "application/json": { schema: ref("VersionList") } } },
            "401": problem("No or bad token"),
            "503": unavailable,
            "404": problem("Unknown site"),
          },
        },
      },
      "/sites/{site}/ruleset/versions/{version}": {
        get: {
          summary: "One version (immutable)",
          parameters: [site, { name: "version", in: "path", required: true, schema: { type: "integer", minimum: 1 } }, schemaVersion],
          responses: {
            "200": jws("The signed rule set of that version"),
            "400": problem("Bad version"),
            "401": problem("No or bad token"),
            "503": unavailable,
            "404": problem("No such version"),
          },
        },
      },
      "/sites/{site}/ruleset/status": {
        post: {
          summary: "Report the version a runtime activated (and the keys it trusts), or an update it refused (`kind: refusal`)",
          parameters: [site],
          requestBody: { required: true, content: { "application/json": { schema: ref("StatusReport") } } },
          responses: {
            "204": { description: "Stored: answered once the report is committed (reports are written in batches; ADR 026)" },
            "400": problem("Invalid report (also: a version beyond 2^31−1, text with NUL characters or lone surrogates)"),
            "401": problem("No or bad token"),
            "404": problem("Unknown site"),
            "422": problem(
              "An activation of a version the site does not have, or with a digest that is neither of its forms' (schema version 1 or 2, ADR 039); `errors[].pointer` names the field",
            ),
            "429": {
              ...problem("More reports this minute than allowed per client"),
              headers: { "Retry-After": { description: "Seconds until the next minute", schema: { type: "integer", minimum: 1 } } },
            },
            "503": {
              ...unavailable,
              description:
                "The database cannot be reached, or the batch holding this report could not be written: it was not stored; try again after Retry-After seconds",
            },
          },
        },
      },
      "/sites/{site}/scan-reports": {
        post: {
          summary:
            "Report a batch of offline scan decisions (ADR 042): counts per hour, parent, step, expected material, outcome and reason; refusal samples with the scanned string as an HMAC-SHA256 under the client's salt (raw only when the client is so configured). Idempotent by `batchId`.",
          parameters: [site],
          requestBody: {
            required: true,
            description: `At most ${SCAN_REPORT_MAX_BYTES} bytes (refused before parsing)`,
            content: { "application/json": { schema: ref("ScanReport") } },
          },
          responses: {
            "201": { description: "Stored", content: { "application/json": { schema: ref("ScanReportStored") } } },
            "200": {
              description: "This batch id was stored before with the same content: nothing stored now",
              content: { "application/json": { schema: ref("ScanReportStored") } },
            },
            "400": problem("Invalid report (strict schema: unknown members refused; `errors[].pointer` names the field), or not JSON"),
            "401": problem("No or bad token"),
            "404": problem("Unknown site, or a site outside the token's scope"),
            "409": problem("This batch id was stored before with other content"),
            "413": problem(`The body exceeds ${SCAN_REPORT_MAX_BYTES} bytes`),
            "422": problem(
              "A count or refusal names a parent and step that no rule-set version of the site has; `errors[].pointer` names the row (`#/counts/3/step`); nothing stored",
            ),
            "429": throttled("More scan reports than this client may send (a token bucket per client and instance)"),
            "503": unavailable,
          },
        },
      },
      "/sites/{site}/scan-decisions": {
        post: {
          summary:
            "Decide a batch of scans against the schema-version-2 rule set in force (issue 26; ADR 040, 043): the same decisions the reference client makes offline",
          parameters: [site],
          requestBody: { required: true, content: { "application/json": { schema: ref("ScanDecisionsRequest") } } },
          responses: {
            "200": {
              description: "One decision per scan, in order, with the version and v2 digest that decided",
              content: { "application/json": { schema: ref("ScanDecisions") } },
            },
            "400": problem("Invalid scans: `errors[].pointer` names the row and field (`#/scans/17/scanned`)"),
            "401": problem("No or bad token"),
            "404": problem("Unknown site, outside the client's sites, or no rule set in force"),
            "409": problem("The version in force has no schema-version-2 form (it predates ADR 039): nothing to decide on"),
            "413": problem(`More than ${SCAN_DECISIONS_MAX_SCANS} scans, or a body over ${SCAN_DECISIONS_MAX_BYTES} bytes (judged before it is read)`),
            "429": throttled("More requests than this client may send (a token bucket per client and instance)"),
            "503": unavailable,
          },
        },
      },
    },
  };
}
