/**
 * npm run bench:replay [-- --data-dir DIR] [--runs N] [--seed]
 *
 * On the large plant (npm run db:seed -- --scale large; --seed loads it into an empty data dir): the
 * replay of the last 90 days (ADR 041) of a change to a mid-tier material — its own time, as the
 * analysis stores it (read through the analysis's snapshot + the pure replay) — next to a baseline
 * measured in the same run on the same data: the bare SQL fetching the same edges with their items
 * (the replay's own query, through the driver, nothing computed). Median and p95, target ≤ 2 s.
 */
import { parseArgs } from "node:util";
import { createChangeRequest } from "../app/services/change-requests.server";
import { computeImpactAnalysis } from "../app/services/impact-analysis.server";
import { genealogyIndexOf } from "../app/services/genealogy-index.server";
import { replayEdgesQuery } from "../app/queries/replay.server";
import { REPLAY_WINDOW_DAYS } from "../app/domain/replay/report";
import { openDatabase } from "../app/utils/db.server";
import { readEnv } from "../app/utils/env.server";
import { prepareDatabase } from "../server/prepare-database";

const { values } = parseArgs({
  options: { "data-dir": { type: "string", default: ".data-large" }, runs: { type: "string", default: "11" }, seed: { type: "boolean", default: false } },
  strict: true,
});
const RUNS = Math.max(3, Number(values.runs));
const MATERIAL = "SUB-1003";
const SITE = "EIN";
const TARGET_MS = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;
const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)).padStart(7);

async function main() {
  const env = readEnv({ ...process.env, C981_DATA_DIR: values["data-dir"] });
  const database = await openDatabase(env, { max: 4 });
  try {
    await prepareDatabase(database, { seed: "none", keysDir: env.C981_SIGNING_KEYS_DIR });
    const [{ edges }] = (await database.client`select count(*)::int as edges from genealogy_edges`) as unknown as [{ edges: number }];
    if (edges < 3_000_000) {
      if (!values.seed || edges > 0) {
        console.error(
          `bench:replay needs the large plant (${edges.toLocaleString("en")} edges here). Load it into an empty data dir:\n  C981_DATA_DIR=${values["data-dir"]} npm run db:seed -- --scale large\nor run npm run bench:replay -- --seed (about 3 minutes).`,
        );
        process.exitCode = 1;
        return;
      }
      const { seedLargePlant } = await import("../app/seed/large-plant.server");
      const { loadKeyRing } = await import("../app/utils/signing.server");
      await seedLargePlant(database, await loadKeyRing(database.db, env.C981_SIGNING_KEYS_DIR), { log: console.log });
    }
    let [cr] = (await database.client`select number from change_requests where title = 'bench:replay' order by id limit 1`) as unknown as { number: string }[];
    if (!cr) {
      const [engineer] = (await database.client`select id, username, display_name from users where username = 'emil.engineer'`) as unknown as {
        id: number;
        username: string;
        display_name: string;
      }[];
      cr = await createChangeRequest(
        database.db,
        { id: engineer!.id, username: engineer!.username, displayName: engineer!.display_name },
        {
          title: "bench:replay",
          justification: "benchmark of the replay on the large plant",
          riskAssessment: "none: a benchmark change request, never submitted",
          legacyDataPlan: "grandfather",
          changes: [
            {
              kind: "tracking",
              material: MATERIAL,
              sites: [SITE],
              trackingMode: "lot",
              containerTracking: false,
              identifierFormatCodes: ["EIN-LOT"],
              consumptionScan: "identify",
            },
          ],
        },
      );
    }
    await computeImpactAnalysis(database.db, cr.number); // warm-up (index load, prepared statements)
    const replayMs: number[] = [];
    let last: Awaited<ReturnType<typeof computeImpactAnalysis>>["replay"] = null;
    for (let i = 0; i < RUNS; i++) {
      last = (await computeImpactAnalysis(database.db, cr.number)).replay;
      replayMs.push(last!.durationMs);
    }
    const report = last!.report;
    const to = report.window.to;
    const from = new Date(Date.parse(to) - REPLAY_WINDOW_DAYS * 86_400_000).toISOString();
    const bareMs: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      rows = (await database.db.execute(replayEdgesQuery([{ partNumber: MATERIAL, site: SITE }], from, to))).length;
      bareMs.push(performance.now() - t);
    }
    const change = report.changes[0]!;
    console.log(
      `C-981 bench:replay — PostgreSQL at ${database.embedded ? `embedded (${values["data-dir"]})` : "DATABASE_URL"}, node ${process.version}, ${RUNS} runs`,
    );
    console.log(`replay of ${MATERIAL} at ${SITE} → lot, window ${report.window.from} … ${report.window.to} (${REPLAY_WINDOW_DAYS} days)`);
    console.log(
      `replayed: ${change.replayed.consumptions} consumptions, ${change.replayed.substitutions} substitutions, ${change.replayed.structuralEvents} structural events; cases ${JSON.stringify(report.totals)}`,
    );
    console.log(`${"".padEnd(52)} ${"median".padStart(7)} ${"p95".padStart(7)}  rows`);
    console.log(`${"bare SQL: the same edges with both items".padEnd(52)} ${f(median(bareMs))} ${f(p95(bareMs))}  ${rows.toLocaleString("en")}`);
    console.log(
      `${"replay (reads + engine), as stored".padEnd(52)} ${f(median(replayMs))} ${f(p95(replayMs))}  ${(median(replayMs) / median(bareMs)).toFixed(1)}× the bare SQL; target ≤ ${TARGET_MS} ms: ${median(replayMs) <= TARGET_MS ? "met" : "NOT met"}`,
    );
  } finally {
    await genealogyIndexOf(database.client).close();
    await database.close();
  }
}

await main();
