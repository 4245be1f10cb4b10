/**
 * The demo plant's quality events (ADR 034, issue 25): one of each kind, on serials, lots and both, chosen
 * from the generated plant by rule — never by identifiers written here — so they follow the plant if its
 * generator changes. seed.server.ts raises them through the quality-event service in the seed's transaction.
 *
 * - a nonconformance on a LEGACY lot: the first machined-part lot at EIN that went into something, made
 *   (and the event raised) before EIN's first rule-set version;
 * - a concession on specific SUB-1005 serials at EIN, made after its change to serial tracking (version 2);
 * - a nonconformance on a lot and three serials made from it (both): the first machined-part lot at EIN
 *   made under version 1 that went into three subassembly serials;
 * - a rework order on the reworked FIN-1001 serial, closed with disposition rework (the closed one);
 * - a customer complaint on a shipped finished-good serial at PEN.
 */
import type { QualityDisposition } from "../domain/quality-event";
import type { QualityEventInput } from "../schemas/quality-event";
import type { DemoPlant, DemoTraceItem } from "./demo-plant";

const DAY = 86_400_000;

export interface DemoQualityEvent {
  /** What the event is in the demo, for tests and readers (not stored). */
  role: "legacy_lot" | "sub1005_serials" | "lot_and_serials" | "rework" | "complaint";
  input: QualityEventInput;
  /** Closed after raising, through the status change (so its history shows the decision). */
  close?: { disposition: QualityDisposition; comment: string };
}

const byCreation = (a: DemoTraceItem, b: DemoTraceItem) => a.createdAt.getTime() - b.createdAt.getTime() || a.identifier.localeCompare(b.identifier);
const after = (at: Date, days: number) => new Date(at.getTime() + days * DAY).toISOString();

