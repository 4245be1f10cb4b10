import { dictionary } from "@zxcvbn-ts/language-common";

/**
 * The common-password list (NIST SP 800-63B §5.1.1.2: "passwords obtained from previous breach
 * corpuses", "dictionary words"): `passwords-common` of @zxcvbn-ts/language-common (MIT, 49,233
 * entries, maintained with zxcvbn-ts). Server-only: too big to send to the browser. ADR 020.
 */
let list: Set<string> | undefined;

export function isCommonPassword(lowerCased: string): boolean {
  list ??= new Set(dictionary["passwords-common"].map((p) => p.toLowerCase()));
  return list.has(lowerCased);
}
