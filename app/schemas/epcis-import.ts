import { z } from "zod";

/** The EPCIS import screen's two intents: import a file into a site, or release quarantined events of a GTIN. */
export const epcisImportIntentSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("import"), site: z.string().trim().min(1, "Choose a site"), fileName: z.string().min(1, "Choose an EPCIS JSON file") }),
  z.object({ intent: z.literal("release"), gtin: z.string().regex(/^\d{14}$/, "a GTIN-14") }),
]);
