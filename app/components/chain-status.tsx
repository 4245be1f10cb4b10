import { Suspense } from "react";
import { Await } from "@remix-run/react";
import { Badge } from "./badge";
import { formatCount } from "./format";
import type { ChainStatusView } from "~/domain/audit-anchor";

export type { ChainStatusView };

function ChainStatusText({ status }: { status: ChainStatusView }) {
  if (!status.intact) {
    return (
      <>
        <Badge tone="bad">BROKEN</Badge> {status.problems.join(" ")} <span className="muted">(npm run c981 -- audit:verify recomputes every row)</span>
      </>
    );
  }
  const rows = (n: number) => `${formatCount(n)} ${n === 1 ? "row" : "rows"}`;
  return (
    <>
      <Badge tone="good">intact</Badge>{" "}
      {status.lastAnchor ? (
        <>
          up to seq {formatCount(status.headSeq)}: {formatCount(status.anchorsVerified)} signed {status.anchorsVerified === 1 ? "anchor" : "anchors"} verified,
          each anchored row matches (latest #{status.lastAnchor.id}, seq {formatCount(status.lastAnchor.seq)}, {status.lastAnchor.issuedAt}).{" "}
        </>
      ) : (
        <>up to seq {formatCount(status.headSeq)}, but no signed anchor yet: nothing outside the database vouches for it. </>
      )}
      {status.provenAt === null ? (
        <>All hashes recomputed now ({rows(status.rowsChecked)}).</>
      ) : (
        <>
          Recomputed now from anchored seq {formatCount(status.fromSeq)}: {rows(status.rowsChecked)}; seq 1–{formatCount(status.fromSeq)} were proven earlier by
          this server (every hash recomputed at {status.provenAt}, then anchor by anchor).
        </>
      )}
      {status.lastAnchor && status.unanchoredRows > 0 ? (
        <span className="muted"> {rows(status.unanchoredRows)} after the latest anchor not signed yet.</span>
      ) : null}
      {status.notices.length > 0 ? <span className="muted"> {status.notices.join(" ")}</span> : null}
    </>
  );
}

/**
 * The chain status, streamed in after the page: verifying reads rows, which must not hold up the
 * table. The live region announces the result when it arrives.
 */
export function ChainStatus({ status }: { status: Promise<ChainStatusView> | ChainStatusView }) {
  return (
    <p className="chain-status" role="status">
      <strong>Hash chain:</strong>{" "}
      <Suspense fallback={<span className="muted">verifying…</span>}>
        <Await resolve={status} errorElement={<Badge tone="warn">could not be verified just now</Badge>}>
          {(resolved) => <ChainStatusText status={resolved} />}
        </Await>
      </Suspense>
    </p>
  );
}
