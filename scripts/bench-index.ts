/**
 * npm run bench:index [-- --data-dir DIR] [--scale 1] [--events 1000] [--runs 5]
 *
 * The genealogy index's catch-up (ADR 044) against its full rebuild (ADR 011), on the large plant
 * (`--scale 1`: 1M items, 3M edges; seeded into an empty data dir first, about 3 minutes) or a
 * fraction of it. Each run writes, in one transaction, the rows an EPCIS import of `--events`
 * events writes (bench:import: 1.88 items and 0.8 edges per event; plus 2 % of the edges superseded
 * and 5 % of the items given a new status), then times bringing the held index to that snapshot's
 * counter through the change log; the full rebuild is timed on the same data. It also times the
 * walk (the analysis's forward reach of SUB-1003 at EIN) on the caught-up index and on a rebuilt
 * one: the catch-up must not slow the walks. Prints PASS/FAIL against 200 ms.
 */
import { parseArgs } from "node:util";
import { canonicalGenealogy, type CompactGenealogy } from "../app/domain/genealogy-graph";
import { catchUpGenealogyIndex, type GenealogyIndex, loadGenealogyIndex } from "../app/services/genealogy-index.server";
import { openDatabase } from "../app/utils/db.server";
import { readEnv } from "../app/utils/env.server";
import { prepareDatabase } from "../server/prepare-database";

