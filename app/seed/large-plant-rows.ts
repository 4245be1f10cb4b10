/**
 * The synthetic genealogy of the large plant (`--scale large`, 1M items) and the huge plant
 * (`--scale huge`, the same generator at scale 10): the plan (tier sizes, ids, edge counts) and the
 * rows as PostgreSQL COPY text, generated in chunks from the row number alone — no row objects, no
 * arrays of rows, so memory stays bounded at any scale. Pure: no I/O (large-plant.server.ts sends
 * the chunks). Deterministic: parents are chosen by a multiplicative hash of the row number.
 *
 * Tiers: raw lots → machined lots → serialized subassemblies → assembly lots → finished serials;
 * every item below the first consumes items of the tier before it (3 or 4; a finished serial 2 or
 * 3). Shipped finished serials (all but every tenth, which is in stock) are aggregated onto SSCC
 * pallets of 24 — containers of a finished material, which are not finished goods themselves,
 * while the serials on them are although something went out of them (ADR 010's definition).
 */
import { gs1CheckDigit } from "./demo-plant";

export interface Tier {
  name: string;
  family: string;
  prefix: string;
  kind: "serial" | "lot";
  /** Items at scale 1. */
  size: number;
  quantity: number;
  unit: string;
  status: "consumed" | "shipped";
  /** Item g of the tier consumes `base` items of the tier before it, one more when g % every = 0. */
  inputs: { base: number; every: number };
}

/** About a million items and three million edges at scale 1, with the pallets; the subassembly tier gives each of its 20 materials 10,000 items. */
export const LARGE_TIERS: Tier[] = [
  { name: "raw lots", family: "RAW", prefix: "GR", kind: "lot", size: 100_000, quantity: 500, unit: "KG", status: "consumed", inputs: { base: 0, every: 0 } },
  {
    name: "machined lots",
    family: "MCH",
    prefix: "GM",
    kind: "lot",
    size: 200_000,
    quantity: 200,
    unit: "EA",
    status: "consumed",
    inputs: { base: 3, every: 3 },
  },
  {
    name: "subassembly serials",
    family: "SUB",
    prefix: "GS",
    kind: "serial",
    size: 200_000,
    quantity: 1,
    unit: "EA",
    status: "consumed",
    inputs: { base: 3, every: 3 },
  },
  {
    name: "assembly lots",
    family: "ASM",
    prefix: "GA",
    kind: "lot",
    size: 100_000,
    quantity: 50,
    unit: "EA",
    status: "consumed",
    inputs: { base: 3, every: 3 },
  },
  // Every tenth finished serial is in stock, the others shipped (on pallets).
  {
    name: "finished serials",
    family: "FIN",
    prefix: "GF",
    kind: "serial",
    size: 400_000,
    quantity: 1,
    unit: "EA",
    status: "shipped",
    inputs: { base: 2, every: 2 },
  },
];

/** Shipped finished serials per SSCC pallet, as the demo plant packs them. */
export const UNITS_PER_PALLET = 24;
/** SSCC body: extension digit 3 (the demo plant's pallets use 1), a GS1 company prefix, then the pallet number (7 digits). */
const SSCC_PREFIX = "3087123409";

const DAY = 86_400_000;
const FROM = Date.parse("2024-09-01T00:00:00.000Z");
const SPAN = Date.parse("2026-10-01T00:00:00.000Z") - FROM;
const HASH = 2_654_435_761;

export interface PlannedTier extends Tier {
  /** Items at this scale. */
  items: number;
  firstItemId: number;
  /** Consume edges into this tier's items. */
  edges: number;
  firstEdgeId: number;
}

export interface LargePlantPlan {
  scale: number;
  tiers: PlannedTier[];
  pallets: { items: number; firstItemId: number; edges: number; firstEdgeId: number };
  items: number;
  edges: number;
}

const inputsOf = (tier: Tier, g: number) => (tier.inputs.base === 0 ? 0 : tier.inputs.base + (g % tier.inputs.every === 0 ? 1 : 0));
/** Finished serials that shipped: g % 10 ≠ 0. */
const shippedOf = (items: number) => items - Math.ceil(items / 10);
/** The j-th shipped finished serial (0-based): the j-th g that is not a multiple of 10. */
const shippedSerial = (j: number) => Math.floor(j / 9) * 10 + (j % 9) + 1;

