import { z } from "zod";
import { ROLES } from "../../policies/ability";

export const USERNAME_PATTERN = /^[a-z][a-z0-9._-]{2,31}$/;
export const MIN_PASSWORD_LENGTH = 12;

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(USERNAME_PATTERN, "3–32 characters: lower-case letters, digits, dot, dash or underscore, starting with a letter");

export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `At least ${MIN_PASSWORD_LENGTH} characters`)
  .max(256, "At most 256 characters");

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
  .refine((v) => !v.password.toLowerCase().includes(v.username), {
    path: ["password"],
    message: "The password must not contain the user name",
  });
export type CreateUserInput = z.input<typeof createUserSchema>;

export const deactivateUserSchema = z.object({ username: usernameSchema, reason: reasonSchema });
export const grantRoleSchema = z.object({ username: usernameSchema, grant: grantSchema, reason: reasonSchema });
export const revokeRoleSchema = grantRoleSchema;
