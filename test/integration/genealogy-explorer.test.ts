/**
 * The genealogy explorer on the demo plant: multi-tier traces both ways (checked against an
 * independent recursive query), the rule and rule-set version in force at each step (checked
 * against ruleInForce, legacy included), trace precision, recall certainty on a merge, cycle
 * termination, site scoping, identifier search and the audited recall export.
 */
import { createHash } from "node:crypto";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_VERSION_DATES, generateDemoPlant } from "../../app/seed/demo-plant";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { exploreGenealogy, recallFrom, searchTraceItems, traceGenealogy, type TraceResult } from "../../app/queries/genealogy.server";
import { ruleInForce } from "../../app/queries/tracking-rules.server";
import { loader as itemLoader } from "../../app/routes/genealogy.$itemId";
import { loader as searchLoader } from "../../app/routes/genealogy._index";
import { loader as recallCsvLoader } from "../../app/routes/genealogy.$itemId.recall[.]csv";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
const hard = generateDemoPlant().hardCases;
const [V1, V2] = DEMO_VERSION_DATES;
const cookies = new Map<string, string>();
const siteIds = new Map<string, number>();

/** Raw SQL for setup and reference answers; times go in as ISO 8601 text. */
const q = <T extends Record<string, unknown>>(text: TemplateStringsArray, ...values: unknown[]) =>
  database.client<T[]>(text, ...(values.map((v) => (v instanceof Date ? v.toISOString() : v)) as never[]));

async function itemId(identifier: string, site = "EIN"): Promise<number> {
  const [row] = await q<{
    id: string;
  }>`select t.id from trace_items t join sites s on s.id = t.site_id where t.identifier = ${identifier} and s.code = ${site}`;
  if (!row) throw new Error(`no trace item ${identifier} at ${site}`);
  return Number(row.id);
}

const IMPORT_DIGEST = "ab".repeat(32);

/** A trace item as an import would add it (import provenance). */
async function addItem(kind: "serial" | "lot" | "container", identifier: string, partNumber: string, site: string, createdAt: Date): Promise<number> {
  const [row] = await q<{ id: string }>`
    insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
    values (${kind}, ${identifier}, (select id from materials where part_number = ${partNumber}), ${siteIds.get(site)!},
            ${kind === "serial" ? "1" : "10"}, 'EA', 'stock', ${createdAt}, 'import', ${IMPORT_DIGEST}, ${`item-${identifier}`})
    returning id`;
  return Number(row!.id);
}

async function addEdge(input: number, output: number, site: string, occurredAt: Date, kind = "consume") {
  await q`
    insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind, provenance_file_digest, provenance_event_id)
    values (${`IMP-${input}-${output}`}, ${kind}, ${input}, ${output}, '1', 'EA', ${siteIds.get(site)!}, ${occurredAt}, 'import', ${IMPORT_DIGEST}, ${`edge-${input}-${output}`})`;
}

/** The reference: every item reachable in `direction` with its shortest distance, by one recursive query. */
async function reference(start: number, direction: "backward" | "forward") {
  const rows =
    direction === "forward"
      ? await q<{ id: string; tier: number }>`
          with recursive walk(id, depth) as (
            select ${start}::bigint, 0
            union
            select e.output_item_id, w.depth + 1 from walk w join genealogy_edges e on e.input_item_id = w.id
            where e.input_item_id <> e.output_item_id and w.depth < 40
          ) select id, min(depth)::int as tier from walk group by id`
      : await q<{ id: string; tier: number }>`
          with recursive walk(id, depth) as (
            select ${start}::bigint, 0
            union
            select e.input_item_id, w.depth + 1 from walk w join genealogy_edges e on e.output_item_id = w.id
            where e.input_item_id <> e.output_item_id and w.depth < 40
          ) select id, min(depth)::int as tier from walk group by id`;
  return Object.fromEntries(rows.map((r) => [Number(r.id), r.tier]));
}