/** Tier sizes, ids and edge counts at `scale`, ids counted on from the given first ones. */
export function planLargePlant(scale: number, firstItemId: number, firstEdgeId: number): LargePlantPlan {
  if (!(scale > 0) || scale > 100) throw new Error(`scale must be above 0 and at most 100 (got ${scale})`);
  let itemId = firstItemId;
  let edgeId = firstEdgeId;
  const tiers = LARGE_TIERS.map((tier, t) => {
    const items = Math.max(1, Math.round(tier.size * scale));
    const edges = t === 0 ? 0 : tier.inputs.base * items + Math.ceil(items / tier.inputs.every);
    const planned: PlannedTier = { ...tier, items, firstItemId: itemId, edges, firstEdgeId: edgeId };
    itemId += items;
    edgeId += edges;
    return planned;
  });
  const shipped = shippedOf(tiers.at(-1)!.items);
  const pallets = { items: Math.ceil(shipped / UNITS_PER_PALLET), firstItemId: itemId, edges: shipped, firstEdgeId: edgeId };
  if (pallets.items >= 10_000_000) throw new Error("too many pallets for a 7-digit SSCC pallet number");
  itemId += pallets.items;
  edgeId += pallets.edges;
  return { scale, tiers, pallets, items: itemId - firstItemId, edges: edgeId - firstEdgeId };
}

/** What the rows refer to: the materials of each tier's family (by part number) and the site. */
export interface RowContext {
  materialIds: Record<string, readonly number[]>;
  siteId: number;
}

/** A chunk of COPY text and the number of rows in it; `tier` is the tier (or "pallets") its rows belong to. */
export interface CopyChunk {
  bytes: Buffer;
  rows: number;
  tier: string;
}

export const ITEM_COLUMNS = "id, kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind";
export const EDGE_COLUMNS = "id, event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind";

const CHUNK = 1 << 18;
/** The longest row either table's rows can take (identifiers and numbers are short and ASCII). */
const ROW_MAX = 512;

/** Appends ASCII text to fixed-size buffers; a full buffer is handed out as a chunk. */
class CopyWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  rows = 0;
  private dayCache = -1;
  private dayText = "";

  get full() {
    return this.pos > CHUNK - ROW_MAX;
  }

  take(tier: string): CopyChunk {
    const chunk = { bytes: this.buf.subarray(0, this.pos), rows: this.rows, tier };
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    this.rows = 0;
    return chunk;
  }

  text(s: string) {
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
    return this;
  }

  /** A non-negative integer (at most 2^53). */
  int(n: number) {
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return this;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    return this.digits(n, digits);
  }

  /** A non-negative integer left-padded with zeros to `width` digits (wider numbers are written whole). */
  padded(n: number, width: number) {
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    return this.digits(n, Math.max(width, digits));
  }

  private digits(n: number, width: number) {
    const start = this.pos;
    let end = start + width;
    this.pos = end;
    for (let m = n; end > start; m = Math.floor(m / 10)) this.buf[--end] = 48 + (m % 10);
    return this;
  }

  tab() {
    this.buf[this.pos++] = 9;
    return this;
  }

  /** A UTC instant at millisecond precision, as timestamptz input: `2024-09-01 00:00:00.000+00`. */
  time(ms: number) {
    const day = Math.floor(ms / DAY);
    if (day !== this.dayCache) {
      this.dayCache = day;
      this.dayText = `${new Date(day * DAY).toISOString().slice(0, 10)} `;
    }
    let rest = ms - day * DAY;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const min = Math.floor(rest / 60_000);
    rest -= min * 60_000;
    const s = Math.floor(rest / 1000);
    return this.text(this.dayText)
      .padded(h, 2)
      .text(":")
      .padded(min, 2)
      .text(":")
      .padded(s, 2)
      .text(".")
      .padded(rest - s * 1000, 3)
      .text("+00");
  }

  endRow() {
    this.buf[this.pos++] = 10;
    this.rows++;
    return this;
  }
}

/** When item g of tier t was made: tier by tier a day apart, spread over two years. */
const madeAt = (t: number, g: number, items: number) => Math.floor(FROM + t * DAY + (g / items) * SPAN);

function materialsOf(context: RowContext, family: string): readonly number[] {
  const ids = context.materialIds[family];
  if (!ids || ids.length === 0) throw new Error(`the plant has no materials of family ${family}`);
  return ids;
}

/** The pallet number p's SSCC. */
export const palletSscc = (p: number) => {
  const body = `${SSCC_PREFIX}${String(p).padStart(7, "0")}`;
  return `${body}${gs1CheckDigit(body)}`;
};

/**
 * trace_items rows (ITEM_COLUMNS) in id order: the tiers, then the pallets. Materials interleave
 * (item g belongs to material g mod n), so one material's items spread over the whole tier, as
 * production of many materials does over time.
 */
