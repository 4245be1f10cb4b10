import { z } from "zod";
import { reasonSchema } from "./users";

/*
 * The runtime clients page's two forms, told apart by `intent`, in the browser and in the action.
 * The create form mirrors createRuntimeClientSchema (app/services/runtime-clients.server.ts, with
 * the CLI's messages); the service parses again and has the last word.
 */
const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;
export const createIntentSchema = z.object({
  intent: z.literal("create"),
  name: z.string().trim().regex(CLIENT_NAME_PATTERN, "2–64 characters: letters, digits, dot, dash or underscore, starting with a letter or digit"),
  // One ticked checkbox arrives as a string, several as an array, none as nothing.
  sites: z.preprocess((v) => (v === undefined ? [] : [v].flat()), z.array(z.string().trim().toUpperCase().min(1)).min(1, "Choose at least one site")),
  reason: reasonSchema,
});
export const revokeIntentSchema = z.object({
  intent: z.literal("revoke"),
  name: z.string().trim().regex(CLIENT_NAME_PATTERN, "Not a runtime client name"),
  reason: reasonSchema,
});
export const clientActionSchema = z.discriminatedUnion("intent", [createIntentSchema, revokeIntentSchema]);
