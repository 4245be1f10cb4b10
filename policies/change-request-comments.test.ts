import { describe, expect, it } from "vitest";
import { mayMarkBlocking, mayResolveThread } from "./change-request-comments";

const request = { authorId: 1 };

describe("mayMarkBlocking", () => {
  it("a reviewer who is not the author may; the author, an engineer or a release manager may not", () => {
    expect(mayMarkBlocking({ id: 2, roles: ["quality_reviewer"] }, request)).toBe(true);
    expect(mayMarkBlocking({ id: 3, roles: ["engineer", "regulatory_reviewer"] }, request)).toBe(true);
    expect(mayMarkBlocking({ id: 1, roles: ["quality_reviewer"] }, request)).toBe(false);
    expect(mayMarkBlocking({ id: 4, roles: ["engineer"] }, request)).toBe(false);
    expect(mayMarkBlocking({ id: 5, roles: ["release_manager", "admin"] }, request)).toBe(false);
  });
});

describe("mayResolveThread", () => {
  it("the thread's author and the request's author may; anyone else may not", () => {
    expect(mayResolveThread(7, { authorId: 7 }, request)).toBe(true);
    expect(mayResolveThread(1, { authorId: 7 }, request)).toBe(true);
    expect(mayResolveThread(8, { authorId: 7 }, request)).toBe(false);
  });
});
