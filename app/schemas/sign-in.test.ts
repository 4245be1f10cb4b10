import { describe, expect, it } from "vitest";
import { safeRedirect } from "./sign-in";
import { isWebLink, safeHref } from "./link";

describe("safeRedirect: only a path of this origin", () => {
  // The usual open-redirect bypass list (OWASP, PortSwigger), plus what a hostile-input review found (ADR 016).
  const hostile = [
    "//evil.example/",
    "/\t/evil.example/",
    "/%09/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "/ /evil.example/",
    "\t//evil.example/",
    " //evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%2F/evil.example/",
    "/%2f%2fevil.example",
    "/%5C/evil.example",
    "/%5cevil.example",
    "/%252F/evil.example",
    "/%09/%2F/evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "data:text/html,x",
    "/\u0000/evil.example",
    "/\u00a0/evil.example",
    "/\u2028/evil.example",
    "/\ufeff/evil.example",
    "evil.example",
    "",
    "/%E0%A4%A",
  ];
  it.each(hostile)("refuses %j", (to) => {
    expect(safeRedirect(to)).toBe("/");
  });

  const home = [
    "/",
    "/change-requests/CR-0001",
    "/genealogy?q=L25D00723",
    "/change-requests?status=in_review&site=EIN",
    "/materials/SUB-1005#history",
    "/a%20b",
  ];
  it.each(home)("keeps %j", (to) => {
    expect(safeRedirect(to)).toBe(to);
  });

  it("percent-encodes what is not ASCII, so the Location header can hold it", () => {
    expect(safeRedirect("/\u4e00")).toBe("/%E4%B8%80");
    expect(safeRedirect("/materials/\u00e9")).toBe("/materials/%C3%A9");
    expect(safeRedirect("/x\u202e")).toBe("/x%E2%80%AE");
    expect(safeRedirect("/\uff0fevil.example")).toBe("/%EF%BC%8Fevil.example");
    expect(safeRedirect("/x\ud800")).toBe("/");
  });

  it("uses the fallback when nothing is given", () => {
    expect(safeRedirect(null, "/x")).toBe("/x");
    expect(safeRedirect(undefined)).toBe("/");
  });
});

describe("web links a person types", () => {
  it.each(["https://qms.example/doc/1", "http://intranet/sop?id=4", "HTTPS://QMS.EXAMPLE/x"])("accepts %s", (url) => {
    expect(isWebLink(url)).toBe(true);
    expect(safeHref(url)).toBe(url);
  });
  it.each([
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "\tjavascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,x",
    "vbscript:msgbox",
    "file:///etc/passwd",
    "//evil.example",
    "/relative",
    "https://",
    "mailto:a@b.c",
    "ftp://x.example",
  ])("refuses %j, and never renders it as a link", (url) => {
    expect(isWebLink(url)).toBe(false);
    expect(safeHref(url)).toBeUndefined();
  });
});
