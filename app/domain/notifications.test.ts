import { describe, expect, it } from "vitest";
import { emailRetryDelaySeconds, emailText, notificationMessage } from "./notifications";

describe("notification words", () => {
  it("link each notification to its object", () => {
    const request = { number: "CR-0007", title: "Serialize ASM-1009 at PEN" };
    expect(notificationMessage({ kind: "approved", request })).toMatchObject({
      title: "Approved: CR-0007 Serialize ASM-1009 at PEN",
      link: "/change-requests/CR-0007",
    });
    expect(notificationMessage({ kind: "signature_failures", username: "q.q", failures: 3, windowMinutes: 15 })).toMatchObject({
      link: "/account/notifications",
      subject: "q.q",
    });
  });

  it("write the e-mail as plain text with the absolute link", () => {
    const text = emailText({ body: "Body.", link: "/change-requests/CR-0007" }, "https://c981.plant.example");
    expect(text).toContain("Body.\n\nOpen it: https://c981.plant.example/change-requests/CR-0007\n");
  });

  it("wait longer after each failed attempt, at most half an hour", () => {
    expect([1, 2, 3, 4, 10, 20].map(emailRetryDelaySeconds)).toEqual([5, 10, 20, 40, 1800, 1800]);
  });
});
