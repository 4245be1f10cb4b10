/**
 * Quality events from a QMS export (ADR 038), on real PostgreSQL with the demo plant: the sample
 * export's references exist in the demo plant (looked up by rule, in SQL); an import raises its rows
 * (counted in SQL, and the digest recomputed here); a refused file writes nothing (counts before and
 * after); a re-import changes nothing; a changed status goes through the audited status change;
 * site authority holds row by row; the CLI commands run in-process.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseQmsCsv } from "../../app/domain/quality-event-csv";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { importQualityEvents, type QualityImportResult } from "../../app/services/quality-event-import.server";
import type { QualityEventActor } from "../../app/services/quality-events.server";
import { createUser } from "../../app/services/users.server";
import { registerDatabase } from "../../app/utils/db.server";
import { defineAbilityFor } from "../../policies/ability";
import { qualityCommands } from "../../scripts/cli/quality";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let tmp = "";
const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/qms/qms-export.csv");
/** The refusal's sentence, written out here (not derived from policies/). */
const NEED_AT_EIN = "You need the engineer, quality reviewer or regulatory reviewer role at EIN to create quality events.";
const HEADER = "qms_id,kind,site,severity,status,disposition,title,description,raised_at,references";

/** The operator's importer (as the CLI): every site. */
const everywhere: QualityEventActor = { username: "test:qms", ability: null };

async function siteId(code: string): Promise<number> {
  const [row] = await database.client`select id from sites where code = ${code}`;
  return row!.id as number;
}

/** What any write would change: the events, their references, the audit trail's head. */
async function fingerprint() {
  const [row] = await database.client`
    select (select count(*) from quality_events)::int as events,
           (select count(*) from quality_event_references)::int as refs,
           (select coalesce(sum(row_version), 0) from quality_events)::int as versions,
           (select coalesce(max(seq), 0) from audit_trail)::text as audit`;
  return row;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const file = (...rows: string[]) => bytes(`${[HEADER, ...rows].join("\r\n")}\r\n`);
const importText = (importer: QualityEventActor, text: Uint8Array, fileName = "qms.csv") =>
  importQualityEvents(database.db, importer, { fileName, bytes: text });

function ok(result: QualityImportResult) {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return result;
}

/** Runs a CLI command in-process, its console output captured. */
async function cli(name: keyof typeof qualityCommands, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await qualityCommands[name].run(database, args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "c981-qms-"));
}, 120_000);

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("the sample QMS export", () => {
  it("names demo-plant items that exist, each at its row's site, with the material the reference says", async () => {
    const parsed = parseQmsCsv(await fs.readFile(FIXTURE));
    expect(parsed.errors).toEqual([]);
    for (const row of parsed.rows) {
      for (const ref of row.references) {
        const [found] =
          ref.kind === "material"
            ? await database.client`select count(*)::int as n from materials where part_number = ${ref.material}`
            : ref.kind === "container"
              ? await database.client`
                  select count(*)::int as n from trace_items t join sites s on s.id = t.site_id
                  where t.kind = 'container' and t.identifier = ${ref.identifier} and s.code = ${row.site}`
              : await database.client`
                  select count(*)::int as n from trace_items t join sites s on s.id = t.site_id join materials m on m.id = t.material_id
                  where t.kind = ${ref.kind} and t.identifier = ${ref.identifier} and m.part_number = ${ref.material} and s.code = ${row.site}`;
        expect({ row: row.row, ref, n: found!.n }).toEqual({ row: row.row, ref, n: 1 });
      }
    }
    // The SUB-1005 row names one lot from before EIN's first rule-set version (legacy) and one
    // serial made after the version that serialized SUB-1005 (the demo plant's hard case).
    const [legacy] = await database.client`
      select t.created_at < (select min(v.effective_from) from rule_set_versions v where v.site_id = t.site_id) as legacy
      from trace_items t where t.identifier = 'L24H00678'`;
    expect(legacy!.legacy).toBe(true);
  });
});

