import type { TrackingMode } from "~/domain/tracking-rule";
import { Badge } from "./badge";

const LABEL: Record<TrackingMode, string> = { serial: "serial", lot: "lot", none: "none" };

/**
 * How a material is tracked. `null` = no rule in force: "legacy" before the site's first
 * rule-set version, "no rule" once versions exist but none covers the material.
 */
export function TrackingBadge({ mode, missing = "no rule" }: { mode: TrackingMode | null; missing?: string }) {
  if (mode === null) return <Badge tone="neutral">{missing}</Badge>;
  return <Badge tone={mode}>{LABEL[mode]}</Badge>;
}