const tiersOf = (trace: TraceResult) => Object.fromEntries(trace.nodes.map((n) => [n.id, n.tier]));
const node = (trace: TraceResult, identifier: string) => {
  const found = trace.nodes.find((n) => n.identifier === identifier);
  if (!found) throw new Error(`${identifier} is not in the ${trace.direction} trace`);
  return found;
};

function args(url: string, who: string, params: Record<string, string> = {}): LoaderFunctionArgs {
  return { request: new Request(`http://127.0.0.1${url}`, { headers: { Cookie: `${SESSION_COOKIE}=${cookies.get(who)!}` } }), params, context: {} };
}

async function statusOf(run: () => Promise<unknown>): Promise<number> {
  try {
    const result = await run();
    return result instanceof Response ? result.status : 200;
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status;
    throw thrown;
  }
}

/** A shipped EIN device whose backward trace reaches raw material through a serialized subassembly. */
let device = 0;
let deviceIdentifier = "";
/** An EIN raw lot whose forward trace reaches finished devices and pallets. */
let rawLot = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  for (const s of await q<{ id: number; code: string }>`select id, code from sites`) siteIds.set(s.code, s.id);
  for (const [username, site] of [
    ["gx.all", null],
    ["gx.clt", "CLT"],
    ["gx.ein", "EIN"],
  ] as const) {
    await createUser(
      database.db,
      "test",
      { username, displayName: username, password: "explorer-password-1", grants: [{ role: "viewer", site }], reason: "genealogy explorer test" },
      "fixture",
    );
    const session = await signIn(database.db, { username, password: "explorer-password-1", ip: null, maxHours: 1 });
    if (!session.ok) throw new Error(`cannot sign in ${username}`);
    cookies.set(username, session.sessionId);
  }
  const [d] = await q<{ id: string; identifier: string }>`
    select o.id, o.identifier from trace_items o
    join materials m on m.id = o.material_id join sites s on s.id = o.site_id
    where m.part_number like 'FIN-%' and o.kind = 'serial' and s.code = 'EIN' and o.created_at > ${V2}
      and exists (select 1 from genealogy_edges e join trace_items i on i.id = e.input_item_id where e.output_item_id = o.id and i.kind = 'serial')
      and exists (select 1 from genealogy_edges e join trace_items i on i.id = e.input_item_id where e.output_item_id = o.id and i.kind = 'lot')
    order by o.id limit 1`;
  device = Number(d!.id);
  deviceIdentifier = d!.identifier;
  const [r] = await q<{ id: string }>`
    select t.id from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
    where m.part_number like 'RAW-%' and s.code = 'EIN' and t.created_at < ${V1}
      and exists (
        with recursive down(id, depth) as (select t.id, 0 union
          select e.output_item_id, d.depth + 1 from down d join genealogy_edges e on e.input_item_id = d.id where d.depth < 8)
        select 1 from down join trace_items x on x.id = down.id where x.kind = 'container')
    order by t.id limit 1`;
  rawLot = Number(r!.id);
}, 180_000);

