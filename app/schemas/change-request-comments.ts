import { z } from "zod";
import { FINDING_CODES, type FindingCode } from "../domain/impact-analysis/report";

/* The discussion's forms on a change request's page (ADR 030), told apart by `intent`. The anchor
   is a discriminated union on `anchor.kind`; the service then checks that the diff row or finding
   it names exists (a row of this revision's diff, a finding of the latest analysis). */

const FINDING_CODE_LIST = Object.keys(FINDING_CODES) as [FindingCode, ...FindingCode[]];
/** An empty field (a row at every site, a finding across the request) is null. */
const optionalName = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .optional()
    .transform((v) => (v ? v : null));
const body = z.string().trim().min(1, "Write a comment").max(5000, "At most 5000 characters");
const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean());
const threadId = z.coerce.number({ error: "Name the thread" }).int("Name the thread").positive("Name the thread");

export const commentAnchorSchema = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("request") }),
    z.object({
      kind: z.literal("diff_row"),
      site: optionalName(40),
      material: z.string({ error: "Name the material of the diff row" }).trim().min(1, "Name the material of the diff row").max(100, "At most 100 characters"),
      field: z.string({ error: "Name the field of the diff row" }).trim().min(1, "Name the field of the diff row").max(200, "At most 200 characters"),
    }),
    z.object({
      kind: z.literal("finding"),
      code: z.enum(FINDING_CODE_LIST, { error: "Name a finding code of the impact analysis" }),
      material: optionalName(100),
      site: optionalName(40),
    }),
  ],
  { error: "Say what the comment is about: the request, a diff row or a finding" },
);
export type CommentAnchorInput = z.infer<typeof commentAnchorSchema>;

/** Opens a thread: on the request when no anchor is sent; `blocking` only a reviewer may set. */
export const commentSchema = z.object({
  intent: z.literal("comment"),
  body,
  anchor: commentAnchorSchema.optional(),
  blocking: checkbox.optional(),
});
export const replySchema = z.object({ intent: z.literal("reply"), threadId, body });
export const resolveSchema = z.object({ intent: z.literal("resolve"), threadId });
export const reopenSchema = z.object({ intent: z.literal("reopen"), threadId });

export type CommentInput = Omit<z.input<typeof commentSchema>, "intent">;
