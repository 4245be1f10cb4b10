/**
 * Plain titles for the impact analysis's finding codes (issue 23): a short title and one line that
 * says what the finding means for traceability and what a reviewer should check. Browser-safe and
 * pure; the code stays shown beside the title for those who read the JSON/CSV exports.
 */
import type { FindingCode } from "./report";

export interface FindingTitle {
  title: string;
  explanation: string;
}

export const FINDING_TITLES: Record<FindingCode, FindingTitle> = {
  ITEMS_BY_STATUS: {
    title: "Existing items affected",
    explanation: "Trace items of the material already exist at the site; check which of them (stock, WIP) the change reaches and how they are handled.",
  },
  OPEN_WORK_ORDERS: {
    title: "Open work orders",
    explanation: "Work orders in progress make or use the material; check they can finish under the old rule or are switched over deliberately.",
  },
  MIXED_HISTORY: {
    title: "Mixed history left behind",
    explanation: "Records made before the change stay at the coarser level; check the legacy-data plan covers this mixed history in genealogy reports.",
  },
  UNTRACKED_HISTORY: {
    title: "History without identity",
    explanation: "What was made before the change cannot be traced at all; check that the regulatory justification accepts the gap.",
  },
  PRECISION_LOSS: {
    title: "Trace precision lost",
    explanation: "Future finished units lose unit- or lot-level trace to this material; check the risk class and regulations allow the coarser level.",
  },
  CANDIDATE_LINKS: {
    title: "Candidate links, not unit links",
    explanation: "Serialized parents consumed lots, so only candidate sets of inputs are known; check a recall can work with candidate sets.",
  },
  GENEALOGY_BREAK_BOM: {
    title: "Genealogy break in the BOM",
    explanation: "A serialized component goes into a parent that is not serialized, so unit-level trace ends there; check the parent's rule or the BOM.",
  },
  GENEALOGY_BREAK_ACTUAL: {
    title: "Genealogy break in recorded production",
    explanation: "Serials were already consumed into parents that will not be serialized; check how these recorded links stay traceable.",
  },
  PARENT_FINER_THAN_COMPONENT: {
    title: "Parent tracked finer than a component",
    explanation: "A tracked parent consumes an untracked component of medium or high risk; check whether the component needs tracking too.",
  },
  COARSER_ALTERNATE: {
    title: "Coarser alternate",
    explanation: "An approved alternate is tracked more coarsely than its primary, so substituting loses trace; check the alternate's rule.",
  },
  INEXPRESSIBLE_EVENTS: {
    title: "Events the new mode cannot express",
    explanation: "Recorded splits, merges, repacks or rework cannot be expressed in the new mode; check the process will not need them again.",
  },
  REACH: {
    title: "Finished goods reached",
    explanation: "Finished goods that contain an affected item, through every tier; check the scope of any recall or containment is understood.",
  },
  LABELS: {
    title: "Labels to change",
    explanation: "Label templates must change, with their daily volume; check the labelling change is planned and validated with the release.",
  },
  LOOK_ALIKE_FORMATS: {
    title: "Look-alike identifier formats",
    explanation: "Formats used together print strings that read as more than one kind (serial, lot, container); check scanners cannot confuse them.",
  },
  SCAN_STEPS: {
    title: "Scanning steps to change",
    explanation: "Scanning steps must change, with their daily volume; check work instructions and operator training follow the release.",
  },
  ERP_PLM_DISAGREEMENT: {
    title: "ERP/PLM will disagree",
    explanation: "ERP or PLM records will carry a tracking flag that disagrees with the new rule; check the system of record is updated too.",
  },
  ERP_PLM_RESOLVED: {
    title: "ERP/PLM disagreement resolved",
    explanation: "ERP or PLM records disagree today and will agree with the new rule; nothing to fix, check it is the intended resolution.",
  },
  CYCLE: {
    title: "Cycle in the genealogy data",
    explanation: "The genealogy data loops back on itself and the walk stopped there; check the imported records, the reach may be incomplete.",
  },
  DANGLING_REFERENCE: {
    title: "Dangling genealogy reference",
    explanation: "A genealogy record points at an item that does not exist; check the imported data, the reach may be incomplete.",
  },
  DISTRIBUTION: {
    title: "Where the change goes",
    explanation: "Sites and runtime clients that will receive the change; check each of them is ready to apply it.",
  },
  BELOW_REQUIRED_TRACEABILITY: {
    title: "Below the required traceability",
    explanation: "The new rule falls below what the quality system requires for the material; check the deviation, its controls and its expiry.",
  },
  DEVIATION_EXPIRED: {
    title: "Expired traceability deviation",
    explanation: "A deviation from required traceability at these sites is past its last day; check it is restored or renewed by a change request.",
  },
  OPEN_QUALITY_EVENTS: {
    title: "Open quality events affected",
    explanation: "Open nonconformances, concessions, rework orders or complaints reference items this change affects; check their containment survives it.",
  },
  QUALITY_EVENT_SERIALS_STRANDED: {
    title: "Quality events on serials the downgrade ends",
    explanation: "Open quality events reference serials, and units made after the downgrade have none; check how the event's follow-up will identify them.",
  },
};

/** The title of a code; an unknown code (a report from a later schema) shows as itself. */
export function findingTitle(code: string): FindingTitle {
  return (FINDING_TITLES as Record<string, FindingTitle | undefined>)[code] ?? { title: code, explanation: "" };
}