describe("multi-tier traces", () => {
  it("trace a device backward through every tier, each item once at its shortest distance", async () => {
    const trace = (await traceGenealogy(database.db, { itemId: device, direction: "backward", sites: null }))!;
    expect(tiersOf(trace)).toEqual(await reference(device, "backward"));
    expect(trace.tiers).toBeGreaterThanOrEqual(3);
    const partsByTier = new Map<number, Set<string>>();
    for (const n of trace.nodes) (partsByTier.get(n.tier) ?? partsByTier.set(n.tier, new Set()).get(n.tier)!).add(n.partNumber.slice(0, 3));
    expect(partsByTier.get(0)).toEqual(new Set(["FIN"]));
    expect([...partsByTier.get(1)!]).toEqual(expect.arrayContaining(["SUB", "ASM"]));
    expect(trace.nodes.some((n) => n.partNumber.startsWith("RAW-"))).toBe(true);
    expect(trace.truncated).toBe(false);
    expect(trace.cycles).toEqual([]);
    // Each row names the event that linked it, from the item it was reached from.
    const first = trace.nodes[1]!;
    expect(first.via).toMatchObject({ kind: "consume", fromId: device, fromIdentifier: deviceIdentifier });
  });

  it("trace a raw lot forward to finished devices and the pallets they were packed on", async () => {
    const trace = (await traceGenealogy(database.db, { itemId: rawLot, direction: "forward", sites: null }))!;
    expect(tiersOf(trace)).toEqual(await reference(rawLot, "forward"));
    expect(trace.nodes.some((n) => n.partNumber.startsWith("FIN-") && n.kind === "serial")).toBe(true);
    expect(trace.nodes.some((n) => n.kind === "container")).toBe(true);
    expect(trace.tiers).toBeGreaterThanOrEqual(4);
  });

  it("walk the split, merge and repack hard cases", async () => {
    const split = (await traceGenealogy(database.db, { itemId: await itemId(hard.lotSplit.source), direction: "forward", sites: null }))!;
    expect(split.nodes.map((n) => n.identifier).sort()).toEqual([hard.lotSplit.source, ...hard.lotSplit.children].sort());
    const merged = (await traceGenealogy(database.db, { itemId: await itemId(hard.lotMerge.merged), direction: "backward", sites: null }))!;
    expect(
      merged.nodes
        .filter((n) => n.tier === 1)
        .map((n) => n.identifier)
        .sort(),
    ).toEqual([...hard.lotMerge.sources].sort());
    const repack = (await traceGenealogy(database.db, { itemId: await itemId(hard.repack.bulkLot), direction: "forward", sites: null }))!;
    expect(repack.nodes.filter((n) => n.tier === 1).map((n) => n.kind)).toEqual(hard.repack.containers.map(() => "container"));
  });

  it("do not walk a rework loop but reach the replacement part", async () => {
    const reworked = await itemId(hard.reworkedSerial.serial);
    const trace = (await traceGenealogy(database.db, { itemId: reworked, direction: "backward", sites: null }))!;
    expect(trace.nodes.filter((n) => n.id === reworked)).toHaveLength(1);
    expect(trace.cycles).toEqual([]);
    expect(trace.nodes.some((n) => n.via?.kind === "consume" && n.tier === 1 && n.kind === "serial")).toBe(true);
  });

  it("stop at the node cap and say so", async () => {
    const trace = (await traceGenealogy(database.db, { itemId: rawLot, direction: "forward", sites: null, nodeCap: 5 }))!;
    expect(trace.nodes).toHaveLength(5);
    expect(trace.truncated).toBe(true);
  });
});

