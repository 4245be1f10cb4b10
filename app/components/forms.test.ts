import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formToObject, parseForm } from "./forms";

describe("forms", () => {
  it("builds nested objects and arrays from field names; repeated names become arrays", () => {
    const form = new FormData();
    form.append("title", "T");
    form.append("changes[0].kind", "tracking");
    form.append("changes[0].sites", "EIN");
    form.append("changes[0].sites", "CLT");
    form.append("changes[1].kind", "attributes");
    expect(formToObject(form)).toEqual({ title: "T", changes: [{ kind: "tracking", sites: ["EIN", "CLT"] }, { kind: "attributes" }] });
  });

  it("names each invalid field, and refuses NUL characters before they reach the database", () => {
    const schema = z.object({ name: z.string().min(3, "At least 3"), note: z.string() });
    const form = new FormData();
    form.append("name", "ab");
    form.append("note", "x");
    expect(parseForm(schema, form)).toEqual({ ok: false, fieldErrors: { name: ["At least 3"] } });
    const nul = new FormData();
    nul.append("name", "abc");
    nul.append("note", "a\u0000b");
    expect(parseForm(schema, nul)).toEqual({ ok: false, fieldErrors: { note: ["Contains a NUL character"] } });
  });
});
