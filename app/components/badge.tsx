import type { ReactNode } from "react";

export type BadgeTone = "neutral" | "info" | "good" | "warn" | "bad" | "serial" | "lot" | "none";

/** A short status word. The tone is decoration only: the text always says it. */
export function Badge({ tone = "neutral", children }: { tone?: BadgeTone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