describe("the rule in force at each step", () => {
  it("is the material's rule and the site's version at the step's event time, legacy before version 1", async () => {
    const materialIds = new Map((await q<{ id: number; part_number: string }>`select id, part_number from materials`).map((m) => [m.part_number, m.id]));
    const seen = new Set<string>();
    for (const [start, direction] of [
      [device, "backward"],
      [rawLot, "forward"],
    ] as const) {
      const trace = (await traceGenealogy(database.db, { itemId: start, direction, sites: null }))!;
      for (const n of trace.nodes) {
        const expected = await ruleInForce(database.db, {
          materialId: materialIds.get(n.partNumber)!,
          siteId: siteIds.get(n.siteCode)!,
          at: new Date(n.eventAt),
        });
        expect(n.rule.state).toBe(expected.state);
        if (expected.state !== "legacy") expect(n.rule.version).toBe(expected.version.version);
        if (expected.state === "ruled") expect(n.rule.trackingMode).toBe(expected.rule.trackingMode);
        const at = new Date(n.eventAt).getTime();
        if (n.rule.state === "legacy") expect(at).toBeLessThan(V1.getTime());
        else expect(n.rule.version).toBe(at < V2.getTime() ? 1 : 2);
        seen.add(n.rule.state === "legacy" ? "legacy" : `v${n.rule.version}`);
      }
    }
    // The raw lot was received before version 1: both traces together show every period.
    expect(seen).toEqual(new Set(["legacy", "v1", "v2"]));
  });

  it("shows SUB-1005 at EIN lot-tracked under version 1 and serialized under version 2", async () => {
    const [lot] = await q<{ id: string }>`select t.id from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = ${hard.upgradedLotToSerial.partNumber} and s.code = 'EIN' and t.kind = 'lot' and t.created_at >= ${V1} order by t.id limit 1`;
    const [serial] = await q<{ id: string }>`select t.id from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
      where m.part_number = ${hard.upgradedLotToSerial.partNumber} and s.code = 'EIN' and t.kind = 'serial' order by t.id limit 1`;
    const lotTrace = (await traceGenealogy(database.db, { itemId: Number(lot!.id), direction: "backward", sites: null }))!;
    const serialTrace = (await traceGenealogy(database.db, { itemId: Number(serial!.id), direction: "backward", sites: null }))!;
    expect(lotTrace.nodes[0]!.rule).toEqual({ state: "ruled", trackingMode: "lot", version: 1 });
    expect(serialTrace.nodes[0]!.rule).toEqual({ state: "ruled", trackingMode: "serial", version: 2 });
  });

  it("says unruled when a version is in force but the material has no rule", async () => {
    // EPC-1001 has no rule in version 1 at PEN (the demo plant adds it in version 2).
    const trading = await addItem("lot", "GX-EPC-LOT-1", "EPC-1001", "PEN", new Date("2025-03-01T00:00:00Z"));
    const trace = (await traceGenealogy(database.db, { itemId: trading, direction: "forward", sites: null }))!;
    expect(trace.nodes[0]!.rule).toEqual({ state: "unruled", trackingMode: null, version: 1 });
  });
});

describe("trace precision", () => {
  it("is unit through serials, lot once a lot is on the path", async () => {
    const trace = (await traceGenealogy(database.db, { itemId: device, direction: "backward", sites: null }))!;
    expect(trace.nodes[0]!.precision).toBe("unit");
    for (const n of trace.nodes.filter((x) => x.tier === 1)) expect(n.precision).toBe(n.kind === "serial" ? "unit" : "lot");
    // Beyond tier 1 every path has met a lot (the subassembly's machined parts at the latest).
    for (const n of trace.nodes.filter((x) => x.tier >= 2 && x.kind === "lot")) expect(n.precision).toBe("lot");
  });

  it("sees through containers: the devices on a pallet are traced to the unit", async () => {
    const [pallet] = await q<{ id: string }>`select t.id from trace_items t join sites s on s.id = t.site_id where t.kind = 'container' and s.code = 'EIN'
      and exists (select 1 from genealogy_edges e where e.output_item_id = t.id and e.kind = 'aggregate') order by t.id limit 1`;
    const trace = (await traceGenealogy(database.db, { itemId: Number(pallet!.id), direction: "backward", sites: null }))!;
    const devices = trace.nodes.filter((n) => n.tier === 1);
    expect(devices.length).toBeGreaterThan(1);
    expect(devices.every((n) => n.kind === "serial" && n.precision === "unit")).toBe(true);
  });

  it("is none once a path crosses a material untracked at the time", async () => {
    const after = new Date("2025-10-01T00:00:00Z");
    const gloves = await addItem("lot", "GX-CON-1", "CON-1001", "EIN", after);
    const unit = await addItem("serial", "GX-FIN-UNTRACKED", "FIN-1001", "EIN", after);
    await addEdge(gloves, unit, "EIN", after);
    const trace = (await traceGenealogy(database.db, { itemId: unit, direction: "backward", sites: null }))!;
    expect(node(trace, "GX-CON-1")).toMatchObject({ precision: "none", rule: { state: "ruled", trackingMode: "none", version: 2 } });
  });
});

