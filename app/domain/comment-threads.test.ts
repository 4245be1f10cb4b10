import { describe, expect, it } from "vitest";
import { anchorKey, anchorProblem, blockingRefusal, findingAnchors, openBlocking, openThreads, threadsOf, type CommentRow } from "./comment-threads";

const diff = [
  { site: "EIN", partNumber: "SUB-1009", field: "trackingMode" },
  { site: null, partNumber: "SUB-1009", field: "riskClass" },
];
const report = {
  changes: [
    {
      partNumber: "SUB-1009",
      site: "EIN",
      from: "lot" as const,
      to: "serial" as const,
      effect: "upgrade" as const,
      findings: [{ code: "MIXED_HISTORY" as const, severity: "warning" as const, message: "m", count: 1, sample: [] }],
    },
  ],
  findings: [{ code: "DISTRIBUTION" as const, severity: "info" as const, message: "d", count: 1, sample: [] }],
};

describe("anchorProblem", () => {
  it("accepts the request, a row of the diff and a finding of the report", () => {
    expect(anchorProblem({ kind: "request" }, { diff: [], report: null })).toBeNull();
    expect(anchorProblem({ kind: "diff_row", site: "EIN", material: "SUB-1009", field: "trackingMode" }, { diff, report: null })).toBeNull();
    expect(anchorProblem({ kind: "diff_row", site: null, material: "SUB-1009", field: "riskClass" }, { diff, report: null })).toBeNull();
    expect(anchorProblem({ kind: "finding", code: "MIXED_HISTORY", material: "SUB-1009", site: "EIN" }, { diff, report })).toBeNull();
    expect(anchorProblem({ kind: "finding", code: "DISTRIBUTION", material: null, site: null }, { diff, report })).toBeNull();
  });

  it("names the field when the row or finding is not there", () => {
    // The same field at another site, and an all-sites row named with a site, are other rows.
    expect(anchorProblem({ kind: "diff_row", site: "LYS", material: "SUB-1009", field: "trackingMode" }, { diff, report })).toEqual({
      "anchor.field": [expect.stringContaining("no row LYS · SUB-1009 · trackingMode")],
    });
    expect(anchorProblem({ kind: "diff_row", site: "EIN", material: "SUB-1009", field: "riskClass" }, { diff, report })).toHaveProperty("anchor.field");
    // A change's finding is not the request's, nor the other way round.
    expect(anchorProblem({ kind: "finding", code: "MIXED_HISTORY", material: null, site: null }, { diff, report })).toHaveProperty("anchor.code");
    expect(anchorProblem({ kind: "finding", code: "DISTRIBUTION", material: "SUB-1009", site: "EIN" }, { diff, report })).toHaveProperty("anchor.code");
    expect(anchorProblem({ kind: "finding", code: "MIXED_HISTORY", material: "SUB-1009", site: "EIN" }, { diff, report: null })).toEqual({
      "anchor.code": ["No impact analysis has been run: there is no finding to comment on."],
    });
  });

  it("lists one anchor per finding (hand-counted: 1 of the change, 1 across the request)", () => {
    expect(findingAnchors(report).map(anchorKey)).toEqual(["finding|MIXED_HISTORY|SUB-1009|EIN", "finding|DISTRIBUTION||"]);
  });
});

const row = (id: number, extra: Partial<CommentRow> = {}): CommentRow => ({
  id,
  parentId: null,
  authorId: 1,
  authorName: "Quinn Reviewer",
  authorUsername: "quinn",
  body: `comment ${id}`,
  createdAt: "2026-12-07T10:00:00.000Z",
  anchor: { kind: "request" },
  revision: 1,
  blocking: false,
  resolvedAt: null,
  resolvedByName: null,
  ...extra,
});

describe("threads", () => {
  const rows = [
    row(1),
    row(2, { blocking: true }),
    row(3, { parentId: 1 }),
    row(4, { blocking: true, resolvedAt: "2026-12-07T11:00:00.000Z", resolvedByName: "Emil" }),
    row(5, { parentId: 2 }),
    row(6, { parentId: 1 }),
    row(7),
  ];

  it("groups replies under their root, in the order written", () => {
    expect(threadsOf(rows).map((t) => [t.root.id, t.replies.map((r) => r.id)])).toEqual([
      [1, [3, 6]],
      [2, [5]],
      [4, []],
      [7, []],
    ]);
  });

  it("open blocking threads are the unresolved blocking roots; open threads list blocking first", () => {
    const threads = threadsOf(rows);
    expect(openBlocking(threads).map((t) => t.root.id)).toEqual([2]);
    expect(openThreads(threads).map((t) => t.root.id)).toEqual([2, 1, 7]);
  });

  it("the refusal names each blocking thread, a diff row's field in the caller's words", () => {
    const message = blockingRefusal(
      [
        { id: 2, anchor: { kind: "diff_row", site: "EIN", material: "SUB-1009", field: "trackingMode" }, body: "Why serial?", authorName: "Quinn" },
        { id: 5, anchor: { kind: "diff_row", site: null, material: "SUB-1009", field: "unlabelled" }, body: "And this?", authorName: "Quinn" },
      ],
      (field) => ({ trackingMode: "tracking mode" })[field] ?? field,
    );
    expect(message).toBe(
      'Not approved: 2 blocking comment threads are unresolved — #2 on EIN · SUB-1009 · tracking mode by Quinn ("Why serial?"); #5 on all sites · SUB-1009 · unlabelled by Quinn ("And this?"). It must be resolved before approval.',
    );
  });
});
