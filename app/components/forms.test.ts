import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { changeRequestFormSchema } from "~/schemas/change-request-form";
import { formToObject, parseForm } from "./forms";

const form = (pairs: [string, string][]) => {
  const f = new FormData();
  for (const [k, v] of pairs) f.append(k, v);
  return f;
};

/** A valid change-request form with one revalidation task (its evidence link left to each test). */
const CHANGE_REQUEST_FORM: [string, string][] = [
  ["title", "Serialize it now"],
  ["justification", "Because the auditor asked"],
  ["riskAssessment", "Low risk, it is a test"],
  ["legacyDataPlan", "grandfather"],
  ["changes[0].kind", "tracking"],
  ["changes[0].material", "SUB-1005"],
  ["changes[0].sites", "EIN"],
  ["changes[0].trackingMode", "serial"],
  ["changes[0].consumptionScan", "identify"],
  ["revalidationTasks[0].description", "IQ/OQ"],
];

const POLLUTING_NAMES = [
  "__proto__.reason",
  "__proto__[reason]",
  "[__proto__][reason]",
  "constructor.prototype.reason",
  "constructor[prototype][reason]",
  "grants[0].__proto__.role",
  "grants.__proto__",
  "prototype",
  "a.constructor",
];

describe("forms", () => {
  afterEach(() => {
    // Nothing may ever land on Object.prototype, whatever a test sends.
    for (const key of ["reason", "role", "username", "waiver", "polluted"]) expect(Object.prototype).not.toHaveProperty(key);
  });

  it("builds nested objects and arrays from field names; repeated names become arrays", () => {
    const built = formToObject(
      form([
        ["title", "T"],
        ["changes[0].kind", "tracking"],
        ["changes[0].sites", "EIN"],
        ["changes[0].sites", "CLT"],
        ["changes[1].kind", "attributes"],
      ]),
    );
    expect(JSON.parse(JSON.stringify(built))).toEqual({ title: "T", changes: [{ kind: "tracking", sites: ["EIN", "CLT"] }, { kind: "attributes" }] });
    expect(Object.getPrototypeOf(built)).toBeNull();
    expect(Object.getPrototypeOf((built.changes as unknown[])[0])).toBeNull();
  });

  it("names each invalid field, and refuses NUL characters before they reach the database", () => {
    const schema = z.object({ name: z.string().min(3, "At least 3"), note: z.string() });
    expect(
      parseForm(
        schema,
        form([
          ["name", "ab"],
          ["note", "x"],
        ]),
      ),
    ).toEqual({ ok: false, fieldErrors: { name: ["At least 3"] } });
    expect(
      parseForm(
        schema,
        form([
          ["name", "abc"],
          ["note", "a\u0000b"],
        ]),
      ),
    ).toEqual({ ok: false, fieldErrors: { note: ["Contains a NUL character"] } });
  });

  it.each(POLLUTING_NAMES)("refuses the field name %s, and nothing is inherited or polluted", (name) => {
    const schema = z.object({ username: z.string(), password: z.string(), reason: z.string().optional() });
    const result = parseForm(
      schema,
      form([
        ["username", "x"],
        ["password", "y"],
        [name, "INJECTED"],
      ]),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.fieldErrors.form?.[0]).toMatch(/not allowed/);
    expect(({} as Record<string, unknown>).reason).toBeUndefined();
    // The same schema without the hostile field still parses, with no inherited reason.
    const clean = parseForm(
      schema,
      form([
        ["username", "x"],
        ["password", "y"],
      ]),
    );
    expect(clean).toEqual({ ok: true, data: { username: "x", password: "y" } });
  });

  it("refuses names the schema does not know, through unions, arrays and preprocessing", () => {
    const schema = z.discriminatedUnion("intent", [
      z.object({ intent: z.literal("grant"), grant: z.object({ role: z.string(), site: z.string().optional() }), reason: z.string() }),
      z.object({ intent: z.literal("note"), rows: z.preprocess((v) => v, z.array(z.object({ text: z.string() }))) }),
    ]);
    expect(
      parseForm(
        schema,
        form([
          ["intent", "grant"],
          ["grant.role", "viewer"],
          ["reason", "because"],
        ]),
      ).ok,
    ).toBe(true);
    expect(
      parseForm(
        schema,
        form([
          ["intent", "note"],
          ["rows[0].text", "a"],
          ["rows[1].text", "b"],
        ]),
      ),
    ).toEqual({ ok: true, data: { intent: "note", rows: [{ text: "a" }, { text: "b" }] } });
    for (const extra of ["waiver", "grant.admin", "rows[0].html", "reason.x"]) {
      const result = parseForm(
        schema,
        form([
          ["intent", "grant"],
          ["grant.role", "viewer"],
          ["reason", "because"],
          [extra, "1"],
        ]),
      );
      expect(result.ok, extra).toBe(false);
    }
  });

  it("refuses contradictory, too deep, too long and huge-index names with a message, never an exception", () => {
    const schema = z.object({ a: z.unknown() });
    const cases: [string, string][][] = [
      [
        ["a", "1"],
        ["a.b", "2"],
      ],
      [
        ["a.b", "1"],
        ["a", "2"],
      ],
      [
        ["a[0]", "1"],
        ["a.b", "2"],
      ],
      [["a.b.c.d.e.f.g.h", "1"]],
      [["a".repeat(500), "1"]],
      [["a[99999999]", "1"]],
      [["", "1"]],
    ];
    for (const pairs of cases) {
      const result = parseForm(schema, form(pairs));
      expect(result.ok, JSON.stringify(pairs).slice(0, 80)).toBe(false);
    }
  });

  it("the change-request form knows its own fields and refuses others", () => {
    const base: [string, string][] = [...CHANGE_REQUEST_FORM, ["revalidationTasks[0].evidenceUrl", "https://qms.example/doc/1"]];
    expect(parseForm(changeRequestFormSchema, form(base)).ok).toBe(true);
    expect(parseForm(changeRequestFormSchema, form([...base, ["waiver", "x"]])).ok).toBe(false);
    expect(parseForm(changeRequestFormSchema, form([...base, ["changes[0].__proto__", "x"]])).ok).toBe(false);
  });

  it("takes only web links as evidence", () => {
    const base = CHANGE_REQUEST_FORM;
    for (const bad of [
      "javascript:alert(document.domain)",
      " JavaScript:alert(1)",
      "java\tscript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:x",
      "//evil.example/",
      "file:///etc/passwd",
      "https://",
    ]) {
      const result = parseForm(changeRequestFormSchema, form([...base, ["revalidationTasks[0].evidenceUrl", bad]]));
      expect(result.ok, bad).toBe(false);
      if (!result.ok) expect(result.fieldErrors["revalidationTasks.0.evidenceUrl"]?.[0], bad).toMatch(/web link/);
    }
    for (const good of ["https://qms.example/doc/1", "http://intranet/sop?id=4"]) {
      expect(parseForm(changeRequestFormSchema, form([...base, ["revalidationTasks[0].evidenceUrl", good]])).ok, good).toBe(true);
    }
  });
});
