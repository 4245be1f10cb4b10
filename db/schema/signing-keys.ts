import { jsonb, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const signingKeyState = pgEnum("signing_key_state", ["active", "retired"]);

/**
 * Public keys that sign rule sets, shared by every instance (the JWKS). Private keys never enter
 * the database: they live one file per kid in the key directory (ADR 007).
 */
export const signingKeys = pgTable("signing_keys", {
  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key. */
  kid: text().primaryKey(),
  publicJwk: jsonb().notNull(),
  state: signingKeyState().notNull(),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  retiredAt: timestamp({ withTimezone: true, precision: 3 }),
});
