import { Badge, type BadgeTone } from "./badge";
import {
  QUALITY_DISPOSITIONS,
  QUALITY_EVENT_KIND_LABELS,
  type QualityDisposition,
  type QualityEventKind,
  type QualityEventSeverity,
  type QualityEventStatus,
} from "~/domain/quality-event";

const STATUS_TONE: Record<QualityEventStatus, BadgeTone> = { open: "warn", contained: "info", closed: "good" };
const SEVERITY_TONE: Record<QualityEventSeverity, BadgeTone> = { minor: "neutral", major: "warn", critical: "bad" };

export const DISPOSITION_LABELS: Record<QualityDisposition, string> = {
  pending: "pending",
  use_as_is: "use as is",
  rework: "rework",
  repair: "repair",
  scrap: "scrap",
  return_to_supplier: "return to supplier",
  quarantine: "quarantine",
};
export const DISPOSITION_OPTIONS = QUALITY_DISPOSITIONS.map((d) => ({ value: d, label: DISPOSITION_LABELS[d] }));

export function QualityEventStatusBadge({ status }: { status: QualityEventStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{status}</Badge>;
}

export function SeverityBadge({ severity }: { severity: QualityEventSeverity }) {
  return <Badge tone={SEVERITY_TONE[severity]}>{severity}</Badge>;
}

export function kindLabel(kind: QualityEventKind): string {
  return QUALITY_EVENT_KIND_LABELS[kind];
}
