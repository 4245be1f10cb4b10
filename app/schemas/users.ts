import { z } from "zod";
import { withFormFields } from "../utils/form-data";
import { ROLES } from "../domain/roles";
import { emailAddressSchema } from "./notifications";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, passwordProblems } from "../domain/password-policy";

export { MIN_PASSWORD_LENGTH };

export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{2,31}$/;

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(USERNAME_PATTERN, "3–32 characters: lower-case letters, digits, dot, dash or underscore, starting with a letter");

export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `At least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `At most ${MAX_PASSWORD_LENGTH} characters`);

/** A role at all sites (`site` empty) or at one site (its code). */
export const grantSchema = z.object({
  role: z.enum(ROLES, { error: "Choose a role" }),
  site: z
    .string()
    .trim()
    .toUpperCase()
    .max(16)
    .transform((v) => (v === "" ? null : v))
    .nullable(),
});
export type GrantInput = z.infer<typeof grantSchema>;

export const reasonSchema = z.string().trim().min(3, "Give a reason (at least 3 characters)").max(500, "At most 500 characters");

export const createUserSchema = z
  .object({
    username: usernameSchema,
    displayName: z.string().trim().min(2, "At least 2 characters").max(100, "At most 100 characters"),
    password: passwordSchema,
    grants: z.array(grantSchema).min(1, "Give the user at least one role").max(30),
    reason: reasonSchema,
  })
  .superRefine((v, ctx) => {
    // The policy's rules (ADR 020) other than length, which passwordSchema says already.
    for (const message of passwordProblems(v.password, { username: v.username })) {
      if (!message.startsWith("At ")) ctx.addIssue({ code: "custom", path: ["password"], message });
    }
  });
export type CreateUserInput = z.input<typeof createUserSchema>;

export const deactivateUserSchema = z.object({ username: usernameSchema, reason: reasonSchema });
export const grantRoleSchema = z.object({ username: usernameSchema, grant: grantSchema, reason: reasonSchema });
export const revokeRoleSchema = grantRoleSchema;

/** An administrator's (or the CLI's) reset of someone's password: the owner must change it. */
export const resetPasswordSchema = z.object({ username: usernameSchema, password: passwordSchema, reason: reasonSchema });

function isEmptyGrantRow(row: unknown): boolean {
  if (typeof row !== "object" || row === null) return true;
  const { role, site } = row as { role?: unknown; site?: unknown };
  return (role === undefined || role === "") && (site === undefined || site === "");
}

/**
 * createUserSchema for a form with a fixed number of role rows: the rows left empty are dropped
 * before parsing, and a problem in a row is reported at the row's own index (not its index among
 * the filled rows), so it shows next to the right select. Used in the browser and the action.
 */
export const createUserFormSchema = withFormFields(
  z.unknown().transform((input, ctx) => {
    const raw = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
    const rows = Array.isArray(raw.grants) ? (raw.grants as unknown[]) : [];
    const kept = rows.flatMap((row, index) => (isEmptyGrantRow(row) ? [] : [index]));
    const parsed = createUserSchema.safeParse({ ...raw, grants: kept.map((index) => rows[index]) });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const path = [...issue.path] as (string | number)[];
      if (path[0] === "grants" && typeof path[1] === "number") path[1] = kept[path[1]] ?? path[1];
      ctx.addIssue({ code: "custom", message: issue.message, path });
    }
    return z.NEVER;
  }),
  createUserSchema,
);

/* A user's page: its forms, told apart by `intent`. Each validates in the browser with its own
   schema; the action parses the union, so a form can only do what its intent names. */
export const grantIntentSchema = z.object({ intent: z.literal("grant"), grant: grantSchema, reason: reasonSchema });
export const revokeIntentSchema = z.object({ intent: z.literal("revoke"), grant: grantSchema, reason: reasonSchema });
export const deactivateIntentSchema = z.object({
  intent: z.literal("deactivate"),
  reason: reasonSchema,
  confirm: z.literal("yes", { error: "Tick the box to confirm" }),
});
/** A second administrator's decision on a grant another one asked for (ADR 020). */
export const decideIntentSchema = z.object({
  intent: z.enum(["confirm", "decline"]),
  grantRequest: z.coerce.number().int().positive(),
  reason: reasonSchema,
});
/** An administrator sets the address notifications are e-mailed to (ADR 032); empty removes it. */
export const emailIntentSchema = z.object({ intent: z.literal("email"), email: emailAddressSchema, reason: reasonSchema });
export const userActionSchema = z.union([
  z.discriminatedUnion("intent", [grantIntentSchema, revokeIntentSchema, deactivateIntentSchema, emailIntentSchema]),
  decideIntentSchema,
]);
