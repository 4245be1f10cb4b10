import { describe, expect, it } from "vitest";
import { fieldErrorsFromIssues } from "./field-errors";

describe("fieldErrorsFromIssues", () => {
  it("groups messages by dotted path and sends path-less issues to the fallback", () => {
    const errors = fieldErrorsFromIssues([
      { path: ["materials", 0, "partNumber"], message: "Required" },
      { path: ["materials", 0, "partNumber"], message: "Too long" },
      { path: [], message: "Whole form" },
    ]);
    expect(errors).toEqual({ "materials.0.partNumber": ["Required", "Too long"], form: ["Whole form"] });
    expect(fieldErrorsFromIssues([{ path: [], message: "x" }], "note")).toEqual({ note: ["x"] });
  });

  it("keeps a __proto__ path as an own property without touching any prototype", () => {
    const errors = fieldErrorsFromIssues([{ path: ["__proto__"], message: "bad" }]);
    expect(Object.hasOwn(errors, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(errors)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).bad).toBeUndefined();
  });
});
