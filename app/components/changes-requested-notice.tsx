/**
 * "Changes requested" returns the request to its author with the comments (ADR 030): at the top of
 * the request, who asked and why, and the threads still open (blocking first), each linked to its
 * place on the page (the diff row, the finding or the Discussion).
 */
import { anchorLabel, openThreads, threadElementId, type Thread } from "~/domain/comment-threads";
import { Badge } from "./badge";
import { UtcTime } from "./time";

export interface ChangesRequested {
  by: string;
  at: Date | string;
  reason: string | null;
}

export function ChangesRequestedNotice({
  notice,
  threads,
  fieldLabel,
}: {
  notice: ChangesRequested | null;
  threads: readonly Thread[];
  fieldLabel?: (field: string) => string;
}) {
  if (!notice) return null;
  const open = openThreads(threads);
  return (
    <section className="notice notice-warn changes-requested-notice" aria-labelledby="changes-requested-heading">
      <h2 id="changes-requested-heading" className="notice-heading">
        Changes requested by {notice.by} (<UtcTime value={notice.at} />){notice.reason ? `: ${notice.reason}` : ""}
      </h2>
      {open.length === 0 ? (
        <p>No comment thread is open.</p>
      ) : (
        <>
          <p>
            {open.length === 1 ? "1 comment thread is open" : `${open.length} comment threads are open`}
            {open.some((t) => t.root.blocking) ? "; blocking threads must be resolved before approval" : ""}:
          </p>
          <ul>
            {open.map((t) => (
              <li key={t.root.id}>
                {t.root.blocking ? (
                  <>
                    <Badge tone="bad">blocking</Badge>{" "}
                  </>
                ) : null}
                <a href={`#${threadElementId(t.root.id)}`}>
                  Thread #{t.root.id} on {anchorLabel(t.root.anchor, fieldLabel)}
                </a>{" "}
                — {t.root.authorName}: “{t.root.body.length > 120 ? `${t.root.body.slice(0, 120)}…` : t.root.body}”
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