describe("the recall", () => {
  let mergedLot = 0;
  beforeAll(async () => {
    // Downstream of the merge hard case: a machined lot made only from the merged lot, a device
    // consuming it directly, an assembly lot mixing it with another subassembly serial, and devices
    // built from the assembly lot (one also directly from the machined lot).
    const t = new Date("2025-05-01T00:00:00Z");
    mergedLot = await itemId(hard.lotMerge.merged);
    const machined = await addItem("lot", "GX-MCH-M", "MCH-1001", "EIN", t);
    const direct = await addItem("serial", "GX-FIN-DIRECT", "FIN-1001", "EIN", t);
    const assembly = await addItem("lot", "GX-ASM-MIX", "ASM-1001", "EIN", t);
    const other = await addItem("serial", "GX-SUB-OTHER", "SUB-1008", "EIN", t);
    const viaAssembly = await addItem("serial", "GX-FIN-VIA-ASM", "FIN-1001", "EIN", t);
    const both = await addItem("serial", "GX-FIN-BOTH", "FIN-1001", "EIN", t);
    await addEdge(mergedLot, machined, "EIN", t);
    await addEdge(machined, direct, "EIN", t);
    await addEdge(machined, assembly, "EIN", t);
    await addEdge(other, assembly, "EIN", t);
    await addEdge(assembly, viaAssembly, "EIN", t);
    await addEdge(assembly, both, "EIN", t);
    await addEdge(machined, both, "EIN", t);
  });

  it("marks devices behind a merge candidates from either source lot", async () => {
    const recall = (await recallFrom(database.db, { itemId: await itemId(hard.lotMerge.sources[0]!), sites: null }))!;
    expect(recall.rows.map((r) => [r.identifier, r.certainty]).sort()).toEqual([
      ["GX-FIN-BOTH", "candidate"],
      ["GX-FIN-DIRECT", "candidate"],
      ["GX-FIN-VIA-ASM", "candidate"],
    ]);
    expect(recall.bySite).toEqual([{ siteCode: "EIN", certain: 0, candidate: 3, total: 3 }]);
  });

  it("from the merged lot: certain where some path avoids the mixed assembly lot, candidate where none does", async () => {
    const recall = (await recallFrom(database.db, { itemId: mergedLot, sites: null }))!;
    expect(Object.fromEntries(recall.rows.map((r) => [r.identifier, r.certainty]))).toEqual({
      "GX-FIN-DIRECT": "certain",
      "GX-FIN-BOTH": "certain",
      "GX-FIN-VIA-ASM": "candidate",
    });
    // The machined and assembly lots are reached but are not finished items.
    expect(recall.reached).toBe(6);
    expect(recall.commingling).toBe(1);
  });

  it("lists the finished devices of a raw lot, never its pallets, and counts them by site", async () => {
    const { recall, forward } = (await exploreGenealogy(database.db, { itemId: rawLot, sites: null }))!;
    const finished = forward.nodes.filter((n) => n.partNumber.startsWith("FIN-") && n.kind === "serial");
    expect(recall.rows.map((r) => r.id).sort()).toEqual(expect.arrayContaining(finished.map((n) => n.id).sort()));
    expect(recall.rows.every((r) => r.kind !== "container")).toBe(true);
    expect(recall.bySite.reduce((sum, s) => sum + s.total, 0)).toBe(recall.rows.length);
    expect(recall.certain + recall.candidate).toBe(recall.rows.length);
  });

  it("exports as CSV, audited with the file's digest", async () => {
    const response = (await recallCsvLoader(args(`/genealogy/${mergedLot}/recall.csv`, "gx.all", { itemId: String(mergedLot) }))) as Response;
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(new RegExp(`^attachment; filename="c981-recall-${hard.lotMerge.merged}-\\d+\\.csv"$`));
    const body = await response.text();
    const lines = body.trim().split("\r\n");
    expect(lines[0]).toBe(
      "recalled_from,recalled_from_part_number,recalled_from_site,item_id,identifier,kind,part_number,site,status,tier,recall,trace_precision,made_at,tracking_mode_then,rule_set_version_then,open_quality_events",
    );
    expect(
      lines
        .slice(1)
        .map((l) => l.split(",")[4] + ":" + l.split(",")[10])
        .sort(),
    ).toEqual(["GX-FIN-BOTH:certain", "GX-FIN-DIRECT:certain", "GX-FIN-VIA-ASM:candidate"]);
    expect(lines[1]).toMatch(/,serial,1,$/);
    const [audit] = await q<{ actor: string; action: string; entity_id: string; after: { sha256: string; certain: number; candidate: number } }>`
      select actor, action, entity_id, after from audit_trail order by seq desc limit 1`;
    expect(audit).toMatchObject({ actor: "gx.all", action: "genealogy.recall_export", entity_id: String(mergedLot), after: { certain: 2, candidate: 1 } });
    expect(audit!.after.sha256).toBe(createHash("sha256").update(body).digest("hex"));
  });
});

