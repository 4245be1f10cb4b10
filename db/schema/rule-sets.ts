import { sql } from "drizzle-orm";
import { bigint, boolean, check, customType, index, integer, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { consumptionScan, trackingMode } from "./enums";
import { pgEnum } from "drizzle-orm/pg-core";

export const ruleSetKind = pgEnum("rule_set_kind", ["release", "renewal"]);
import { materials } from "./materials";
import { sites } from "./sites";

const bytea = customType<{ data: Uint8Array; driverData: Buffer }>({
  dataType: () => "bytea",
  toDriver: (v) => Buffer.from(v),
  fromDriver: (v) => new Uint8Array(v),
});

/**
 * A compiled, immutable rule set for one site. Created only by createRuleSetVersion
 * (app/services/rule-sets.server.ts); the database refuses gaps, updates and deletes.
 */
export const ruleSetVersions = pgTable(
  "rule_set_versions",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    version: integer().notNull(),
    effectiveFrom: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    /** Always the clock, even when effectiveFrom is back-dated by the audited seed mode. */
    issuedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    /** RFC 8785 canonical JSON of the compiled rule set: the bytes that are digested (and later signed). */
    canonical: bytea().notNull(),
    /** SHA-256 of `canonical`, lowercase hex. */
    digest: text().notNull(),
    previousDigest: text(),
    backdated: boolean().notNull().default(false),
    kind: ruleSetKind().notNull().default("release"),
    /** After this a runtime must not apply the rule set any more (it is renewed before). */
    expiresAt: timestamp({ withTimezone: true, precision: 3 }),
    /** The change requests whose release this version is. */
    changeRequestNumbers: text().array().notNull().default(sql`'{}'::text[]`),
    /** JWS JSON General Serialization (RFC 7515 §7.2.1) of `canonical`, as served to runtimes. */
    jws: text(),
    /**
     * Schema version 2 of the same version (ADR 039): its RFC 8785 canonical JSON, SHA-256 (hex) and
     * JWS. Null on versions made before migration 0037 (they are served as schema version 1 only).
     */
    canonicalV2: bytea("canonical_v2"),
    digestV2: text("digest_v2"),
    jwsV2: text("jws_v2"),
    createdBy: text().notNull(),
    reason: text().notNull(),
    /**
     * The transaction that inserted the version (txid_current(), set by a trigger whatever the
     * insert says; null on older rows). Only that transaction may close tracking rules at its
     * effectiveFrom (migration 0023, ADR 018).
     */
    txid: bigint({ mode: "number" }),
  },
  (t) => [
    unique("rule_set_versions_site_version").on(t.siteId, t.version),
    check("rule_set_versions_version_positive", sql`${t.version} >= 1`),
    check("rule_set_versions_digest_hex", sql`${t.digest} ~ '^[0-9a-f]{64}$'`),
    check("rule_set_versions_digest_v2_hex", sql`${t.digestV2} IS NULL OR ${t.digestV2} ~ '^[0-9a-f]{64}$'`),
    check("rule_set_versions_v2_whole", sql`(${t.canonicalV2} IS NULL) = (${t.digestV2} IS NULL) AND (${t.digestV2} IS NULL) = (${t.jwsV2} IS NULL)`),
  ],
);

/**
 * How a material is tracked at a site during [effectiveFrom, effectiveTo). Rows are written
 * by the rule-set version function only; a change closes the old interval and opens a new one.
 */
export const trackingRules = pgTable(
  "tracking_rules",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    materialId: integer()
      .notNull()
      .references(() => materials.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    trackingMode: trackingMode().notNull(),
    containerTracking: boolean().notNull(),
    /** Codes of identifier_formats printed on this material's labels. */
    identifierFormatCodes: text().array().notNull().default(sql`'{}'::text[]`),
    consumptionScan: consumptionScan().notNull(),
    effectiveFrom: timestamp({ withTimezone: true, precision: 3 }).notNull(),
    effectiveTo: timestamp({ withTimezone: true, precision: 3 }),
    /** The rule-set version that introduced this rule. */
    ruleSetVersionId: integer()
      .notNull()
      .references(() => ruleSetVersions.id),
  },
  (t) => [
    unique("tracking_rules_material_site_version").on(t.materialId, t.siteId, t.ruleSetVersionId),
    index("tracking_rules_site_material_from").on(t.siteId, t.materialId, t.effectiveFrom),
    check("tracking_rules_interval_ordered", sql`${t.effectiveTo} IS NULL OR ${t.effectiveTo} >= ${t.effectiveFrom}`),
  ],
);
