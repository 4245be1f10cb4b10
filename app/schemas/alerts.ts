import { z } from "zod";

/** An administrator's acknowledgement of an alert on the dashboard, with what was found or done. */
export const acknowledgeSchema = z.object({
  intent: z.literal("acknowledge"),
  alert: z.coerce.number().int().positive(),
  note: z.string().trim().min(3, "Say what was found or done (at least 3 characters)").max(500, "At most 500 characters"),
});
