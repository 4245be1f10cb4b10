import { integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { changeRequests } from "./change-requests";
import { users } from "./people";
import { ruleSetVersions } from "./rule-sets";
import { sites } from "./sites";

/**
 * The release manager's electronic signature (meaning "released") on a rule-set version: who,
 * printed name, when, and the SHA-256 of the exact canonical rule set released. Never changed.
 */
export const releaseSignatures = pgTable("release_signatures", {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  ruleSetVersionId: integer()
    .notNull()
    .unique()
    .references(() => ruleSetVersions.id),
  signerId: integer()
    .notNull()
    .references(() => users.id),
  printedName: text().notNull(),
  meaning: text().notNull(),
  signedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  digest: text().notNull(),
});

/** Where a change request is live: released site by site (a pilot site first). */
export const changeRequestSiteReleases = pgTable(
  "change_request_site_releases",
  {
    changeRequestId: integer()
      .notNull()
      .references(() => changeRequests.id),
    siteId: integer()
      .notNull()
      .references(() => sites.id),
    ruleSetVersionId: integer()
      .notNull()
      .references(() => ruleSetVersions.id),
    releasedAt: timestamp({ withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.changeRequestId, t.siteId] })],
);
