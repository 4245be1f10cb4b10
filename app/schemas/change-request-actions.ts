import { z } from "zod";
import { signatureSchema } from "./change-request";

/* A change request's page: its forms, told apart by `intent`. Each validates in the browser with
   its own schema; the action parses the union, so a form can only do what its intent names. */
const rowVersion = z.coerce.number().int().positive();
export const submitSchema = z.object({ intent: z.literal("submit"), rowVersion });
export const reviseSchema = z.object({ intent: z.literal("revise"), rowVersion });
export const rebaseSchema = z.object({ intent: z.literal("rebase"), rowVersion });
export const withdrawSchema = z.object({
  intent: z.literal("withdraw"),
  rowVersion,
  reason: z.string().trim().min(3, "Give a reason (at least 3 characters)").max(500, "At most 500 characters"),
});
export const commentSchema = z.object({
  intent: z.literal("comment"),
  body: z.string().trim().min(1, "Write a comment").max(5000, "At most 5000 characters"),
});
export const analyseSchema = z.object({ intent: z.literal("analyse") });

/** The sign form's fields: the signature dialog's schema with the intent that routes it. */
export const signIntentSchema = signatureSchema.safeExtend({ intent: z.literal("sign") });

/** In the browser only, when the dialog asks for it: the user name must be given (the service checks it is theirs). */
export const signWithUsernameSchema = signIntentSchema.refine((s) => Boolean(s.username), {
  path: ["username"],
  message: "Enter your user name: this is the first signature of a continuous series",
});

export const changeRequestActionSchema = z.discriminatedUnion("intent", [
  submitSchema,
  reviseSchema,
  rebaseSchema,
  withdrawSchema,
  commentSchema,
  analyseSchema,
  signIntentSchema,
]);