export function* itemRows(plan: LargePlantPlan, context: RowContext): Generator<CopyChunk> {
  const w = new CopyWriter();
  for (const [t, tier] of plan.tiers.entries()) {
    const materials = materialsOf(context, tier.family);
    const kind = tier.kind;
    const quantity = String(tier.quantity);
    for (let g = 0; g < tier.items; g++) {
      const status = tier.status === "shipped" && g % 10 === 0 ? "stock" : tier.status;
      w.int(tier.firstItemId + g)
        .tab()
        .text(kind)
        .tab()
        .text(tier.prefix)
        .padded(g, 8)
        .tab()
        .int(materials[g % materials.length]!)
        .tab();
      w.int(context.siteId)
        .tab()
        .text(quantity)
        .tab()
        .text(tier.unit)
        .tab()
        .text(status)
        .tab()
        .time(madeAt(t, g, tier.items))
        .tab()
        .text("seed")
        .endRow();
      if (w.full) yield w.take(tier.name);
    }
    if (w.rows) yield w.take(tier.name);
  }
  const fin = plan.tiers.at(-1)!;
  const finMaterials = materialsOf(context, fin.family);
  const last = plan.tiers.length - 1;
  for (let p = 0; p < plan.pallets.items; p++) {
    const first = p * UNITS_PER_PALLET;
    const units = Math.min(UNITS_PER_PALLET, plan.pallets.edges - first);
    const at = madeAt(last, shippedSerial(first + units - 1), fin.items) + DAY;
    w.int(plan.pallets.firstItemId + p)
      .tab()
      .text("container")
      .tab()
      .text(palletSscc(p))
      .tab()
      .int(finMaterials[shippedSerial(first) % finMaterials.length]!)
      .tab();
    w.int(context.siteId).tab().int(units).tab().text("EA").tab().text("shipped").tab().time(at).tab().text("seed").endRow();
    if (w.full) yield w.take("pallets");
  }
  if (w.rows) yield w.take("pallets");
}

/**
 * genealogy_edges rows (EDGE_COLUMNS) in id order: each tier's consume edges (one event per
 * consuming item), then one aggregate event per pallet. Input k of item g of a tier is item
 * (g·2654435761 + 40503·k + 7919·k²) mod n of the tier before (n items) — computed with g·(2654435761 mod n),
 * which stays exact in doubles at any scale.
 */
export function* edgeRows(plan: LargePlantPlan, context: RowContext): Generator<CopyChunk> {
  const w = new CopyWriter();
  for (let t = 1; t < plan.tiers.length; t++) {
    const tier = plan.tiers[t]!;
    const prev = plan.tiers[t - 1]!;
    const n = prev.items;
    const factor = HASH % n;
    let id = tier.firstEdgeId;
    for (let g = 0; g < tier.items; g++) {
      const at = madeAt(t, g, tier.items);
      const output = tier.firstItemId + g;
      for (let k = 0, inputs = inputsOf(tier, g); k < inputs; k++) {
        const input = prev.firstItemId + ((g * factor + k * 40_503 + k * k * 7919) % n);
        w.int(id++).tab().text(tier.prefix).text("-").int(g).tab().text("consume").tab().int(input).tab().int(output).tab();
        w.text("1\t").text(tier.unit).tab().int(context.siteId).tab().time(at).tab().text("seed").endRow();
        if (w.full) yield w.take(tier.name);
      }
    }
    if (w.rows) yield w.take(tier.name);
  }
  const fin = plan.tiers.at(-1)!;
  const last = plan.tiers.length - 1;
  let id = plan.pallets.firstEdgeId;
  for (let p = 0; p < plan.pallets.items; p++) {
    const first = p * UNITS_PER_PALLET;
    const units = Math.min(UNITS_PER_PALLET, plan.pallets.edges - first);
    const at = madeAt(last, shippedSerial(first + units - 1), fin.items) + DAY;
    const pallet = plan.pallets.firstItemId + p;
    for (let u = 0; u < units; u++) {
      w.int(id++)
        .tab()
        .text("GP-")
        .int(p)
        .tab()
        .text("aggregate")
        .tab()
        .int(fin.firstItemId + shippedSerial(first + u))
        .tab()
        .int(pallet)
        .tab();
      w.text("1\tEA\t").int(context.siteId).tab().time(at).tab().text("seed").endRow();
      if (w.full) yield w.take("pallets");
    }
  }
  if (w.rows) yield w.take("pallets");
}
