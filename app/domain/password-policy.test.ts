import { describe, expect, it } from "vitest";
import { passwordChangeDue, passwordProblems } from "./password-policy";

const ctx = { username: "jane.doe" };

describe("the password policy", () => {
  it("refuses aaaaaaaaaaaa (it was once accepted) for its repetition", () => {
    const problems = passwordProblems("aaaaaaaaaaaa", ctx);
    expect(problems).toContain("Use at least 5 different characters");
    expect(problems).toContain("Do not repeat one character 4 or more times in a row");
  });

  it("refuses fewer than 12 characters, counted as characters, not bytes", () => {
    expect(passwordProblems("Tr0ub4dor&3", ctx)).toEqual(["At least 12 characters"]);
    expect(passwordProblems("ÄÖÜäöüßéèêëç", ctx)).toEqual([]);
  });

  it("refuses the user name or a part of it, in any case", () => {
    expect(passwordProblems("my-JANE.DOE-pass", ctx)).toContain("The password must not contain the user name");
    expect(passwordProblems("ada-river-stone", { username: "ada.admin" })).toEqual([]); // parts under 4 characters are too common to refuse
    expect(passwordProblems("river-admin-stone", { username: "ada.admin" })).toContain("The password must not contain the user name");
  });

  it("refuses short patterns repeated and sequential runs", () => {
    expect(passwordProblems("abababababab", ctx)).toContain("Use at least 5 different characters");
    expect(passwordProblems("river-12345-stone", ctx)).toContain("Do not use a run of sequential characters such as abcde or 12345");
    expect(passwordProblems("river-zyxwv-stone", ctx)).toContain("Do not use a run of sequential characters such as abcde or 12345");
    expect(passwordProblems("river-1234-stone", ctx)).toEqual([]);
  });

  it("asks the list it is given about common passwords, lower-cased", () => {
    const list = new Set(["1qaz2wsx3edc"]);
    expect(passwordProblems("1QAZ2WSX3EDC", { ...ctx, isCommon: (p) => list.has(p) })).toEqual([
      "This password is on a list of common passwords: choose another",
    ]);
  });

  it("accepts the documented demo password and a passphrase", () => {
    expect(passwordProblems("c981-demo-2026", { username: "ada.admin" })).toEqual([]);
    expect(passwordProblems("correct horse battery staple", ctx)).toEqual([]);
  });
});

describe("when a password change is due", () => {
  const now = new Date("2026-12-07T00:00:00Z");
  it("is due when an administrator set the password, whatever its age", () => {
    expect(passwordChangeDue({ mustChange: true, changedAt: now }, now, 0)).toBe("set_by_administrator");
  });
  it("is due once the password is max-age days old, never when max age is 0", () => {
    const old = new Date("2026-09-08T00:00:00Z"); // 90 days before
    expect(passwordChangeDue({ mustChange: false, changedAt: old }, now, 90)).toBe("expired");
    expect(passwordChangeDue({ mustChange: false, changedAt: old }, now, 91)).toBeNull();
    expect(passwordChangeDue({ mustChange: false, changedAt: old }, now, 0)).toBeNull();
  });
});
