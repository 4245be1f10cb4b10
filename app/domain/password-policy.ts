/**
 * The password policy (21 CFR 11.300(b); NIST SP 800-63B §5.1.1.2), pure: no I/O. The browser
 * and the server check the same rules through the zod schema in app/schemas/password.ts; only
 * the server adds the list of common passwords (49,233 entries: too big for the page) and the
 * reuse check (it needs the stored hashes). ADR 020.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;
/** Fewer different characters than this is a pattern, not a secret (`aaaaaaaaaaaa`, `abababababab`). */
export const MIN_DISTINCT_CHARACTERS = 5;
/** This many of one character in a row is refused (`xxxx`). */
export const MAX_REPEATED_RUN = 4;
/** This many consecutive code points up or down in a row is refused (`abcde`, `54321`). */
export const MAX_SEQUENCE_RUN = 5;

export interface PasswordContext {
  username: string;
  /** Whether a (lower-cased) password is on a list of common or breached passwords. */
  isCommon?: (lowerCased: string) => boolean;
}

function longestRun(chars: readonly number[], step: (a: number, b: number) => boolean): number {
  let longest = chars.length ? 1 : 0;
  let run = 1;
  for (let i = 1; i < chars.length; i++) {
    run = step(chars[i - 1]!, chars[i]!) ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** The ways a password breaks the policy, in words for the person choosing it; empty when it is fine. */
export function passwordProblems(password: string, context: PasswordContext): string[] {
  const problems: string[] = [];
  const chars = [...password.normalize("NFC")].map((c) => c.codePointAt(0)!);
  if (chars.length < MIN_PASSWORD_LENGTH) problems.push(`At least ${MIN_PASSWORD_LENGTH} characters`);
  if (chars.length > MAX_PASSWORD_LENGTH) problems.push(`At most ${MAX_PASSWORD_LENGTH} characters`);
  const lower = password.normalize("NFC").toLowerCase();
  const username = context.username.trim().toLowerCase();
  // The whole name, and each part of it of 4 characters or more (`ada.admin` → `admin`).
  const nameParts = username ? [username, ...username.split(/[._-]+/).filter((p) => p.length >= 4)] : [];
  if (nameParts.some((part) => lower.includes(part))) problems.push("The password must not contain the user name");
  if (chars.length > 0 && new Set(chars).size < MIN_DISTINCT_CHARACTERS) problems.push(`Use at least ${MIN_DISTINCT_CHARACTERS} different characters`);
  if (longestRun(chars, (a, b) => a === b) >= MAX_REPEATED_RUN) problems.push(`Do not repeat one character ${MAX_REPEATED_RUN} or more times in a row`);
  const up = longestRun(chars, (a, b) => b === a + 1);
  const down = longestRun(chars, (a, b) => b === a - 1);
  if (Math.max(up, down) >= MAX_SEQUENCE_RUN) problems.push("Do not use a run of sequential characters such as abcde or 12345");
  if (context.isCommon?.(lower)) problems.push("This password is on a list of common passwords: choose another");
  return problems;
}

/**
 * Whether a password must be changed before its owner signs anything: an administrator or the CLI
 * set it (`mustChange`), or it is older than `maxAgeDays` (0: passwords do not age).
 */
export function passwordChangeDue(state: { mustChange: boolean; changedAt: Date }, now: Date, maxAgeDays: number): "set_by_administrator" | "expired" | null {
  if (state.mustChange) return "set_by_administrator";
  if (maxAgeDays > 0 && now.getTime() - state.changedAt.getTime() >= maxAgeDays * 86_400_000) return "expired";
  return null;
}