describe("cycles in imported data", () => {
  it("end the walk and are reported as a finding, both ways", async () => {
    const t = new Date("2026-01-10T00:00:00Z");
    const a = await addItem("lot", "GX-LOOP-A", "MCH-1002", "EIN", t);
    const b = await addItem("lot", "GX-LOOP-B", "MCH-1002", "EIN", t);
    const tail = await addItem("serial", "GX-LOOP-OUT", "FIN-1002", "EIN", t);
    await addEdge(a, b, "EIN", t);
    await addEdge(b, a, "EIN", t);
    await addEdge(b, tail, "EIN", t);
    const forward = (await traceGenealogy(database.db, { itemId: a, direction: "forward", sites: null }))!;
    expect(forward.nodes.map((n) => [n.identifier, n.tier])).toEqual([
      ["GX-LOOP-A", 0],
      ["GX-LOOP-B", 1],
      ["GX-LOOP-OUT", 2],
    ]);
    expect(forward.cycles).toEqual([
      {
        items: 2,
        path: [
          { id: a, identifier: "GX-LOOP-A" },
          { id: b, identifier: "GX-LOOP-B" },
          { id: a, identifier: "GX-LOOP-A" },
        ],
      },
    ]);
    const backward = (await traceGenealogy(database.db, { itemId: tail, direction: "backward", sites: null }))!;
    expect(backward.nodes.map((n) => n.identifier)).toEqual(["GX-LOOP-OUT", "GX-LOOP-B", "GX-LOOP-A"]);
    expect(backward.cycles.map((c) => c.path.map((p) => p.identifier))).toEqual([["GX-LOOP-B", "GX-LOOP-A", "GX-LOOP-B"]]);
    // The item page loads with the finding, and the recall terminates too.
    const page = (await itemLoader(args(`/genealogy/${a}`, "gx.all", { itemId: String(a) }))) as Awaited<ReturnType<typeof itemLoader>>;
    expect(page.explorer.forward.cycles).toHaveLength(1);
    expect(page.explorer.recall.rows.map((r) => r.identifier)).toEqual(["GX-LOOP-OUT"]);
  });
});

