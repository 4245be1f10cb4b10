import { describe, expect, it } from "vitest";
import { parseGs1DigitalLink } from "../../../packages/identifiers/src/gs1";
import { parseEpc } from "./identifiers";

describe("EPCIS Digital Link identifiers and zero-suppressed GTINs (ADR 012)", () => {
  it("reads a GTIN-13 Digital Link as the GTIN-14 with a leading zero, which the reading stores", () => {
    // 9520123456788 is the GS1 Digital Link standard's example GTIN-13; as a GTIN-14 it is 09520123456788.
    expect(parseEpc("https://id.gs1.org/01/9520123456788/21/S1")).toMatchObject({
      ok: true,
      reading: { level: "serial", gtin: "09520123456788", identifier: "S1" },
    });
    expect(parseEpc("https://id.gs1.org/01/9520123456788")).toMatchObject({
      ok: true,
      reading: { level: "class", gtin: "09520123456788", identifier: "(01)09520123456788" },
    });
  });

  it("the GS1 module alone refuses the same URI unless asked to expand", () => {
    const result = parseGs1DigitalLink("https://id.gs1.org/01/9520123456788/21/S1");
    expect(result.status === "invalid" && result.errors.map((e) => e.message)).toEqual(["AI (01): 13 characters; exactly 14 required"]);
  });

  it("the stricter Digital Link rules apply to imports too", () => {
    expect(parseEpc("https://id.gs1.org/01/09520123456788/10/L1?10=L1")).toMatchObject({
      ok: false,
      message: expect.stringContaining("AI (10) appears in both the URI path and the query string"),
    });
  });

  it("an all upper-case Digital Link (QR alphanumeric mode) is read; a mixed-case scheme is refused by the Digital Link rules", () => {
    expect(parseEpc("HTTPS://ID.GS1.ORG/01/09520123456788/21/S1")).toMatchObject({
      ok: true,
      reading: { level: "serial", gtin: "09520123456788", identifier: "S1" },
    });
    expect(parseEpc("Https://id.gs1.org/01/09520123456788/21/S1")).toMatchObject({
      ok: false,
      message: expect.stringContaining('the scheme "Https" mixes upper and lower case'),
    });
  });
});
