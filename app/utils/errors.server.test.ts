import { describe, expect, it } from "vitest";
import { actionError, DomainError, formErrors, invariantResponse, notFound, toResponse, toTextResponse } from "./errors.server";

/** The data and status of an action's answer (`data()` from Remix). */
function unwrap(answer: unknown): { data: unknown; status: number | undefined } {
  const { data, init } = answer as { data: unknown; init: ResponseInit | null };
  return { data, status: init?.status };
}

describe("DomainError statuses", () => {
  it("maps each code once", () => {
    expect(new DomainError("not_found", "x").status).toBe(404);
    expect(new DomainError("missing_reference", "x").status).toBe(422);
    expect(new DomainError("invalid", "x").status).toBe(400);
    expect(new DomainError("conflict", "x").status).toBe(409);
    expect(new DomainError("forbidden", "x").status).toBe(403);
    expect(new DomainError("too_many", "x").status).toBe(429);
    expect(new DomainError("unavailable", "x").status).toBe(503);
  });
});

describe("formErrors", () => {
  const withFields = new DomainError("invalid", "The form has problems", { name: ["Taken"] });
  const bare = new DomainError("conflict", "Moved on");

  it("shows the fields, or the message at the top when no field names the problem", () => {
    expect(formErrors(withFields)).toEqual({ name: ["Taken"] });
    expect(formErrors(bare)).toEqual({ form: ["Moved on"] });
  });

  it("says the message always, only or never when told", () => {
    expect(formErrors(withFields, { message: "always" })).toEqual({ name: ["Taken"], form: ["The form has problems"] });
    expect(formErrors(withFields, { message: "only" })).toEqual({ form: ["The form has problems"] });
    expect(formErrors(bare, { message: "never" })).toEqual({});
  });

  it("says a problem with a page field at the top, in the error's words", () => {
    const deactivated = new DomainError("conflict", "A deactivated user gets no roles", { username: ["Deactivated"], "grant.role": ["x"] });
    expect(formErrors(deactivated, { pageFields: ["username"] })).toEqual({ "grant.role": ["x"], form: ["A deactivated user gets no roles"] });
    const notHeld = new DomainError("not_found", "Not held", { "grant.role": ["Not held"] });
    expect(formErrors(notHeld, { pageFields: ["username"] })).toEqual({ "grant.role": ["Not held"] });
  });

  it("keeps a conflict's fields as they are when it is said apart", () => {
    expect(formErrors(bare, { conflictApart: true, message: "always" })).toEqual({});
    expect(formErrors(new DomainError("conflict", "m", { a: ["b"] }), { conflictApart: true, mapFields: () => ({ c: ["d"] }) })).toEqual({ c: ["d"] });
  });
});

describe("actionError", () => {
  it("answers a DomainError with the body and its status", () => {
    const answer = actionError(new DomainError("forbidden", "No"), (fieldErrors) => ({ intent: "x", fieldErrors }));
    expect(unwrap(answer)).toEqual({ data: { intent: "x", fieldErrors: { form: ["No"] } }, status: 403 });
  });

  it("says a conflict apart when told", () => {
    const answer = actionError(new DomainError("conflict", "Moved on"), (fieldErrors, conflict) => ({ fieldErrors, conflict }), { conflictApart: true });
    expect(unwrap(answer)).toEqual({ data: { fieldErrors: {}, conflict: "Moved on" }, status: 409 });
  });

  it("throws the page's 404 for a not_found of the page, and anything else on", async () => {
    const thrown = (() => {
      try {
        actionError(new DomainError("not_found", "gone"), () => ({}), { pageNotFound: true });
      } catch (error) {
        return error;
      }
    })() as Response;
    expect(thrown.status).toBe(404);
    expect(await thrown.text()).toBe("Not found");
    const other = new Error("boom");
    expect(() => actionError(other, () => ({}))).toThrow(other);
  });
});

describe("responses", () => {
  it("notFound is the guards' 404", async () => {
    const response = notFound();
    expect([response.status, response.statusText, await response.text()]).toEqual([404, "Not Found", "Not found"]);
  });

  it("invariantResponse throws a Response unless the condition holds", async () => {
    expect(() => invariantResponse(true, "never")).not.toThrow();
    try {
      invariantResponse(false, () => "No such thing", 404);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(Response);
      expect([(error as Response).status, (error as Response).statusText, await (error as Response).text()]).toEqual([404, "Not Found", "No such thing"]);
    }
  });

  it("toResponse and toTextResponse answer a DomainError and throw anything else on", async () => {
    const json = toResponse(new DomainError("missing_reference", "No such site", { site: ["No such site"] }));
    expect(json.status).toBe(422);
    expect(await json.json()).toEqual({ error: "missing_reference", message: "No such site", fields: { site: ["No such site"] } });
    const text = toTextResponse(new DomainError("not_found", "No analysis yet."));
    expect([text.status, text.headers.get("Content-Type"), await text.text()]).toEqual([404, "text/plain; charset=utf-8", "No analysis yet."]);
    expect(() => toResponse("x")).toThrow();
    expect(() => toTextResponse("x")).toThrow();
  });
});