describe("site scoping", () => {
  let einLot = 0;
  let cltLot = 0;
  beforeAll(async () => {
    // Material shipped across sites: an EIN lot consumed into a CLT lot, made into a CLT device.
    const t = new Date("2025-11-01T00:00:00Z");
    einLot = await addItem("lot", "GX-XSITE-EIN", "RAW-1002", "EIN", t);
    cltLot = await addItem("lot", "GX-XSITE-CLT", "MCH-1003", "CLT", t);
    const cltDevice = await addItem("serial", "GX-XSITE-DEVICE", "FIN-1003", "CLT", t);
    await addEdge(einLot, cltLot, "CLT", t);
    await addEdge(cltLot, cltDevice, "CLT", t);
  });

  it("shows everything to a reader of all sites", async () => {
    const trace = (await traceGenealogy(database.db, { itemId: einLot, direction: "forward", sites: null }))!;
    expect(trace.nodes.map((n) => n.identifier)).toEqual(["GX-XSITE-EIN", "GX-XSITE-CLT", "GX-XSITE-DEVICE"]);
    expect(trace.withheld).toBe(0);
  });

  it("withholds items at unseen sites — counted, not shown, not traced beyond", async () => {
    const einOnly = (await traceGenealogy(database.db, { itemId: einLot, direction: "forward", sites: [siteIds.get("EIN")!] }))!;
    expect(einOnly.nodes.map((n) => n.identifier)).toEqual(["GX-XSITE-EIN"]);
    expect(einOnly.withheld).toBe(1);
    const cltOnly = (await traceGenealogy(database.db, { itemId: cltLot, direction: "backward", sites: [siteIds.get("CLT")!] }))!;
    expect(cltOnly.nodes.map((n) => n.identifier)).toEqual(["GX-XSITE-CLT"]);
    expect(cltOnly.withheld).toBe(1);
    const recall = (await recallFrom(database.db, { itemId: einLot, sites: [siteIds.get("EIN")!] }))!;
    expect(recall.rows).toEqual([]);
    expect(recall.withheld).toBe(1);
  });

  it("answers 404 for another site's item on the page and the export, and keeps its identifiers out of the page", async () => {
    expect(await statusOf(() => itemLoader(args(`/genealogy/${einLot}`, "gx.clt", { itemId: String(einLot) })))).toBe(404);
    expect(await statusOf(() => recallCsvLoader(args(`/genealogy/${einLot}/recall.csv`, "gx.clt", { itemId: String(einLot) })))).toBe(404);
    const page = (await itemLoader(args(`/genealogy/${cltLot}`, "gx.clt", { itemId: String(cltLot) }))) as Awaited<ReturnType<typeof itemLoader>>;
    expect(JSON.stringify(page)).not.toContain("GX-XSITE-EIN");
    expect(page.explorer.backward.withheld).toBe(1);
  });

  it("counts search matches at unseen sites without showing them", async () => {
    const result = await searchTraceItems(database.db, { q: "GX-XSITE-EIN", sites: [siteIds.get("CLT")!] });
    expect(result.exact).toEqual([]);
    expect(result.exactWithheld).toBe(1);
  });
});

