import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { FindingToAcknowledge } from "~/domain/impact-analysis/acknowledgements";
import { FindingAcknowledgements } from "./finding-acknowledgements";

const finding = (key: string, partNumber: string): FindingToAcknowledge => ({
  key,
  code: "MIXED_HISTORY",
  partNumber,
  site: "EIN",
  severity: "warning",
  count: 1,
  message: "",
  sample: [],
});

describe("the acknowledgement checkboxes", () => {
  it("keep keys apart that differ only in characters an id cannot carry: one id, one label each", () => {
    // Both keys collapsed to sign-ack-MIXED_HISTORY-A-1-EIN when ids were made from the key.
    const html = renderToStaticMarkup(
      createElement(FindingAcknowledgements, {
        findings: [finding("MIXED_HISTORY:A/1@EIN", "A/1"), finding("MIXED_HISTORY:A.1@EIN", "A.1")],
        errors: undefined,
      }),
    );
    const ids = [...html.matchAll(/<input[^>]* id="([^"]+)"/g)].map((m) => m[1]);
    const fors = [...html.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(["sign-ack-0", "sign-ack-1"]);
    expect(fors).toEqual(ids);
    expect([...html.matchAll(/value="([^"]+)"/g)].map((m) => m[1])).toEqual(["MIXED_HISTORY:A/1@EIN", "MIXED_HISTORY:A.1@EIN"]);
  });
});
