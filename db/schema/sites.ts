import { sql } from "drizzle-orm";
import { check, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const sites = pgTable(
  "sites",
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    /** Used in URLs and the runtime API, so it is short and URL-safe. */
    code: text().notNull().unique(),
    name: text().notNull(),
    /** IANA time zone of the plant; all stored times are UTC. */
    timeZone: text().notNull(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [check("sites_code_format", sql`${t.code} ~ '^[A-Z0-9][A-Z0-9-]{1,15}$'`)],
);
