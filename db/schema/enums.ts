import { EDGE_KINDS, ITEM_KINDS, ITEM_STATUSES } from "../../app/domain/genealogy-graph/graph";
import { pgEnum } from "drizzle-orm/pg-core";
import { EXTERNAL_SYSTEMS } from "../../app/domain/external-snapshot";
import { RISK_CLASSES } from "../../app/domain/material";
import { ROLES } from "../../app/domain/roles";
import { CONSUMPTION_SCANS, IDENTIFIES, TRACKING_MODES } from "../../app/domain/tracking-rule";

// The values come from the domain (one definition; the domain and the browser never import db/schema).

/** How a material is identified at a site. `none` = untracked (backflushed by quantity). */
export const trackingMode = pgEnum("tracking_mode", TRACKING_MODES);

/**
 * What an operator must scan when the material is consumed:
 * `none` (backflush), `verify` (scan to confirm the material, e.g. its GTIN),
 * `identify` (scan the instance: the serial, lot or container identifier).
 */
export const consumptionScan = pgEnum("consumption_scan", CONSUMPTION_SCANS);

export const riskClass = pgEnum("risk_class", RISK_CLASSES);

/** What a trace item is: one unit (serial), a quantity of one batch (lot), or a logistic unit (container, SSCC). */
export const traceItemKind = pgEnum("trace_item_kind", ITEM_KINDS);

export const traceItemStatus = pgEnum("trace_item_status", ITEM_STATUSES);

export const genealogyKind = pgEnum("genealogy_kind", EDGE_KINDS);

/** Where a record came from: the demo/seed loader, an import file (digest + event id), or the runtime API. */
export const provenanceKind = pgEnum("provenance_kind", ["seed", "import", "api"]);

export const workOrderStatus = pgEnum("work_order_status", ["open", "closed"]);

export const identifies = pgEnum("identifies", IDENTIFIES);

export const externalSystem = pgEnum("external_system", EXTERNAL_SYSTEMS);

export const role = pgEnum("role", ROLES);
