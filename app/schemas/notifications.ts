import { z } from "zod";
import { NOTIFICATION_KINDS, type NotificationKind } from "../domain/notifications";

const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean());

/** An e-mail address, or none (empty: notifications stay in the inbox). */
export const emailAddressSchema = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? null : typeof v === "string" ? v.trim() : v),
  z.email("Enter an e-mail address such as name@plant.example, or leave it empty").max(254, "At most 254 characters").nullable(),
);

const kindShape = z.object({ inbox: checkbox.optional(), email: checkbox.optional() });
const kindsShape = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, kindShape.optional()])) as Record<NotificationKind, z.ZodOptional<typeof kindShape>>;

/** The preferences form: the address and, per kind, two checkboxes (unticked ones are not sent). */
export const notificationPreferencesSchema = z.object({
  email: emailAddressSchema,
  kinds: z.object(kindsShape).default({} as Record<NotificationKind, undefined>),
});
export type NotificationPreferencesInput = z.input<typeof notificationPreferencesSchema>;

/** The inbox's actions. */
export const inboxActionSchema = z.discriminatedUnion("intent", [
  // The id column is a PostgreSQL integer: a larger number is refused here, not by the database (a 500).
  z.object({ intent: z.literal("read"), id: z.coerce.number().int().positive().max(2_147_483_647, "No such notification") }),
  z.object({ intent: z.literal("read_all") }),
]);
