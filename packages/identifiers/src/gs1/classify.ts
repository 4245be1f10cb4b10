/**
 * What a GS1 reading identifies, in C-981's tracking terms:
 *
 * - `container`: a logistic unit — SSCC, AI (00);
 * - `instance`: one physical thing — a trade item with a serial (GTIN/ITIP +
 *   AI 21) or an individual-asset/-relationship key (GIAI 8004, GIAI
 *   assembly 7023, GRAI 8003 with its serial part, GSRN 8017/8018, GDTI 253 or
 *   GCN 255 with their serial part, CPID 8010 + serial 8011);
 * - `class`: many things alike — a trade item with a lot/batch (AI 10) or with
 *   no serial or lot at all (the product), or the type part of GRAI, GDTI, GCN,
 *   CPID, or a GMN (8013);
 * - `unknown`: anything else (locations, shipments, consignments, documents of
 *   other kinds, bare attributes).
 *
 * When a carrier holds keys of more than one kind (an SSCC label that also
 * names a serialised GTIN), the coarser physical unit wins in the order
 * container > instance > class, and `alsoIdentifies` lists the others so a
 * look-alike check can still see them.
 */
import type { Gs1Element } from "./validate";

export type IdentifierKind = "instance" | "class" | "container" | "unknown";

export interface Gs1Classification {
  kind: IdentifierKind;
  /** The AIs that decide the kind, e.g. ["01", "21"]. Empty for unknown. */
  keys: string[];
  reason: string;
  /** Other kinds this reading also carries keys for (see module comment). */
  alsoIdentifies: IdentifierKind[];
}

const TRADE_ITEM_KEYS = ["01", "03", "8006"] as const;

interface Finding {
  kind: Exclude<IdentifierKind, "unknown">;
  keys: string[];
  reason: string;
}

export function classifyElements(elements: readonly Gs1Element[]): Gs1Classification {
  // The answer depends on which AIs are present, and on values only for the keys with an optional
  // serial component: remembered by the AI list for the rest (a scan line repeats a few lists).
  let key = "";
  let byAisOnly = true;
  for (let i = 0; i < elements.length; i++) {
    const ai = elements[i]!.ai;
    if (ai === "8003" || ai === "253" || ai === "255") byAisOnly = false;
    key += i === 0 ? ai : `,${ai}`;
  }
  if (!byAisOnly) return classifyByValues(elements);
  let known = byAis.get(key);
  if (!known) {
    const found = classifyByValues(elements);
    known = Object.freeze({ ...found, keys: Object.freeze(found.keys), alsoIdentifies: Object.freeze(found.alsoIdentifies) }) as Gs1Classification;
    if (byAis.size >= BY_AIS_MEMO) byAis.clear();
    byAis.set(key, known);
  }
  return known;
}

const BY_AIS_MEMO = 4096;
const byAis = new Map<string, Gs1Classification>();

function classifyByValues(elements: readonly Gs1Element[]): Gs1Classification {
  const value = new Map<string, string>();
  for (const { ai, value: v } of elements) if (!value.has(ai)) value.set(ai, v);
  const has = (ai: string) => value.has(ai);
  const findings: Finding[] = [];

  if (has("00")) findings.push({ kind: "container", keys: ["00"], reason: "SSCC (00) identifies a logistic unit" });

  const tradeKey = TRADE_ITEM_KEYS.find(has);
  if (tradeKey && has("21")) {
    findings.push({ kind: "instance", keys: [tradeKey, "21"], reason: `(${tradeKey}) with serial number (21) identifies one item` });
  }
  if (has("8004")) findings.push({ kind: "instance", keys: ["8004"], reason: "GIAI (8004) identifies one individual asset" });
  if (has("7023")) findings.push({ kind: "instance", keys: ["7023"], reason: "GIAI - assembly (7023) identifies one individual asset" });
  if (has("8017") || has("8018")) {
    const key = has("8017") ? "8017" : "8018";
    findings.push({ kind: "instance", keys: [key], reason: `GSRN (${key}) identifies one service relationship` });
  }
  // GRAI: N1 zero + N13 with check digit, then an optional serial (X..16).
  const grai = value.get("8003");
  if (grai !== undefined) {
    findings.push(
      grai.length > 14
        ? { kind: "instance", keys: ["8003"], reason: "GRAI (8003) with a serial component identifies one returnable asset" }
        : { kind: "class", keys: ["8003"], reason: "GRAI (8003) without a serial component identifies an asset type" },
    );
  }
  // GDTI and GCN: N13 with check digit, then an optional serial component.
  for (const [ai, name] of [
    ["253", "GDTI"],
    ["255", "GCN"],
  ] as const) {
    const v = value.get(ai);
    if (v === undefined) continue;
    findings.push(
      v.length > 13
        ? { kind: "instance", keys: [ai], reason: `${name} (${ai}) with a serial component identifies one instance` }
        : { kind: "class", keys: [ai], reason: `${name} (${ai}) without a serial component identifies a type` },
    );
  }
  if (has("8010")) {
    findings.push(
      has("8011")
        ? { kind: "instance", keys: ["8010", "8011"], reason: "CPID (8010) with serial (8011) identifies one component" }
        : { kind: "class", keys: ["8010"], reason: "CPID (8010) without serial (8011) identifies a component type" },
    );
  }

  const batchKey = ["01", "02", "03", "8006", "8026"].find(has);
  if (batchKey && has("10")) {
    findings.push({ kind: "class", keys: [batchKey, "10"], reason: `(${batchKey}) with batch/lot (10) identifies a lot` });
  } else if (tradeKey && !has("21")) {
    findings.push({ kind: "class", keys: [tradeKey], reason: `(${tradeKey}) without serial or lot identifies a product` });
  } else if (has("02") && !has("00")) {
    findings.push({ kind: "class", keys: ["02"], reason: "(02) names the trade items contained in a logistic unit" });
  }
  if (has("8013")) findings.push({ kind: "class", keys: ["8013"], reason: "GMN (8013) identifies a product model" });

  const order: Finding["kind"][] = ["container", "instance", "class"];
  for (const kind of order) {
    const first = findings.find((f) => f.kind === kind);
    if (first) {
      const also = order.filter((k) => k !== kind && findings.some((f) => f.kind === k));
      return { kind, keys: first.keys, reason: first.reason, alsoIdentifies: also };
    }
  }
  const ais = elements.map((e) => `(${e.ai})`).join("");
  return {
    kind: "unknown",
    keys: [],
    reason: ais ? `${ais} names no serial, lot or container key` : "no elements",
    alsoIdentifies: [],
  };
}
