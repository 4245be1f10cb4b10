import { z } from "zod";
import { MAX_PASSWORD_LENGTH, passwordProblems } from "../domain/password-policy";

/**
 * A new password for `username`, checked by the policy's rules alike in the browser and on the
 * server (the server also asks the common-password list and the user's history, ADR 020).
 */
export function newPasswordSchema(username: string) {
  return z
    .string()
    .max(MAX_PASSWORD_LENGTH, `At most ${MAX_PASSWORD_LENGTH} characters`)
    .superRefine((password, ctx) => {
      for (const message of passwordProblems(password, { username })) ctx.addIssue({ code: "custom", message });
    });
}

/** The change-password form (portal): the current password, the new one twice. */
export function changePasswordSchema(username: string) {
  return z
    .object({
      currentPassword: z.string().min(1, "Enter your current password").max(MAX_PASSWORD_LENGTH, `At most ${MAX_PASSWORD_LENGTH} characters`),
      newPassword: newPasswordSchema(username),
      confirmPassword: z.string().max(MAX_PASSWORD_LENGTH, `At most ${MAX_PASSWORD_LENGTH} characters`),
      redirectTo: z.string().max(2000).optional(),
    })
    .superRefine((v, ctx) => {
      if (v.newPassword !== v.confirmPassword) ctx.addIssue({ code: "custom", path: ["confirmPassword"], message: "The two new passwords differ" });
      if (v.currentPassword && v.newPassword === v.currentPassword)
        ctx.addIssue({ code: "custom", path: ["newPassword"], message: "Choose a password other than the current one" });
    });
}
export type ChangePasswordForm = z.infer<ReturnType<typeof changePasswordSchema>>;