describe("importing a QMS export", () => {
  let first: Extract<QualityImportResult, { ok: true }>;

  it("raises every row, all in one go, and writes one import audit row with the file's SHA-256", async () => {
    const before = await fingerprint();
    const content = await fs.readFile(FIXTURE);
    first = ok(await importText(everywhere, content, "qms-export.csv"));
    expect(first.created.map((c) => c.qmsId)).toEqual(["NCR-2026-0101", "DEV-2026-0007", "RW-2026-0033", "NCR-2026-0102", "CC-2026-0012"]);
    expect(first.changed).toEqual([]);
    expect(first.nothingChanged).toBe(false);

    // Oracle: plain SQL and counts by hand (3 + 3 + 1 + 2 + 1 references in the file).
    const after = await fingerprint();
    expect(after!.events - before!.events).toBe(5);
    expect(after!.refs - before!.refs).toBe(10);
    // The demo plant's own events (QMS-DEMO-…) are not this file's.
    const rows = await database.client`
      select e.external_id, e.number, e.kind, s.code as site, e.severity, e.status, e.disposition,
             (select count(*)::int from quality_event_references r where r.quality_event_id = e.id) as refs
      from quality_events e join sites s on s.id = e.site_id where e.external_id is not null and e.external_id not like 'QMS-DEMO-%' order by e.external_id`;
    expect(rows.map((r) => [r.external_id, r.kind, r.site, r.severity, r.status, r.disposition, r.refs])).toEqual([
      ["CC-2026-0012", "complaint", "CLT", "major", "open", "pending", 1],
      ["DEV-2026-0007", "concession", "EIN", "minor", "contained", "use_as_is", 3],
      ["NCR-2026-0101", "nonconformance", "EIN", "major", "open", "pending", 3],
      ["NCR-2026-0102", "nonconformance", "EIN", "critical", "open", "pending", 2],
      ["RW-2026-0033", "rework_order", "EIN", "minor", "closed", "rework", 1],
    ]);
    for (const c of first.created) expect(rows.find((r) => r.external_id === c.qmsId)!.number).toBe(c.number);
    const [raised] = await database.client`
      select raised_at = '2026-10-22T13:30:00+02:00'::timestamptz as same from quality_events where external_id = 'DEV-2026-0007'`;
    expect(raised!.same).toBe(true);

    const digest = createHash("sha256").update(content).digest("hex");
    const audit = await database.client`
      select actor, entity_id, after from audit_trail where action = 'quality_event.import' and seq > ${before!.audit}::bigint`;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: "test:qms", entity_id: digest, after: { digest, rows: 5, created: 5, changed: 0, unchanged: 0 } });
    // Besides it, each event's own audit row(s) written by the raise.
    const [perEvent] = await database.client`
      select count(distinct entity_id)::int as n from audit_trail
      where seq > ${before!.audit}::bigint and action <> 'quality_event.import' and entity_id = any(${first.created.map((c) => c.number)})`;
    expect(perEvent!.n).toBe(5);
  });

  it("changes nothing when the same export is imported again, and says so", async () => {
    const before = await fingerprint();
    const again = ok(await importText(everywhere, await fs.readFile(FIXTURE), "qms-export.csv"));
    expect(again.nothingChanged).toBe(true);
    expect(again.created).toEqual([]);
    expect(again.changed).toEqual([]);
    expect(again.unchanged.map((u) => u.number)).toEqual(first.created.map((c) => c.number));
    expect(await fingerprint()).toEqual(before);
  });

  it("applies a status or disposition that moved on in the QMS through the audited status change", async () => {
    const text = (await fs.readFile(FIXTURE, "utf8"))
      .replace("NCR-2026-0101,NCR,EIN,major,open,,", "NCR-2026-0101,NCR,EIN,major,contained,quarantine,")
      .replace(
        "CC-2026-0012,Customer complaint,CLT,major,open,,Bar stock cracked at customer",
        "CC-2026-0012,Customer complaint,CLT,major,open,,Bar stock cracked",
      );
    const before = await fingerprint();
    const result = ok(await importText(everywhere, bytes(text), "qms-export-2.csv"));
    const ncr = first.created.find((c) => c.qmsId === "NCR-2026-0101")!.number;
    expect(result.changed).toEqual([
      { row: 2, qmsId: "NCR-2026-0101", number: ncr, from: { status: "open", disposition: "pending" }, to: { status: "contained", disposition: "quarantine" } },
    ]);
    expect(result.unchanged).toHaveLength(4);
    // A changed title is said, not applied.
    // Row 6: the header is row 1, row 2's quoted line break stays in row 2.
    expect(result.notes).toEqual([{ row: 6, column: "title", message: expect.stringContaining("changes only status and disposition") }]);
    const [row] = await database.client`select status, disposition, title, row_version from quality_events where number = ${ncr}`;
    expect(row).toMatchObject({ status: "contained", disposition: "quarantine", title: "Resin lot moisture above specification" });
    const after = await fingerprint();
    expect(after!.events).toBe(before!.events);
    expect(after!.versions).toBeGreaterThan(before!.versions);
    const audit = await database.client`select action, entity_id from audit_trail where seq > ${before!.audit}::bigint order by seq`;
    expect(audit.map((a) => a.action)).toContain("quality_event.import");
    expect(audit.some((a) => a.entity_id === ncr && a.action !== "quality_event.import")).toBe(true);
  });

  it("refuses a known qms_id at another site or of another kind", async () => {
    const before = await fingerprint();
    const result = await importText(everywhere, file("RW-2026-0033,nonconformance,EIN,minor,closed,rework,T,,,", "CC-2026-0012,complaint,EIN,major,,,T,,,"));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.row, e.column])).toEqual([
      [2, "kind"],
      [3, "site"],
    ]);
    expect(await fingerprint()).toEqual(before);
  });
});

