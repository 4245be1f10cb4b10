/**
 * The discussion of a change request, as threads anchored where reviewers look (ADR 030): on a row
 * of the structured diff (site, material, field), on a finding of the impact analysis (its code, and
 * the proposed change it belongs to — none for the findings across the request), or on the request
 * as a whole. Pure and browser-safe: the service checks an anchor exists with `anchorExists`, the
 * page places threads with `anchorKey`, the signature refuses an approval with `openBlocking`.
 */
import type { DiffRow } from "./change-request";
import type { AnalysisReport } from "./impact-analysis/report";

export type CommentAnchor =
  | { kind: "request" }
  /** A diff row: `site` null for a row that applies at every site (attributes, a new material). */
  | { kind: "diff_row"; site: string | null; material: string; field: string }
  /** A finding: `material` and `site` name the proposed change it belongs to; both null for a finding across the request. */
  | { kind: "finding"; code: string; material: string | null; site: string | null };

export const REQUEST_ANCHOR: CommentAnchor = { kind: "request" };

/** One key per anchor: threads are placed beside the diff row or finding with the same key. */
export function anchorKey(anchor: CommentAnchor): string {
  switch (anchor.kind) {
    case "request":
      return "request";
    case "diff_row":
      return `diff_row|${anchor.site ?? ""}|${anchor.material}|${anchor.field}`;
    case "finding":
      return `finding|${anchor.code}|${anchor.material ?? ""}|${anchor.site ?? ""}`;
  }
}

export function diffRowAnchor(row: Pick<DiffRow, "site" | "partNumber" | "field">): CommentAnchor {
  return { kind: "diff_row", site: row.site, material: row.partNumber, field: row.field };
}

export function findingAnchor(code: string, scope: { partNumber: string; site: string } | null): CommentAnchor {
  return { kind: "finding", code, material: scope?.partNumber ?? null, site: scope?.site ?? null };
}

/** Every finding of a report as an anchor: those of each proposed change, then those across the request. */
export function findingAnchors(report: Pick<AnalysisReport, "changes" | "findings">): CommentAnchor[] {
  return [
    ...report.changes.flatMap((c) => c.findings.map((f) => findingAnchor(f.code, { partNumber: c.partNumber, site: c.site }))),
    ...report.findings.map((f) => findingAnchor(f.code, null)),
  ];
}

/**
 * Whether the anchor names something that exists: a row of this revision's diff, a finding of the
 * latest analysis. Null when it does; otherwise the problem, keyed by the anchor's form field.
 */
export function anchorProblem(
  anchor: CommentAnchor,
  world: { diff: readonly Pick<DiffRow, "site" | "partNumber" | "field">[]; report: Pick<AnalysisReport, "changes" | "findings"> | null },
): Record<string, string[]> | null {
  const key = anchorKey(anchor);
  if (anchor.kind === "request") return null;
  if (anchor.kind === "diff_row") {
    if (world.diff.some((row) => anchorKey(diffRowAnchor(row)) === key)) return null;
    return {
      "anchor.field": [
        `This revision's diff has no row ${anchor.site ?? "all sites"} · ${anchor.material} · ${anchor.field}: reload the page and comment on a row it shows.`,
      ],
    };
  }
  if (world.report === null) return { "anchor.code": ["No impact analysis has been run: there is no finding to comment on."] };
  if (findingAnchors(world.report).some((a) => anchorKey(a) === key)) return null;
  const where = anchor.material ? `${anchor.material} at ${anchor.site ?? "?"}` : "across the request";
  return { "anchor.code": [`The latest impact analysis has no finding ${anchor.code} (${where}): reload the page and comment on a finding it shows.`] };
}

/** "EIN · SUB-1009 · tracking mode", "finding MIXED_HISTORY (SUB-1009 at EIN)", "the request". */
export function anchorLabel(anchor: CommentAnchor, fieldLabel: (field: string) => string = (f) => f): string {
  switch (anchor.kind) {
    case "request":
      return "the request";
    case "diff_row":
      return `${anchor.site ?? "all sites"} · ${anchor.material} · ${fieldLabel(anchor.field)}`;
    case "finding":
      return `finding ${anchor.code} (${anchor.material ? `${anchor.material} at ${anchor.site ?? "?"}` : "across the request"})`;
  }
}

export interface CommentRow {
  id: number;
  parentId: number | null;
  authorId: number;
  authorName: string;
  authorUsername: string;
  body: string;
  createdAt: Date | string;
  anchor: CommentAnchor;
  revision: number | null;
  blocking: boolean;
  resolvedAt: Date | string | null;
  resolvedByName: string | null;
}

export interface Thread {
  root: CommentRow;
  replies: CommentRow[];
}

/** Comments (in the order written) as threads: each root with its replies, in the order written. */
export function threadsOf(rows: readonly CommentRow[]): Thread[] {
  const threads = new Map<number, Thread>();
  for (const row of rows) if (row.parentId === null) threads.set(row.id, { root: row, replies: [] });
  for (const row of rows) if (row.parentId !== null) threads.get(row.parentId)?.replies.push(row);
  return [...threads.values()];
}

export const isResolved = (thread: Thread) => thread.root.resolvedAt !== null;

/** The unresolved blocking threads: while there is one, the request is not approved. */
export function openBlocking(threads: readonly Thread[]): Thread[] {
  return threads.filter((t) => t.root.blocking && !isResolved(t));
}

/** The unresolved threads, blocking first, then in the order they were opened. */
export function openThreads(threads: readonly Thread[]): Thread[] {
  const open = threads.filter((t) => !isResolved(t));
  return [...open.filter((t) => t.root.blocking), ...open.filter((t) => !t.root.blocking)];
}

/**
 * What an approval refused for open blocking threads says: each thread by its number, anchor and
 * opening words; a diff row's field in the caller's words (app/domain/change-request-fields.ts).
 */
export function blockingRefusal(blocking: readonly Pick<CommentRow, "id" | "anchor" | "body" | "authorName">[], fieldLabel: (field: string) => string): string {
  const named = blocking.map((c) => {
    const words = c.body.length > 60 ? `${c.body.slice(0, 60)}…` : c.body;
    return `#${c.id} on ${anchorLabel(c.anchor, fieldLabel)} by ${c.authorName} ("${words}")`;
  });
  return `Not approved: ${blocking.length === 1 ? "a blocking comment thread is" : `${blocking.length} blocking comment threads are`} unresolved — ${named.join("; ")}. It must be resolved before approval.`;
}

/** The element id of a thread on the page (the notice links to it). */
export const threadElementId = (threadId: number) => `comment-thread-${threadId}`;
