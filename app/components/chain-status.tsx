import { Suspense } from "react";
import { Await } from "@remix-run/react";
import { Badge } from "./badge";
import { formatCount } from "./format";

/** The outcome of recomputing the audit trail's hash chain (app/services/audit.server.ts). */
export type ChainStatusView =
  | { intact: true; rowsChecked: number; headSeq: number }
  | { intact: false; rowsChecked: number; brokenAt: number; problem: string; detail: string };

function ChainStatusText({ status }: { status: ChainStatusView }) {
  if (status.intact) {
    return (
      <>
        <Badge tone="good">intact</Badge>, {formatCount(status.rowsChecked)} {status.rowsChecked === 1 ? "row" : "rows"} (all
        hashes recomputed up to seq {formatCount(status.headSeq)})
      </>
    );
  }
  return (
    <>
      <Badge tone="bad">BROKEN</Badge> at row {formatCount(status.brokenAt)}: {status.detail}{" "}
      <span className="muted">({formatCount(status.rowsChecked)} rows before it verified)</span>
    </>
  );
}

/**
 * The chain status, streamed in after the page: verifying recomputes every hash, which must not
 * hold up the table. The live region announces the result when it arrives.
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