describe("the lifecycle, row by row", () => {
  it("refuses a closed event reopened by the QMS, and a new event closed without a disposition, naming row and column", async () => {
    const before = await fingerprint();
    const result = await importText(
      everywhere,
      file(
        "RW-2026-0033,rework,EIN,minor,open,rework,Rework of returned pump,,,serial:FIN-1001:10000042",
        "LIFE-1,NCR,EIN,minor,closed,,Closed at once,,,material:FIN-1001",
      ),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.row, e.column])).toEqual([
      [2, "status"],
      [3, "disposition"],
    ]);
    expect(await fingerprint()).toEqual(before);
  });
});

describe("a refused file", () => {
  it("writes nothing and lists every problem of every row, from the parser and from the database", async () => {
    const before = await fingerprint();
    const result = await importText(
      everywhere,
      file(
        "NEW-1,NCR,EIN,major,,,Good row,,,serial:FIN-1001:10000042",
        "NEW-2,NCR,EIN,tiny,,,Bad severity,,,serial:FIN-1001:10000042",
        "NEW-3,NCR,EIN,minor,,,Serial that does not exist,,,serial:FIN-1001:NO-SUCH-SERIAL",
        "NEW-4,NCR,XYZ,minor,,,Unknown site,,,material:FIN-1001",
        "NEW-5,NCR,EIN,minor,,,Unknown material,,,material:NOPE-1",
      ),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rows).toBe(5);
    expect(result.errors.map((e) => [e.row, e.column])).toEqual([
      [3, "severity"],
      [4, "references"],
      [5, "site"],
      [6, "references"],
    ]);
    expect(await fingerprint()).toEqual(before);
    const [raised] = await database.client`select count(*)::int as n from quality_events where external_id like 'NEW-%'`;
    expect(raised!.n).toBe(0);
  });
});

