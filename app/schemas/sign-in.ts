import { z } from "zod";

/** The sign-in form, parsed alike in the browser and on the server. */
export const signInSchema = z.object({
  username: z.string().trim().toLowerCase().min(1, "Enter your user name").max(64, "At most 64 characters"),
  password: z.string().min(1, "Enter your password").max(256, "At most 256 characters"),
  redirectTo: z.string().max(2000).optional(),
});
export type SignInForm = z.infer<typeof signInSchema>;

/**
 * Only a path of this origin: after removing control characters and whitespace (which browsers
 * drop from URLs: `/\t/evil.example` is followed as `//evil.example`), it must start with exactly
 * one `/` followed by neither `/` nor `\\`, and still do so once percent-decoded (`/%2F…`, `/%5C…`).
 * Anything else — schemes, protocol-relative and backslash forms — gives the fallback.
 */
export function safeRedirect(to: string | null | undefined, fallback = "/"): string {
  if (!to || to.length > 2000) return fallback;
  const cleaned = to.replace(/[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/g, "");
  if (!isSameOriginPath(cleaned)) return fallback;
  let decoded = cleaned;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return fallback;
    }
    if (next === decoded) break;
    decoded = next.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
    if (!isSameOriginPath(decoded)) return fallback;
  }
  // What a browser would resolve it to must be this origin, and the path is sent as cleaned.
  const base = "http://c981.invalid";
  try {
    if (new URL(cleaned, base).origin !== base) return fallback;
    // A Location header holds only ASCII: anything else is percent-encoded (a lone surrogate,
    // which cannot be, gives the fallback).
    return cleaned.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  } catch {
    return fallback;
  }
}

function isSameOriginPath(path: string): boolean {
  return path.startsWith("/") && path[1] !== "/" && path[1] !== "\\";
}
