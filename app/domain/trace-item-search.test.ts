import { describe, expect, it } from "vitest";
import { readSearchTerm } from "./trace-item-search";

// GTIN-14 of urn:epc:id:sgtin:0614141.107346.…: indicator 1 moved to the front, check digit 4 (by hand).
const GTIN = "10614141073464";

describe("readSearchTerm", () => {
  it("reads one serial from its EPC URN, its Digital Link and its element string alike", () => {
    const serial = [{ level: "serial", gtin: GTIN, identifier: "2017" }];
    expect(readSearchTerm("urn:epc:id:sgtin:0614141.107346.2017")).toEqual({
      text: "urn:epc:id:sgtin:0614141.107346.2017",
      form: "urn",
      keys: serial,
      problem: null,
    });
    expect(readSearchTerm(`https://id.gs1.org/01/${GTIN}/21/2017`)).toMatchObject({ form: "digital-link", keys: serial, problem: null });
    expect(readSearchTerm(`(01)${GTIN}(21)2017`)).toMatchObject({ form: "element-string", keys: serial, problem: null });
  });

  it("reads lots, GTIN classes and containers", () => {
    expect(readSearchTerm("urn:epc:class:lgtin:4012345.012345.998877").keys).toEqual([{ level: "lot", gtin: "04012345123456", identifier: "998877" }]);
    expect(readSearchTerm("(01)04012345123456(10)998877").keys).toEqual([{ level: "lot", gtin: "04012345123456", identifier: "998877" }]);
    expect(readSearchTerm("urn:epc:idpat:sgtin:4012345.098765.*").keys).toEqual([{ level: "class", gtin: "04012345987652", identifier: "(01)04012345987652" }]);
    // SSCC: extension 1, prefix 0614141, reference 234567890, check digit 8 (by hand).
    expect(readSearchTerm("urn:epc:id:sscc:0614141.1234567890").keys).toEqual([{ level: "container", identifier: "106141412345678908" }]);
    expect(readSearchTerm("(00)106141412345678908").keys).toEqual([{ level: "container", identifier: "106141412345678908" }]);
    expect(readSearchTerm("https://id.gs1.org/00/106141412345678908").keys).toEqual([{ level: "container", identifier: "106141412345678908" }]);
    // A zero-suppressed GTIN-13 in a Digital Link is read as the GTIN-14 materials hold.
    expect(readSearchTerm("https://id.gs1.org/01/4012345123456/10/998877").keys).toEqual([{ level: "lot", gtin: "04012345123456", identifier: "998877" }]);
  });

  it("leaves a bare identifier to the identifier match, and names why a GS1-looking term gives no key", () => {
    expect(readSearchTerm("2017")).toEqual({ text: "2017", form: "identifier", keys: [], problem: null });
    expect(readSearchTerm("RSPLIT001")).toMatchObject({ form: "identifier", keys: [] });
    const badCheckDigit = readSearchTerm("(01)10614141073465(21)2017");
    expect(badCheckDigit).toMatchObject({ form: "element-string", keys: [] });
    expect(badCheckDigit.problem).toMatch(/check digit/i);
    expect(readSearchTerm("urn:epc:id:sgtin:0614141.10734.2017")).toMatchObject({ form: "urn", keys: [], problem: expect.stringContaining("13 digits") });
    expect(readSearchTerm("urn:epc:id:giai:4000001.12345")).toMatchObject({ form: "urn", keys: [], problem: expect.stringContaining("no trade item") });
  });
});
