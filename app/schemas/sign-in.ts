import { z } from "zod";

/** The sign-in form, parsed alike in the browser and on the server. */
export const signInSchema = z.object({
  username: z.string().trim().toLowerCase().min(1, "Enter your user name").max(64, "At most 64 characters"),
  password: z.string().min(1, "Enter your password").max(256, "At most 256 characters"),
  redirectTo: z.string().max(2000).optional(),
});
export type SignInForm = z.infer<typeof signInSchema>;

/** Only same-site paths: never redirect a signed-in user to another origin. */
export function safeRedirect(to: string | null | undefined, fallback = "/"): string {
  if (!to || !to.startsWith("/") || to.startsWith("//") || to.startsWith("/\\")) return fallback;
  return to;
}
