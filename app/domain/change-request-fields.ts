/**
 * How diff rows name the fields of a rule or material, in plain words: one map for the pages (the
 * change-request and release views) and for the services' messages (a blocking thread's anchor).
 */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  trackingMode: "tracking mode",
  containerTracking: "container tracking",
  identifierFormatCodes: "identifier formats",
  consumptionScan: "scan at consumption",
  riskClass: "risk class",
  regulatoryFlags: "regulatory flags",
  family: "family",
  gtin: "GTIN",
};

/** A field's label, or its own name when it has none. */
export const fieldLabel = (field: string): string => FIELD_LABELS[field] ?? field;
