import { z } from "zod";
import { isCalendarDate } from "../domain/review-due";
import { signatureSchema } from "./change-request";
import { USERNAME_REQUIRED_MESSAGE } from "./signing";
import { commentSchema, reopenSchema, replySchema, resolveSchema } from "./change-request-comments";

/* A change request's page: its forms, told apart by `intent`. Each validates in the browser with
   its own schema; the action parses the union, so a form can only do what its intent names. */
const rowVersion = z.coerce.number().int().positive();
/** The review's due date (ADR 031): a calendar date; the service refuses one before today (UTC). */
export const reviewDueOnSchema = z
  .string({ error: "Give the review due date" })
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Give the date as YYYY-MM-DD")
  .refine(isCalendarDate, "Give a real calendar date");
export const submitSchema = z.object({ intent: z.literal("submit"), rowVersion, reviewDueOn: reviewDueOnSchema });
export const reviseSchema = z.object({ intent: z.literal("revise"), rowVersion });
export const rebaseSchema = z.object({ intent: z.literal("rebase"), rowVersion });
export const withdrawSchema = z.object({
  intent: z.literal("withdraw"),
  rowVersion,
  reason: z.string().trim().min(3, "Give a reason (at least 3 characters)").max(500, "At most 500 characters"),
});
export { commentSchema, reopenSchema, replySchema, resolveSchema } from "./change-request-comments";
export const analyseSchema = z.object({ intent: z.literal("analyse") });

/** The sign form's fields: the signature dialog's schema with the intent that routes it. */
export const signIntentSchema = signatureSchema.safeExtend({ intent: z.literal("sign") });

/**
 * In the browser only, when the dialog asks for it: the user name must be given (the service checks
 * it is theirs). A field of the object, not a refinement, so an empty form flags it together with
 * the password.
 */
export const signWithUsernameSchema = signIntentSchema.safeExtend({
  username: z.string({ error: USERNAME_REQUIRED_MESSAGE }).trim().toLowerCase().min(1, USERNAME_REQUIRED_MESSAGE).max(64),
});

export const changeRequestActionSchema = z.discriminatedUnion("intent", [
  submitSchema,
  reviseSchema,
  rebaseSchema,
  withdrawSchema,
  commentSchema,
  replySchema,
  resolveSchema,
  reopenSchema,
  analyseSchema,
  signIntentSchema,
]);