describe("identifier search", () => {
  it("finds every item with an identifier, several materials included, and a few that start with it", async () => {
    // The same lot number for two materials (two suppliers' numbering met at one site).
    await addItem("lot", "GX-DUP-7", "RAW-1003", "EIN", new Date("2025-04-01T00:00:00Z"));
    await addItem("lot", "GX-DUP-7", "RES-1003", "CLT", new Date("2025-04-01T00:00:00Z"));
    await addItem("lot", "GX-DUP-77", "RES-1003", "EIN", new Date("2025-04-01T00:00:00Z"));
    const response = (await searchLoader(args("/genealogy?q=GX-DUP-7", "gx.all"))) as Awaited<ReturnType<typeof searchLoader>>;
    expect(response.result!.exact.map((r) => `${r.partNumber}@${r.siteCode}`)).toEqual(["RES-1003@CLT", "RAW-1003@EIN"]);
    expect(response.result!.prefix.map((r) => r.identifier)).toEqual(["GX-DUP-77"]);
    const seeded = await searchTraceItems(database.db, { q: "RMERGE00", sites: null });
    expect(seeded.exact).toEqual([]);
    expect(seeded.prefix.map((r) => r.identifier)).toEqual([...hard.lotMerge.sources, hard.lotMerge.merged]);
  });

  it("keeps a prefix search to the identifiers that truly start with the text", async () => {
    // ":" follows "9", "é" sorts after "e" by code point; none of these start with the others.
    for (const identifier of ["GX-PRE9", "GX-PRE9A", "GX-PRE:", "GX-PRE9é", "GX-PRE9\u{1F600}", "GX-PRF"]) {
      await addItem("lot", identifier, "RAW-1004", "EIN", new Date("2025-04-01T00:00:00Z"));
    }
    const result = await searchTraceItems(database.db, { q: "GX-PRE9", sites: null });
    expect(result.exact.map((r) => r.identifier)).toEqual(["GX-PRE9"]);
    // Sorted here: the database orders by its own collation (code point order or a linguistic one).
    const sorted = (rows: { identifier: string }[]) => rows.map((r) => r.identifier).sort();
    expect(sorted(result.prefix)).toEqual(["GX-PRE9A", "GX-PRE9é", "GX-PRE9\u{1F600}"].sort());
    expect(sorted((await searchTraceItems(database.db, { q: "GX-PRE", sites: null })).prefix)).toEqual(
      ["GX-PRE9", "GX-PRE9A", "GX-PRE9é", "GX-PRE9\u{1F600}", "GX-PRE:"].sort(),
    );
    // Two characters look up exact matches only: a short prefix would match much of a large plant.
    expect((await searchTraceItems(database.db, { q: "GX", sites: null })).prefix).toEqual([]);
  });

  it("pages the identifiers that start with the text: together the pages list exactly the visible matches, once each", async () => {
    // 47 matches over three sites and two materials (same identifiers at two sites), plus one exact.
    await addItem("lot", "GX-PAGE", "RAW-1003", "EIN", new Date("2025-04-01T00:00:00Z"));
    for (let i = 0; i < 20; i++) {
      const identifier = `GX-PAGE-${String(i).padStart(2, "0")}`;
      await addItem("lot", identifier, "RAW-1003", "EIN", new Date("2025-04-01T00:00:00Z"));
      await addItem("lot", identifier, "RES-1003", "CLT", new Date("2025-04-01T00:00:00Z"));
    }
    for (let i = 0; i < 7; i++) await addItem("serial", `GX-PAGEX${i}`, "RAW-1004", "EIN", new Date("2025-04-01T00:00:00Z"));
    // The oracle: plain SQL over every item whose identifier starts with the text, per reader.
    const oracle = async (site: string | null) =>
      (
        await q<{ id: string }>`
          select t.id from trace_items t join sites s on s.id = t.site_id
          where left(t.identifier, 7) = 'GX-PAGE' and t.identifier <> 'GX-PAGE' and (${site}::text is null or s.code = ${site})`
      )
        .map((r) => Number(r.id))
        .sort((a, b) => a - b);
    for (const [user, site] of [
      ["gx.all", null],
      ["gx.ein", "EIN"],
    ] as const) {
      const expected = await oracle(site);
      const seen: number[] = [];
      const first = (await searchLoader(args("/genealogy?q=GX-PAGE", user))) as Awaited<ReturnType<typeof searchLoader>>;
      const pageCount = first.result!.prefixPageCount;
      expect(first.result!.prefixTotal).toBe(expected.length);
      expect(pageCount).toBe(Math.ceil(expected.length / 20));
      expect(first.result!.exact.map((r) => r.identifier)).toEqual(["GX-PAGE"]);
      for (let page = 1; page <= pageCount; page++) {
        const response = (await searchLoader(args(`/genealogy?q=GX-PAGE&page=${page}`, user))) as Awaited<ReturnType<typeof searchLoader>>;
        expect(response.result!.prefixPage).toBe(page);
        expect(response.result!.prefix.length).toBe(page < pageCount ? 20 : expected.length - 20 * (pageCount - 1));
        seen.push(...response.result!.prefix.map((r) => r.id));
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort((a, b) => a - b)).toEqual(expected);
      // A page past the last shows the last; a bad page number shows the first.
      const past = (await searchLoader(args(`/genealogy?q=GX-PAGE&page=${pageCount + 5}`, user))) as Awaited<ReturnType<typeof searchLoader>>;
      expect(past.result!.prefixPage).toBe(pageCount);
      const bad = (await searchLoader(args("/genealogy?q=GX-PAGE&page=x", user))) as Awaited<ReturnType<typeof searchLoader>>;
      expect(bad.result!.prefixPage).toBe(1);
    }
  });

  it("treats LIKE characters literally and ignores an empty query", async () => {
    expect((await searchTraceItems(database.db, { q: "RMERGE%", sites: null })).prefix).toEqual([]);
    expect((await searchTraceItems(database.db, { q: "RMERGE_0A", sites: null })).prefix).toEqual([]);
    const empty = (await searchLoader(args("/genealogy?q=%20", "gx.all"))) as Awaited<ReturnType<typeof searchLoader>>;
    expect(empty).toEqual({ q: "", result: null });
  });
});