const { values } = parseArgs({
  options: {
    "data-dir": { type: "string", default: ".data-index" },
    scale: { type: "string", default: "1" },
    events: { type: "string", default: "1000" },
    runs: { type: "string", default: "5" },
  },
  strict: true,
});
const SCALE = Number(values.scale);
const EVENTS = Number(values.events);
const RUNS = Math.max(1, Number(values.runs));
const TARGET_MS = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms`;

/**
 * Median times of the analysis's walk (forward reach of SUB-1003's items at EIN) on two indexes,
 * after a warm-up, runs interleaved (so JIT and garbage collection weigh on both alike).
 */
function walkMs(a: CompactGenealogy, b: CompactGenealogy): { a: number; b: number; reached: number } {
  const top = new Set<string>();
  const times: [number[], number[]] = [[], []];
  let reached = 0;
  for (let i = 0; i < 26; i++) {
    for (const [k, graph] of [a, b].entries()) {
      const start = graph.itemsOf("SUB-1003", "EIN");
      const t = performance.now();
      reached = graph.forwardReach(start, top).ids.length;
      if (i >= 5) times[k]!.push(performance.now() - t);
    }
  }
  return { a: median(times[0]), b: median(times[1]), reached };
}

async function main() {
  const env = readEnv({ ...process.env, C981_DATA_DIR: values["data-dir"] });
  const database = await openDatabase(env, { max: 4 });
  try {
    await prepareDatabase(database, { seed: "none", keysDir: env.C981_SIGNING_KEYS_DIR });
    const [{ edges }] = (await database.client`select count(*)::int as edges from genealogy_edges`) as unknown as [{ edges: number }];
    if (edges === 0) {
      const { seedLargePlant } = await import("../app/seed/large-plant.server");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      const t = performance.now();
      await seedLargePlant(database, await loadKeyRing(database.db, env.C981_SIGNING_KEYS_DIR), { scale: SCALE, log: console.log });
      console.log(`seeded the large plant at scale ${SCALE} in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      await database.client`vacuum analyze trace_items`;
      await database.client`vacuum analyze genealogy_edges`;
    }
    const sql = database.client;
    let t = performance.now();
    let index: GenealogyIndex = await loadGenealogyIndex(sql);
    const firstLoad = performance.now() - t;
    console.log(
      `C-981 bench:index — PostgreSQL ${database.embedded ? `embedded (${values["data-dir"]})` : "at DATABASE_URL"}, node ${process.version}; ${index.items.toLocaleString("en")} items, ${index.edges.toLocaleString("en")} edges; full load ${ms(firstLoad)}`,
    );
    const [ein] = await sql`select id from sites where code = 'EIN'`;
    const materials = (await sql`select distinct material_id from trace_items where site_id = ${ein!.id} and kind = 'lot' limit 20`).map((r) =>
      Number(r.material_id),
    );
    const items = Math.round(EVENTS * 1.88);
    const newEdges = Math.round(EVENTS * 0.8);
    const catchUps: number[] = [];
    const writes: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      t = performance.now();
      const tag = `BI-${Date.now()}-${run}`;
      await sql.begin(async (tx) => {
        const [range] = await tx`select min(id)::int as lo, max(id)::int as hi from trace_items`;
        const fresh = (
          await tx`insert into trace_items (kind, identifier, material_id, site_id, quantity, unit, status, created_at, provenance_kind, provenance_file_digest, provenance_event_id)
            select 'lot', ${tag}::text || '-' || g, (${materials}::int[])[1 + g % ${materials.length}::int], ${ein!.id}, 10, 'EA', 'stock', now(), 'import', ${"ef".repeat(32)}, ${tag}::text || '-i-' || g
            from generate_series(1, ${items}) g returning id`
        ).map((r) => Number(r.id));
        await tx`insert into genealogy_edges (event_ref, kind, input_item_id, output_item_id, quantity, unit, site_id, occurred_at, provenance_kind, provenance_file_digest, provenance_event_id)
          select ${tag}::text, 'consume', (select id from trace_items where id >= ${range!.lo}::bigint + (g * 7919) % (${range!.hi}::bigint - ${range!.lo}::bigint) order by id limit 1),
            (${fresh}::bigint[])[1 + g % ${fresh.length}::int], 1, 'EA', ${ein!.id}, now(), 'import', ${"ef".repeat(32)}, ${tag}::text || '-e-' || g
          from generate_series(1, ${newEdges}) g`;
        await tx`update genealogy_edges set superseded_at = now() where id in (select id from genealogy_edges where superseded_at is null and id % 97 = ${run}::int limit ${Math.round(newEdges * 0.02)})`;
        await tx`update trace_items set status = 'consumed' where id in (select id from trace_items where status = 'stock' and id % 89 = ${run}::int limit ${Math.round(items * 0.05)})`;
      });
      writes.push(performance.now() - t);
      t = performance.now();
      const caught = await sql.begin("isolation level repeatable read read only", (tx) => catchUpGenealogyIndex(tx, index));
      const took = performance.now() - t;
      if (!caught) throw new Error("the change log could not say: catch-up fell back");
      catchUps.push(took);
      console.log(
        `  run ${run + 1}: import of ${EVENTS} events' rows written in ${ms(writes.at(-1)!)}; index caught up ${index.changes} → ${caught.changes} in ${ms(took)} (${caught.caughtUp?.rows} rows read in ${caught.caughtUp?.readMs} ms, applied in ${caught.caughtUp?.applyMs} ms)`,
      );
      index = caught;
    }
    t = performance.now();
    const rebuilt = await loadGenealogyIndex(sql);
    const rebuildMs = performance.now() - t;
    if (rebuilt.changes !== index.changes || rebuilt.items !== index.items || rebuilt.edges !== index.edges)
      throw new Error(
        `caught-up index (${index.changes}, ${index.items} items, ${index.edges} edges) differs from the rebuilt one (${rebuilt.changes}, ${rebuilt.items}, ${rebuilt.edges})`,
      );
    const verified = rebuilt.edges <= 1_000_000 ? canonicalGenealogy(index.graph) === canonicalGenealogy(rebuilt.graph) : null;
    if (verified === false) throw new Error("caught-up index differs from the rebuilt one (canonical serialisation)");
    const walk = walkMs(index.graph, rebuilt.graph);
    const catchUp = median(catchUps);
    console.log(`catch-up after an import of ${EVENTS} events  median ${ms(catchUp)} (runs: ${catchUps.map((x) => x.toFixed(0)).join(", ")} ms)`);
    console.log(`full rebuild of the same index                 ${ms(rebuildMs)}  → catch-up ${(rebuildMs / catchUp).toFixed(0)}x faster`);
    console.log(
      `caught-up index = rebuilt                      ${verified === null ? "counts and counter equal (canonical comparison skipped above 1M edges)" : "byte for byte (canonical serialisation)"}`,
    );
    console.log(
      `walk (forward reach of SUB-1003 at EIN)        caught-up ${ms(walk.a)}, rebuilt ${ms(walk.b)} (median of 21 after 5 warm-up; ${walk.reached.toLocaleString("en")} items reached; ratio ${(walk.a / walk.b).toFixed(2)})`,
    );
    const pass = catchUp <= TARGET_MS;
    console.log(`${pass ? "PASS" : "FAIL"}  index catch-up ${ms(catchUp)} after ${EVENTS} events (target ≤ ${TARGET_MS} ms; rebuild ${ms(rebuildMs)})`);
    if (!pass) process.exitCode = 1;
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
