/**
 * Conformance of scan decisions (issue 26, item 3; ADR 043): the runtime client's offline answers
 * equal the API's, scan for scan. The client pulls the demo plant's EIN rule set with the reference
 * client (clients/runtime), verifies it (signatures, chain, schema version 2), and decides in-process
 * with `compileScanner` on the document it verified and that document's digest; the API decides the
 * same scans in batches of 1,000 over HTTP. Real PostgreSQL.
 *
 * The corpus is generated from the EIN formats: examples of every format (pattern formats at their
 * shortest and longest; GS1 formats bracketed, raw with `]C1`, raw without a symbology identifier,
 * and raw with a non-GS1 identifier), the shared witness string of every look-alike pair and every
 * self-ambiguous format the look-alike module reports among the EIN formats, GS1 strings carrying the
 * GTIN of each material (so wrong-material and unknown-GTIN strings are among them), and strings of no
 * format. Every string is scanned at every (parent, step, component) of the EIN routings, sampled
 * evenly when the product exceeds the corpus cap.
 */
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeClient } from "../../clients/runtime/src";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { createRuleSetVersion } from "../../app/services/rule-sets.server";
import { createRuntimeClient } from "../../app/services/runtime-clients.server";
import { publicJwks, type KeyRing } from "../../app/utils/signing.server";
import type { PatternSegment } from "../../packages/identifiers/src/identifier-format";
import { lookAlikesAmong, type NamedFormat } from "../../packages/identifiers/src/look-alike";
import { compileScanner, type ScanInput, type ScanRuleSet } from "../../packages/identifiers/src/scan-decision";
import { createRuntimeApi, type RuntimeApi } from "../../server/runtime-api";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let keyRing: KeyRing;
let api: RuntimeApi;
let portal: http.Server;
let portalUrl = "";
let token = "";
let stateDir = "";

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  const [ein] = await database.client`select id from sites where code = 'EIN'`;
  // A fresh, unexpired version in force (the client refuses an expired one).
  await createRuleSetVersion(database.db, { siteId: ein!.id as number, actor: "test", reason: "conformance setup", changes: [], kind: "renewal" }, keyRing);
  const app = express();
  app.get(
    "/.well-known/jwks.json",
    (_req, res, next) => void publicJwks(database.db).then((jwks) => void res.type("application/jwk-set+json").send(JSON.stringify(jwks)), next),
  );
  api = await createRuntimeApi(database);
  app.use("/api/v1", api.router);
  portal = http.createServer(app);
  portal.listen(0, "127.0.0.1");
  await new Promise((r) => portal.once("listening", r));
  portalUrl = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
  ({ token } = await createRuntimeClient(database.db, "test", { name: "scan-conformance", sites: ["EIN"], reason: "conformance test" }));
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), "c981-scan-conformance-"));
}, 120_000);

afterAll(async () => {
  portal?.closeAllConnections();
  await new Promise<void>((r) => (portal ? portal.close(() => r()) : r()));
  await api?.close();
  if (stateDir) await fs.rm(stateDir, { recursive: true, force: true });
});

const SAMPLE: Record<string, string> = { digit: "7", upper: "K", lower: "k", alpha: "K", alnum: "K", upperAlnum: "K", hex: "9" };
const OTHER: Record<string, string> = { digit: "0", upper: "Z", lower: "z", alpha: "z", alnum: "3", upperAlnum: "4", hex: "F" };

/** A pattern format's shortest and longest strings, from its segments. */
function patternExamples(segments: readonly PatternSegment[]): string[] {
  const build = (longest: boolean) =>
    segments
      .map((s) => ("literal" in s ? s.literal : Array.from({ length: longest ? s.max : s.min }, (_, i) => (i % 2 ? OTHER[s.class] : SAMPLE[s.class])).join("")))
      .join("");
  return [build(false), build(true)];
}

const GS = "\u001d";
/** GS1 data holding these AIs, with this GTIN where the format has AI 01: bracketed and raw (GS after variable-length fields). */
function gs1Examples(ais: readonly string[], gtin: string): { bracketed: string; raw: string } {
  const value: Record<string, string> = { "01": gtin, "21": "S123", "10": "AB12", "00": "008712340000000013" };
  const fixed = new Set(["01", "00"]);
  const bracketed = ais.map((ai) => `(${ai})${value[ai] ?? "X1"}`).join("");
  const raw = ais.map((ai, i) => `${ai}${value[ai] ?? "X1"}${!fixed.has(ai) && i < ais.length - 1 ? GS : ""}`).join("");
  return { bracketed, raw };
}