describe("site authority", () => {
  it("refuses every row at a site the importer may not raise at, and a status change without the quality reviewer's right", async () => {
    const clt = await siteId("CLT");
    const engineerAtClt: QualityEventActor = { username: "e.clt", ability: defineAbilityFor([{ role: "engineer", siteId: clt }]) };
    const before = await fingerprint();
    const refused = await importText(
      engineerAtClt,
      file("AUTH-1,NCR,CLT,minor,,,At CLT,,,lot:RAW-1001:CLTL-25E00001", "AUTH-2,NCR,EIN,minor,,,At EIN,,,material:FIN-1001"),
    );
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.errors).toEqual([{ row: 3, column: "site", message: NEED_AT_EIN }]);
    expect(await fingerprint()).toEqual(before);

    const allowed = ok(await importText(engineerAtClt, file("AUTH-1,NCR,CLT,minor,,,At CLT,,,lot:RAW-1001:CLTL-25E00001")));
    expect(allowed.created).toHaveLength(1);

    // The same engineer brings a status change from the QMS: update QualityEvent is the quality reviewer's.
    const mid = await fingerprint();
    const change = await importText(engineerAtClt, file("AUTH-1,NCR,CLT,minor,contained,,At CLT,,,lot:RAW-1001:CLTL-25E00001"));
    expect(change.ok).toBe(false);
    if (change.ok) return;
    expect(change.errors).toMatchObject([{ row: 2, column: "status" }]);
    expect(await fingerprint()).toEqual(mid);
  });

  it("is the user's grants on the upload screen: a CLT-scoped engineer's EIN row is refused by the route", async () => {
    await createUser(
      database.db,
      "test",
      { username: "qms.clt", displayName: "QMS CLT", password: "qms-import-password", grants: [{ role: "engineer", site: "CLT" }], reason: "test" },
      "fixture",
    );
    const { signIn } = await import("../../app/services/sessions.server");
    const { SESSION_COOKIE } = await import("../../app/utils/auth.server");
    const session = await signIn(database.db, { username: "qms.clt", password: "qms-import-password", ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    const route = await import("../../app/routes/quality-events.import");
    const form = new FormData();
    form.append("file", new File([file("ROUTE-1,NCR,EIN,minor,,,At EIN,,,material:FIN-1001")], "qms.csv", { type: "text/csv" }));
    const before = await fingerprint();
    const response = (await route.action({
      request: new Request("http://127.0.0.1/quality-events/import", {
        method: "POST",
        headers: { Cookie: `${SESSION_COOKIE}=${session.sessionId}` },
        body: form,
      }),
      params: {},
      context: {},
    })) as unknown as { data: { result: QualityImportResult }; init: { status: number } };
    expect(response.init.status).toBe(422);
    expect(response.data.result).toMatchObject({ ok: false, errors: [{ row: 2, column: "site", message: NEED_AT_EIN }] });
    expect(await fingerprint()).toEqual(before);
  });
});

describe("the CLI, in-process", () => {
  it("quality:import imports a file (exit 0), refuses a bad one (exit 65, errors by row), and says unchanged on a re-import", async () => {
    const good = path.join(tmp, "cli-good.csv");
    await fs.writeFile(good, file("CLI-1,Deviation,PEN,minor,,,From the CLI,,2026-11-01T10:00:00Z,material:FIN-1001"));
    const imported = await cli("quality:import", [good]);
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/^imported .*created 1, status changed 0, unchanged 0/);
    const [row] = await database.client`select number, kind from quality_events where external_id = 'CLI-1'`;
    expect(row!.kind).toBe("concession");
    expect(imported.out).toContain(`created ${row!.number}  CLI-1 (row 2)`);

    const again = await cli("quality:import", [good]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^unchanged \(imported before\)/);

    const bad = path.join(tmp, "-bad.csv");
    await fs.writeFile(bad, file("CLI-2,NCR,PEN,tiny,,,Bad,,,"));
    const before = await fingerprint();
    const refused = await cli("quality:import", [bad]);
    expect(refused.code).toBe(65);
    expect(refused.err).toContain("row 2, severity:");
    expect(await fingerprint()).toEqual(before);
  });

  it("quality:raise from flags and from JSON on stdin, quality:list by site and status, quality:close with a disposition", async () => {
    const before = await fingerprint();
    const flags = await cli("quality:raise", [
      "--kind",
      "nonconformance",
      "--site",
      "EIN",
      "--severity",
      "major",
      "--title",
      "Scratched housing",
      "--ref",
      "serial:FIN-1001:10000042",
      "--ref",
      "lot:RES-1001:RSPLIT001;material:RES-1002",
    ]);
    expect(flags.code).toBe(0);
    const flagged = /^raised (QE-\d{4,})$/.exec(flags.out)![1]!;
    const [refs] = await database.client`
      select count(*)::int as n from quality_event_references r join quality_events e on e.id = r.quality_event_id where e.number = ${flagged}`;
    expect(refs!.n).toBe(3);

    const stdin = Object.getOwnPropertyDescriptor(process, "stdin")!;
    const { Readable } = await import("node:stream");
    Object.defineProperty(process, "stdin", {
      configurable: true,
      value: Readable.from([
        Buffer.from(
          JSON.stringify({
            kind: "complaint",
            site: "CLT",
            severity: "minor",
            title: "Customer call",
            references: [{ kind: "lot", material: "RAW-1001", identifier: "CLTL-25E00001" }],
          }),
        ),
      ]),
    });
    let json: Awaited<ReturnType<typeof cli>>;
    try {
      json = await cli("quality:raise", ["--json"]);
    } finally {
      Object.defineProperty(process, "stdin", stdin);
    }
    expect(json.code).toBe(0);
    const fromJson = /^raised (QE-\d{4,})$/.exec(json.out)![1]!;
    const after = await fingerprint();
    expect(after!.events - before!.events).toBe(2);
    const audit =
      await database.client`select actor, entity_id from audit_trail where action = 'quality_event.raise' and seq > ${before!.audit}::bigint order by seq`;
    expect(audit.map((a) => a.entity_id)).toEqual([flagged, fromJson]);
    expect(audit.every((a) => String(a.actor).startsWith("cli:"))).toBe(true);

    // quality:list: oracle, the open events at EIN counted in SQL.
    const listed = await cli("quality:list", ["--site", "ein", "--status", "open"]);
    expect(listed.code).toBe(0);
    const [openAtEin] = await database.client`
      select count(*)::int as n from quality_events e join sites s on s.id = e.site_id where s.code = 'EIN' and e.status = 'open'`;
    const lines = listed.out.split("\n");
    expect(lines).toHaveLength(openAtEin!.n);
    expect(lines.every((l) => l.split("\t")[1] === "EIN" && l.split("\t")[4] === "open")).toBe(true);
    expect(lines.find((l) => l.startsWith(`${flagged}\t`))).toContain("serial:FIN-1001:10000042;lot:RES-1001:RSPLIT001;material:RES-1002");
    await expect(cli("quality:list", ["--status", "pending"])).rejects.toThrow(/--status: one of open, contained, closed/);

    // quality:close: refused without a disposition that closes, then closed with one; audited with the reason.
    await expect(cli("quality:close", [flagged.toLowerCase(), "--disposition", "pending", "--reason", "Scrapped at MRB"])).rejects.toThrow();
    const closed = await cli("quality:close", [flagged.toLowerCase(), "--disposition", "scrap", "--reason", "Scrapped at MRB"]);
    expect(closed.code).toBe(0);
    const [row] = await database.client`select status, disposition, closed_at is not null as has_closed_at from quality_events where number = ${flagged}`;
    expect(row).toEqual({ status: "closed", disposition: "scrap", has_closed_at: true });
    const [reason] = await database.client`select reason from audit_trail where action = 'quality_event.status' and entity_id = ${flagged}`;
    expect(reason!.reason).toBe("Scrapped at MRB");
    // Closed is final: a second close is refused.
    await expect(cli("quality:close", [flagged, "--disposition", "rework", "--reason", "again"])).rejects.toThrow();
    await expect(cli("quality:close", ["QE-9999", "--disposition", "scrap", "--reason", "none"])).rejects.toThrow(/does not exist/);
  });
});
