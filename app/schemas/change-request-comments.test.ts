import { describe, expect, it } from "vitest";
import { parseForm } from "../components/forms";
import { changeRequestActionSchema } from "./change-request-actions";

const form = (pairs: [string, string][]) => {
  const data = new FormData();
  for (const [k, v] of pairs) data.append(k, v);
  return parseForm(changeRequestActionSchema, data);
};

describe("the discussion's forms", () => {
  it("parse an anchor on a diff row from flat form fields; an empty site is a row at every site", () => {
    expect(
      form([
        ["intent", "comment"],
        ["body", " Why serial? "],
        ["anchor.kind", "diff_row"],
        ["anchor.site", ""],
        ["anchor.material", "SUB-1009"],
        ["anchor.field", "riskClass"],
        ["blocking", "on"],
      ]),
    ).toEqual({
      ok: true,
      data: { intent: "comment", body: "Why serial?", anchor: { kind: "diff_row", site: null, material: "SUB-1009", field: "riskClass" }, blocking: true },
    });
  });

  it("name the field of a bad anchor, a missing body or thread", () => {
    expect(
      form([
        ["intent", "comment"],
        ["body", "x"],
        ["anchor.kind", "page"],
      ]),
    ).toMatchObject({ ok: false, fieldErrors: { "anchor.kind": [expect.any(String)] } });
    expect(
      form([
        ["intent", "comment"],
        ["body", "x"],
        ["anchor.kind", "finding"],
        ["anchor.code", "NOPE"],
      ]),
    ).toEqual({
      ok: false,
      fieldErrors: { "anchor.code": ["Name a finding code of the impact analysis"] },
    });
    expect(
      form([
        ["intent", "comment"],
        ["body", "x"],
        ["anchor.kind", "diff_row"],
        ["anchor.material", "SUB-1009"],
      ]),
    ).toEqual({
      ok: false,
      fieldErrors: { "anchor.field": ["Name the field of the diff row"] },
    });
    expect(
      form([
        ["intent", "reply"],
        ["threadId", "abc"],
        ["body", " "],
      ]),
    ).toEqual({
      ok: false,
      fieldErrors: { threadId: ["Name the thread"], body: ["Write a comment"] },
    });
    // A field the form does not take is refused before zod reads it.
    expect(
      form([
        ["intent", "resolve"],
        ["threadId", "3"],
        ["resolvedBy", "someone"],
      ]),
    ).toMatchObject({ ok: false, fieldErrors: { form: [expect.stringContaining("resolvedBy")] } });
  });
});
