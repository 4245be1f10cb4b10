import { z } from "zod";
import { USERNAME_REQUIRED_MESSAGE } from "./signing";

/*
 * The release form's one schema: the browser checks it before the password travels, the route
 * parses the post with it and the release service parses its input with it again.
 */

export const releaseSchema = z.object({
  site: z.string().trim().toUpperCase().min(1, "Choose the site"),
  changeRequests: z.preprocess(
    (v) => (Array.isArray(v) ? v : v === undefined || v === "" ? [] : [v]),
    z
      .array(
        z
          .string()
          .trim()
          .toUpperCase()
          .regex(/^CR-\d{4,}$/, "A change-request number like CR-0001"),
      )
      .min(1, "Pick at least one approved change request"),
  ),
  /** UTC; empty = now. A future time schedules the version. */
  effectiveFrom: z
    .string()
    .trim()
    .nullish()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const d = new Date(/Z|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: "custom", message: "A date and time (UTC)" });
        return z.NEVER;
      }
      return d;
    }),
  username: z.string().trim().toLowerCase().max(64).optional(),
  password: z.string().min(1, "Enter your password").max(256),
  /**
   * Why this release may leave known ERP/PLM/C-981 disagreements at the site unresolved (ADR 015):
   * recorded with the release signature and in the audit. Empty: none may remain.
   */
  waiver: z
    .string()
    .trim()
    .max(2000, "At most 2000 characters")
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || v.length >= 10, "Say why the disagreements may remain (at least 10 characters)"),
});
export type ReleaseInput = z.input<typeof releaseSchema>;

/**
 * At the first signature of a continuous series the user name is asked too (21 CFR 11.200): a field
 * of the object, not a refinement, so an empty form flags it together with the password.
 */
export const releaseWithUsernameSchema = releaseSchema.safeExtend({
  username: z.string({ error: USERNAME_REQUIRED_MESSAGE }).trim().toLowerCase().min(1, USERNAME_REQUIRED_MESSAGE).max(64),
});

/**
 * The preview intent: what the ticked change requests would change, and which others they would
 * make stale, for browsers without JavaScript (with it, the form previews as the ticks change and
 * sends nothing).
 */
export const releasePreviewSchema = z.object({
  intent: z.literal("preview"),
  site: z.string().trim().toUpperCase().min(1, "Choose the site"),
  changeRequests: z.preprocess(
    (v) => (Array.isArray(v) ? v : v === undefined || v === "" ? [] : [v]),
    z.array(z.string().trim().toUpperCase().max(32)).max(500),
  ),
});

/** The releases page's intents; the intent rides on the button pressed. */
export const releaseActionSchema = z.discriminatedUnion("intent", [releaseSchema.safeExtend({ intent: z.literal("release") }), releasePreviewSchema]);