function corpus(document: ScanRuleSet): { scanned: string; symbologyId?: string }[] {
  const strings = new Map<string, { scanned: string; symbologyId?: string }>();
  const add = (scanned: string, symbologyId?: string) =>
    strings.set(JSON.stringify([scanned, symbologyId ?? null]), symbologyId ? { scanned, symbologyId } : { scanned });
  const gtins = [...new Set(document.rules.map((r) => r.gtin).filter((g): g is string => g !== null))].sort();
  for (const format of Object.values(document.identifierFormats)) {
    if (format.definition.kind === "pattern") for (const s of patternExamples(format.definition.segments)) add(s);
    else {
      // Every GTIN at the site: the right material for some lines, another material (or none) for others.
      for (const gtin of [...gtins.slice(0, 6), "09506000134352"]) {
        const { bracketed, raw } = gs1Examples(format.definition.ais, gtin);
        add(bracketed);
        add(raw, "]C1");
        add(raw);
        add(raw, "]Q1");
      }
    }
  }
  const named: NamedFormat[] = Object.entries(document.identifierFormats).map(([code, f]) => ({ code, identifies: f.identifies, definition: f.definition }));
  const report = lookAlikesAmong(named);
  expect(report.pairs.length).toBeGreaterThan(0);
  for (const pair of report.pairs) {
    add(pair.example.data);
    if (pair.example.readings.length > 0) add(pair.example.data, "]C1");
  }
  for (const self of report.selfAmbiguous) {
    add(self.example.data);
    add(self.example.data, "]C1");
  }
  // No format, malformed GS1, a URI.
  for (const s of ["NOT-A-LABEL", "S0000100", "s00001005", "(01)123", "https://id.example.com/01/09506000134352/10/AB12", `0109506000134352${GS}`]) add(s);
  add("01095060001343521", "]C1");
  return [...strings.values()];
}

describe("scan decisions: the client offline equals the API online", () => {
  it("on a corpus generated from the demo plant's EIN formats, every look-alike pair's witness included", async () => {
    const client = await RuntimeClient.open({
      url: portalUrl,
      site: "EIN",
      token,
      trust: keyRing.active.map((k) => k.kid),
      stateDir,
      waitSeconds: 0,
      retryMs: 50,
      maxRetryMs: 200,
    });
    expect((await client.syncOnce()).ok).toBe(true);
    const verified = client.ruleSet();
    const { digest, version } = client.status();
    expect(verified?.schemaVersion).toBe(2);
    const scanner = compileScanner(verified as unknown as ScanRuleSet, digest!);

    const document = verified as unknown as ScanRuleSet;
    const strings = corpus(document);
    const contexts: Omit<ScanInput, "scanned">[] = [];
    for (const rule of document.rules)
      for (const step of rule.routing)
        for (const consumed of step.consumes) {
          contexts.push({ parent: rule.partNumber, step: step.step, expected: consumed.component });
          contexts.push({ parent: rule.partNumber, workCentre: step.workCentre, expected: consumed.component });
        }
    contexts.push(
      { parent: "NOPE-1", step: 10, expected: "SUB-1005" },
      { parent: "FIN-1005", step: 99, expected: "SUB-1005" },
      { parent: "FIN-1005", step: 10, expected: "RAW-1001" },
    );
    // Every string at every context, sampled evenly (a stride coprime with the string count) to at most CAP scans.
    const CAP = 30_000;
    const total = strings.length * contexts.length;
    const stride = Math.max(1, Math.floor(total / CAP)) | 1;
    const scans: ScanInput[] = [];
    for (let i = 0; i < total; i += stride) scans.push({ ...contexts[Math.floor(i / strings.length)]!, ...strings[i % strings.length]! });
    // Every string appears at least once, whatever the stride.
    for (const [i, s] of strings.entries()) scans.push({ ...contexts[i % contexts.length]!, ...s });

    let compared = 0;
    const outcomes = new Map<string, number>();
    for (let start = 0; start < scans.length; start += 1000) {
      const batch = scans.slice(start, start + 1000);
      const response = await fetch(`${portalUrl}/api/v1/sites/EIN/scan-decisions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ scans: batch }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { ruleSet: { version: number; digest: string }; decisions: unknown[] };
      expect(body.ruleSet).toEqual({ version, digest });
      const offline = JSON.parse(JSON.stringify(batch.map((scan) => scanner.decide(scan)))) as { outcome: string; reason: { code: string } }[];
      for (const [i, decision] of offline.entries()) {
        expect(body.decisions[i], JSON.stringify(batch[i])).toEqual(decision);
        outcomes.set(decision.reason.code, (outcomes.get(decision.reason.code) ?? 0) + 1);
        compared++;
      }
    }
    expect(compared).toBe(scans.length);
    // The corpus reaches the outcomes that matter (not a corpus of refusals only).
    for (const code of ["accepted", "ambiguous", "wrong-material", "no-reading", "gtin-other-material", "not-consumed-here", "unknown-parent", "unknown-step"])
      expect(outcomes.get(code) ?? 0, `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    client.stop();
  }, 300_000);
});