export function demoQualityEvents(plant: DemoPlant): DemoQualityEvent[] {
  const items = plant.traceItems;
  const [v1From, v2From] = plant.versions.map((v) => v.effectiveFrom) as [Date, Date];
  const outputsOf = new Map<number, number[]>();
  for (const e of plant.edges) if (e.input !== e.output) (outputsOf.get(e.input) ?? outputsOf.set(e.input, []).get(e.input)!).push(e.output);
  const indexed = items.map((it, i) => ({ it, i }));
  const pick = (what: string, candidates: { it: DemoTraceItem; i: number }[]) => {
    const sorted = [...candidates].sort((a, b) => byCreation(a.it, b.it));
    if (!sorted[0]) throw new Error(`demo quality events: no ${what} in the plant`);
    return sorted;
  };

  // A legacy lot: made before EIN's first version, consumed into something (so it reaches finished goods).
  const legacy = pick(
    "legacy machined-part lot at EIN",
    indexed.filter(
      ({ it, i }) => it.site === "EIN" && it.kind === "lot" && it.partNumber.startsWith("MCH-") && it.createdAt < v1From && (outputsOf.get(i)?.length ?? 0) > 0,
    ),
  )[0]!.it;
  const legacyRaisedAt = new Date(Math.min(legacy.createdAt.getTime() + 2 * DAY, v1From.getTime() - DAY));

  // SUB-1005 serials at EIN (serialized from version 2): the first two made.
  const sub1005 = pick(
    "SUB-1005 serial at EIN",
    indexed.filter(({ it }) => it.site === "EIN" && it.partNumber === "SUB-1005" && it.kind === "serial" && it.createdAt >= v2From),
  )
    .slice(0, 2)
    .map(({ it }) => it);

  // A lot and three serials made from it: a machined-part lot at EIN, made under version 1, that went into subassembly serials.
  const serialOutputs = (i: number) =>
    [...new Set(outputsOf.get(i) ?? [])]
      .map((o) => items[o]!)
      .filter((o) => o.kind === "serial" && o.partNumber.startsWith("SUB-") && o.site === "EIN")
      .sort(byCreation);
  const feeding = pick(
    "machined-part lot at EIN feeding three serials",
    indexed.filter(
      ({ it, i }) => it.site === "EIN" && it.kind === "lot" && it.partNumber.startsWith("MCH-") && it.createdAt >= v1From && serialOutputs(i).length >= 3,
    ),
  )[0]!;
  const three = serialOutputs(feeding.i).slice(0, 3);

  // The reworked FIN-1001 serial (demo-plant hard case): the order is raised before the rework (5 days after it was made).
  const reworked = items.find(
    (it) =>
      it.site === plant.hardCases.reworkedSerial.site &&
      it.partNumber === plant.hardCases.reworkedSerial.partNumber &&
      it.identifier === plant.hardCases.reworkedSerial.serial,
  )!;

  // A customer complaint: the first shipped finished-good serial at PEN.
  const shipped = pick(
    "shipped finished good at PEN",
    indexed.filter(({ it }) => it.site === "PEN" && it.kind === "serial" && it.partNumber.startsWith("FIN-") && it.status === "shipped"),
  )[0]!.it;

  const serialRef = (it: DemoTraceItem) => ({ kind: "serial" as const, material: it.partNumber, identifier: it.identifier });
  const lotRef = (it: DemoTraceItem) => ({ kind: "lot" as const, material: it.partNumber, identifier: it.identifier });
  const latest = (list: DemoTraceItem[]) => list.reduce((a, b) => (a.createdAt > b.createdAt ? a : b));

  return [
    {
      role: "legacy_lot",
      input: {
        kind: "nonconformance",
        site: "EIN",
        severity: "major",
        title: `Machined lot ${legacy.identifier} out of tolerance (bore diameter)`,
        description: "Incoming inspection of downstream assemblies found bores above the upper limit; the lot predates EIN's first governed rule set.",
        raisedAt: legacyRaisedAt.toISOString(),
        externalId: "QMS-DEMO-NC-0001",
        references: [lotRef(legacy)],
      },
    },
    {
      role: "sub1005_serials",
      input: {
        kind: "concession",
        site: "EIN",
        severity: "minor",
        title: "Use as is: SUB-1005 units with a cosmetic housing mark",
        description: "Two serialized subassemblies carry a mould mark outside the visible area; accepted by concession.",
        raisedAt: after(latest(sub1005).createdAt, 1),
        externalId: "QMS-DEMO-CD-0002",
        disposition: "use_as_is",
        references: sub1005.map(serialRef),
      },
    },
    {
      role: "lot_and_serials",
      input: {
        kind: "nonconformance",
        site: "EIN",
        severity: "critical",
        title: `Lot ${feeding.it.identifier} and three subassemblies built from it: suspect heat treatment`,
        description: "Furnace record gap during the lot's heat treatment; the lot and the first three serials built from it are named.",
        raisedAt: after(latest(three).createdAt, 1),
        externalId: "QMS-DEMO-NC-0003",
        status: "contained",
        disposition: "quarantine",
        references: [lotRef(feeding.it), ...three.map(serialRef)],
      },
    },
    {
      role: "rework",
      input: {
        kind: "rework_order",
        site: reworked.site,
        severity: "major",
        title: `Rework ${reworked.identifier}: replace the subassembly`,
        description: "Final test failed on the subassembly; replace it under a rework order.",
        raisedAt: after(reworked.createdAt, 4),
        externalId: "QMS-DEMO-RW-0004",
        references: [serialRef(reworked)],
      },
      close: { disposition: "rework", comment: "Subassembly replaced under the rework work order; retest passed." },
    },
    {
      role: "complaint",
      input: {
        kind: "complaint",
        site: "PEN",
        severity: "major",
        title: `Customer complaint: ${shipped.partNumber} ${shipped.identifier} does not power on`,
        description: "Returned by the customer; under investigation.",
        raisedAt: after(shipped.createdAt, 30),
        externalId: "QMS-DEMO-CC-0005",
        references: [serialRef(shipped)],
      },
    },
  ];
}
