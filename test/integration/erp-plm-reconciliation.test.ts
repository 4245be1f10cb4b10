/**
 * ADR 015: ERP/PLM snapshot imports (refused whole with located errors, or imported
 * as a new snapshot replacing the system's view, audited), the reconciliation report with the demo
 * plant's deliberate disagreements, citations on change requests, and the release waiver.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { generateDemoPlant } from "../../app/seed/demo-plant";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { reconciliationCsv, reconciliationReport } from "../../app/queries/reconciliation.server";
import { verifyAuditChain } from "../../app/services/audit.server";
import { currentDataPoint } from "../../app/queries/audit.server";
import { createChangeRequest, signChangeRequest, submitChangeRequest, type Signer } from "../../app/services/change-requests.server";
import { importExternalSnapshot } from "../../app/services/external-import.server";
import { renewSites } from "../../app/services/keys.server";
import { setSystemOfRecord } from "../../app/services/reconciliation.server";
import { releaseChangeRequests } from "../../app/services/releases.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { DomainError } from "../../app/utils/errors.server";
import type { KeyRing } from "../../app/utils/signing.server";
import { reviewed } from "../setup/analysis";
import { createTestDatabase } from "../setup/database";
import { signedInPerson } from "../setup/people";
import { testKeyRing } from "../setup/keys";

let database: Database;
let keyRing: KeyRing;
const PASSWORD = "reconciliation-test-password";
const people: Record<string, Signer> = {};
const hard = generateDemoPlant().hardCases;

const person = (username: string, role: "engineer" | "quality_reviewer" | "release_manager") => signedInPerson(database, username, [role], PASSWORD);
const rowVersion = async (number: string) =>
  (await database.client`select row_version from change_requests where number = ${number}`)[0]!.row_version as number;

const csv = (text: string) => Readable.from([Buffer.from(text, "utf8")]);
const importErp = (text: string, fileName = "erp.csv") =>
  importExternalSnapshot(database.db, "test.importer", { system: "erp", fileName, source: () => csv(text) });
const importPlm = (text: string, fileName = "plm.csv") =>
  importExternalSnapshot(database.db, "test.importer", { system: "plm", fileName, source: () => csv(text) });

/** Everything an import could touch. */
async function footprint() {
  const [row] = await database.client`select
    (select count(*)::int from external_master_records) as records,
    (select coalesce(sum(hashtext(system::text || external_key || coalesce(site_id, 0) || tracking_mode::text)), 0)::text from external_master_records) as records_hash,
    (select count(*)::int from external_snapshots) as snapshots,
    (select count(*)::int from external_snapshot_files) as snapshot_files`;
  return { ...row, dataPoint: await currentDataPoint(database.db) };
}

/** The demo's ERP records as an ERP snapshot file, with edits. */
async function demoErpCsv(edit: (row: { part: string; tracking: string; site: string }) => { part: string; tracking: string; site: string } | null = (r) => r) {
  const rows = await database.client`select x.external_key, x.tracking_mode::text as mode, s.code as site from external_master_records x
    left join sites s on s.id = x.site_id where x.system = 'erp' order by x.external_key, s.code`;
  const word = { serial: "serial", lot: "batch", none: "untracked" } as Record<string, string>;
  const lines = rows.flatMap((r) => {
    const edited = edit({ part: r.external_key as string, tracking: word[r.mode as string]!, site: (r.site as string | null) ?? "" });
    return edited ? [`${edited.part},${edited.tracking},${edited.site}`] : [];
  });
  return `part_number,tracking,site\n${lines.join("\n")}\n`;
}

async function approved(title: string, changes: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
  const { number } = await createChangeRequest(database.db, people.emil!, {
    title,
    justification: "Align C-981 with the system of record.",
    riskAssessment: "Low: the plants already work this way.",
    legacyDataPlan: "grandfather",
    changes,
    ...extra,
  });
  await submitChangeRequest(database.db, people.emil!, number, await rowVersion(number));
  const signed = await signChangeRequest(database.db, people.quinn!, number, {
    meaning: "approved",
    role: "quality_reviewer",
    username: "q.q",
    password: PASSWORD,
    rowVersion: await rowVersion(number),
    ...(await reviewed(database.db, number)),
  });
  if (!signed.ok) throw new Error(`${number} not approved: ${JSON.stringify(signed)}`);
  return number;
}

beforeAll(async () => {
  database = await createTestDatabase();
  keyRing = await testKeyRing(database.db);
  await seedDemoPlant(database.db, keyRing);
  people.emil = await person("e.e", "engineer");
  people.quinn = await person("q.q", "quality_reviewer");
  people.remy = await person("r.m", "release_manager");
}, 120_000);

describe("the reconciliation report", () => {
  it("shows every one of the demo plant's deliberate ERP/PLM disagreements", async () => {
    const report = await reconciliationReport(database.db);
    expect(report.systemOfRecord).toEqual({ serial: "plm", lot: "erp" });
    for (const d of hard.erpPlmDisagreements) {
      if (d.system === "erp") {
        expect(
          report.rows.map((r) => r.key),
          `ERP ${d.externalKey}@${d.site}`,
        ).toContain(`${d.externalKey}@${d.site}`);
      } else {
        const rows = report.rows.filter((r) => r.partNumber === d.externalKey);
        expect(rows.length, `PLM ${d.externalKey}`).toBeGreaterThan(0);
        expect(rows.every((r) => r.plm !== null && r.plm.mode !== r.c981)).toBe(true);
      }
    }
    const unknown = report.rows.find((r) => r.key === "MCH-1099@EIN")!;
    expect(unknown).toMatchObject({ knownToC981: false, c981: null, erp: { mode: "lot" }, resolution: { kind: "create_material" } });
    // ERP never learned of version 2 at EIN: lots are ERP's call, so C-981 is asked to follow ERP.
    const upgraded = report.rows.find((r) => r.key === "SUB-1005@EIN")!;
    expect(upgraded).toMatchObject({ identifierType: "serial", systemOfRecord: "plm" });
    // Agreeing pairs are not listed.
    expect(report.rows.every((r) => !r.knownToC981 || new Set([r.c981, r.erp?.mode, r.plm?.mode].filter(Boolean)).size > 1)).toBe(true);
    const text = reconciliationCsv(report);
    expect(text.split("\r\n")[0]).toBe(
      "disagreement,part_number,site,known_to_c981,c981,erp,erp_flag,plm,plm_flag,identifier_type,system_of_record,expected,resolution,change_requests",
    );
    expect(text).toContain("MCH-1099@EIN,MCH-1099,EIN,no,,lot,XCHPF=X");
  });

  it("follows the configured system of record, and audits a change of it", async () => {
    const before = await currentDataPoint(database.db);
    await expect(setSystemOfRecord(database.db, "test.admin", { identifierType: "serial", system: "nowhere", reason: "typo" })).rejects.toThrow(DomainError);
    expect(
      await setSystemOfRecord(database.db, "test.admin", { identifierType: "serial", system: "c981", reason: "C-981 owns serialization decisions" }),
    ).toEqual({ changed: true });
    const report = await reconciliationReport(database.db);
    expect(report.systemOfRecord.serial).toBe("c981");
    const asm = report.rows.find((r) => r.partNumber === "ASM-1003" && r.site === "EIN")!;
    expect(asm.resolution).toMatchObject({ kind: "correct_external", systems: ["plm"] });
    const [audit] = await database.client`select action, entity_id, before, after, reason from audit_trail where seq > ${before}`;
    expect(audit).toMatchObject({
      action: "system_of_record.set",
      entity_id: "serial",
      before: { system: "plm" },
      after: { system: "c981" },
      reason: "C-981 owns serialization decisions",
    });
    await setSystemOfRecord(database.db, "test.admin", { identifierType: "serial", system: "plm", reason: "back to the default" });
  });
});

describe("ERP / PLM snapshot import", () => {
  it("refuses a file with any error whole, every error located by line and field, and changes nothing", async () => {
    const before = await footprint();
    const text = [
      "part_number,tracking,site",
      "ASM-1003,batch,EIN", // fine
      ",batch,EIN", // line 3: empty part number
      "ASM-1004,sometimes,EIN", // line 4: bad tracking
      "ASM-1005,serial,XYZ", // line 5: unknown site
      "ASM-1003,serial,EIN", // line 6: duplicate of line 2
      "ASM-1006,serial", // line 7: too few fields
      "",
    ].join("\n");
    const result = await importErp(text, "bad.csv");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errorCount).toBe(5);
    expect(result.errors.map((e) => [e.line, e.field])).toEqual([
      [3, "part_number"],
      [4, "tracking"],
      [5, "site"],
      [6, "part_number"],
      [7, "row"],
    ]);
    expect(result.errors[3]!.message).toMatch(/first on line 2/);
    expect(await footprint()).toEqual(before);
  });

  it("refuses a bad header, an unreadable file and an empty one, each located", async () => {
    const before = await footprint();
    const header = await importPlm("part_number,serialisation\nASM-1003,serialized\n");
    expect(header).toMatchObject({
      ok: false,
      errors: [
        { line: 1, field: "serialisation" },
        { line: 1, field: "serialization" },
      ],
    });
    const quote = await importPlm('part_number,serialization\n"ASM-1003,serialized\n');
    expect(quote).toMatchObject({ ok: false, errors: [{ field: "file", message: expect.stringMatching(/Not readable as CSV/) }] });
    expect(await importPlm("")).toMatchObject({ ok: false, errors: [{ line: 1, field: "header" }] });
    expect(await importPlm("part_number,serialization\n")).toMatchObject({ ok: false, errors: [{ field: "file" }] });
    expect(await footprint()).toEqual(before);
  });

  it("counts every error and lists the first 200", async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `P-${i},maybe`);
    const result = await importPlm(`part_number,serialization\n${rows.join("\n")}\n`);
    expect(result).toMatchObject({ ok: false, rows: 500, errorCount: 500 });
    if (!result.ok) expect(result.errors).toHaveLength(200);
  });

  it("imports a good file as a new snapshot replacing the system's view, lists unknown part numbers, and audits it", async () => {
    const before = await currentDataPoint(database.db);
    const [prev] = await database.client`select count(*)::int as n from external_master_records where system = 'erp'`;
    // ERP learned of version 2 (SUB-1005 serial at EIN), and knows one more part C-981 does not.
    const text = (await demoErpCsv((r) => (r.part === "SUB-1005" && r.site === "EIN" ? { ...r, tracking: "SERIAL" } : r))) + "ZZZ-0001,batch,CLT\n";
    const result = await importErp(`\uFEFF${text}`, "erp-2026-11.csv");
    expect(result).toMatchObject({ ok: true, system: "erp", rows: prev!.n + 1, replaced: { snapshotId: null, rows: prev!.n } });
    if (!result.ok) return;
    expect(result.unknown.map((u) => u.partNumber).sort()).toEqual(["MCH-1099", "ZZZ-0001"]);
    expect(result.digest).toMatch(/^[0-9a-f]{64}$/);
    const [snapshot] =
      await database.client`select system::text, file_name, digest, row_count, unknown_count, imported_by from external_snapshots where id = ${result.snapshotId}`;
    expect(snapshot).toEqual({
      system: "erp",
      file_name: "erp-2026-11.csv",
      digest: result.digest,
      row_count: prev!.n + 1,
      unknown_count: 2,
      imported_by: "test.importer",
    });
    const [current] =
      await database.client`select count(*)::int as n, count(distinct source_digest)::int as digests from external_master_records where system = 'erp'`;
    expect(current).toEqual({ n: prev!.n + 1, digests: 1 });
    // The history is the file itself: its bytes, whose SHA-256 is the digest.
    const chunks = await database.client`select content from external_snapshot_files where snapshot_id = ${result.snapshotId} order by seq`;
    expect(
      createHash("sha256")
        .update(Buffer.concat(chunks.map((c) => c.content as Buffer)))
        .digest("hex"),
    ).toBe(result.digest);
    const audit = await database.client`select action, entity_id, actor, after from audit_trail where seq > ${before}`;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "external_master.import",
      entity_id: `erp/${result.snapshotId}`,
      actor: "test.importer",
      after: { digest: result.digest, unknownToC981: 2 },
    });

    const report = await reconciliationReport(database.db);
    expect(report.rows.find((r) => r.key === "SUB-1005@EIN")?.erp ?? null).toBeNull();
    expect(report.rows.map((r) => r.key)).toContain("ZZZ-0001@CLT");
    // Snapshots are history: never changed.
    await expect(database.client`update external_snapshots set file_name = 'x' where id = ${result.snapshotId}`).rejects.toThrow(/append-only/);
    await expect(database.client`delete from external_snapshot_files where snapshot_id = ${result.snapshotId}`).rejects.toThrow(/append-only/);
    expect((await verifyAuditChain(database.db)).firstBreak).toBeUndefined();
  });
});

describe("the import screen", () => {
  it("imports an uploaded file for an administrator, and answers 400 with the located errors for a bad one", async () => {
    await createUser(
      database.db,
      "test",
      { username: "a.a", displayName: "A.A", password: PASSWORD, grants: [{ role: "admin", site: null }], reason: "test" },
      "fixture",
    );
    const session = await signIn(database.db, { username: "a.a", password: PASSWORD, ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    registerDatabase(Promise.resolve(database));
    const { action } = await import("../../app/routes/external-masters._index");
    const post = async (system: string, name: string, text: string) => {
      const form = new FormData();
      form.set("system", system);
      form.set("file", new File([text], name, { type: "text/csv" }));
      const request = new Request("http://127.0.0.1/external-masters", {
        method: "POST",
        headers: { Cookie: `${SESSION_COOKIE}=${session.sessionId}` },
        body: form,
      });
      return (await action({ request, params: {}, context: {} })) as unknown as {
        data: { result: { ok: boolean; errors?: unknown[]; rows?: number } };
        init: { status?: number } | null;
      };
    };
    const bad = await post("plm", "plm-bad.csv", "part_number,serialization\nASM-1003,sometimes\n");
    expect(bad.init?.status).toBe(400);
    expect(bad.data.result).toMatchObject({ ok: false, errors: [{ line: 2, field: "serialization" }] });
    const good = await post("plm", "plm-good.csv", "part_number,serialization\nASM-1003,serialized\nRES-1004,none\n");
    expect(good.init?.status ?? 200).toBe(200);
    expect(good.data.result).toMatchObject({ ok: true, rows: 2 });
    const [audit] = await database.client`select actor from audit_trail where action = 'external_master.import' order by seq desc limit 1`;
    expect(audit!.actor).toBe("a.a");
  });
});

describe("change requests cite disagreements; releases need a waiver", () => {
  it("refuses a citation the request does not resolve, and accepts and shows one it does", async () => {
    const base = {
      title: "Follow PLM for ASM-1003",
      justification: "PLM is the system of record for serial numbers.",
      riskAssessment: "Medium: labels exist.",
      legacyDataPlan: "grandfather",
    };
    const change = {
      kind: "tracking",
      material: "ASM-1003",
      sites: ["EIN"],
      trackingMode: "serial",
      containerTracking: false,
      identifierFormatCodes: ["EIN-SER"],
      consumptionScan: "identify",
    };
    const wrong = await createChangeRequest(database.db, people.emil!, { ...base, changes: [change], resolvesDisagreements: "ASM-1003@CLT, NOPE" }).catch(
      (e: unknown) => e as DomainError,
    );
    expect(wrong).toBeInstanceOf(DomainError);
    expect(Object.keys((wrong as DomainError).fields).some((k) => k.startsWith("resolvesDisagreements"))).toBe(true);
    const unknownKey = await createChangeRequest(database.db, people.emil!, { ...base, changes: [change], resolvesDisagreements: "ASM-1004@EIN" }).catch(
      (e: unknown) => e as DomainError,
    );
    expect((unknownKey as DomainError).fields.resolvesDisagreements?.[0]).toMatch(/no such disagreement/);
    // untracking ASM-1003 touches the disagreement but leaves C-981 against PLM, the
    // system of record for serial numbers (PLM says serial in the demo plant): refused, saying why.
    const untrack = { ...change, trackingMode: "none", identifierFormatCodes: [], consumptionScan: "none" };
    const notResolved = await createChangeRequest(database.db, people.emil!, { ...base, changes: [untrack], resolvesDisagreements: "ASM-1003@EIN" }).catch(
      (e: unknown) => e as DomainError,
    );
    expect(notResolved).toBeInstanceOf(DomainError);
    expect((notResolved as DomainError).fields.resolvesDisagreements).toEqual([
      "ASM-1003@EIN: with this change C-981 would say none at EIN, but PLM, the system of record for serial numbers, says serial — it does not resolve this disagreement",
    ]);
    const { number } = await createChangeRequest(database.db, people.emil!, { ...base, changes: [change], resolvesDisagreements: "asm-1003@ein" });
    const [cr] = await database.client`select content from change_requests where number = ${number}`;
    expect((cr!.content as { resolvesDisagreements: string[] }).resolvesDisagreements).toEqual(["ASM-1003@EIN"]);
    const row = (await reconciliationReport(database.db)).rows.find((r) => r.key === "ASM-1003@EIN")!;
    expect(row.changeRequests).toContainEqual(expect.objectContaining({ number, cites: true }));
  });

  it("refuses a release that leaves disagreements without a waiver (409, naming them), records the waiver when given", async () => {
    const number = await approved("Serialize ASM-1005 at PEN", [
      {
        kind: "tracking",
        material: "ASM-1005",
        sites: ["PEN"],
        trackingMode: "serial",
        containerTracking: false,
        identifierFormatCodes: ["PEN-SER"],
        consumptionScan: "identify",
      },
    ]);
    const before = await database.client`select count(*)::int as n from rule_set_versions`;
    const refused = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "PEN",
      changeRequests: [number],
      username: "r.m",
      password: PASSWORD,
    }).catch((e: unknown) => e as DomainError);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).status).toBe(409);
    expect((refused as DomainError).message).toMatch(/leaves \d+ known ERP\/PLM disagreement\(s\) at PEN unresolved: .*ASM-1003@PEN/);
    expect((refused as DomainError).fields.waiver).toBeDefined();
    expect((await database.client`select count(*)::int as n from rule_set_versions`)[0]!.n).toBe(before[0]!.n);

    const tooShort = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "PEN",
      changeRequests: [number],
      username: "r.m",
      password: PASSWORD,
      waiver: "ok",
    });
    expect(tooShort).toMatchObject({ ok: false, fields: { waiver: [expect.stringMatching(/at least 10/)] } });

    const waiver = "PLM corrections are scheduled with the design office (ECO-77).";
    const released = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "PEN",
      changeRequests: [number],
      username: "r.m",
      password: PASSWORD,
      waiver,
    });
    expect(released).toMatchObject({ ok: true, site: "PEN" });
    if (!released.ok) return;
    const [recorded] = await database.client`select w.reason, w.disagreements from release_waivers w join release_signatures r on r.id = w.release_signature_id
      join rule_set_versions v on v.id = r.rule_set_version_id join sites s on s.id = v.site_id where s.code = 'PEN' and v.version = ${released.version}`;
    expect(recorded!.reason).toBe(waiver);
    expect((recorded!.disagreements as { key: string }[]).map((d) => d.key)).toContain("ASM-1003@PEN");
    const [audit] = await database.client`select after from audit_trail where action = 'rule_set.release' and entity_id = ${`PEN/${released.version}`}`;
    expect(audit!.after).toMatchObject({ signature: { waiver: { reason: waiver, disagreements: expect.arrayContaining(["ASM-1003@PEN"]) } } });
  });

  it("a release that leaves no disagreement at its site needs no waiver", async () => {
    // Make PLM and ERP agree with C-981 everywhere: import both views from C-981's own rules.
    const rules = await database.client`select m.part_number, s.code as site, r.tracking_mode::text as mode from tracking_rules r
      join materials m on m.id = r.material_id join sites s on s.id = r.site_id where r.effective_to is null order by 1, 2`;
    const erpWord = { serial: "serial", lot: "batch", none: "untracked" } as Record<string, string>;
    expect(
      await importErp(`part_number,tracking,site\n${rules.map((r) => `${r.part_number},${erpWord[r.mode as string]},${r.site}`).join("\n")}\n`),
    ).toMatchObject({ ok: true });
    // PLM holds no site: list only the materials whose rule is the same at every site.
    const byPart = new Map<string, Set<string>>();
    for (const r of rules) byPart.set(r.part_number as string, (byPart.get(r.part_number as string) ?? new Set()).add(r.mode as string));
    const plmWord = { serial: "serialized", lot: "lot", none: "none" } as Record<string, string>;
    const uniform = [...byPart].filter(([, modes]) => modes.size === 1);
    expect(await importPlm(`part_number,serialization\n${uniform.map(([p, m]) => `${p},${plmWord[[...m][0]!]}`).join("\n")}\n`)).toMatchObject({ ok: true });
    const left = (await reconciliationReport(database.db)).rows.filter((r) => r.site === "CLT");
    expect(left).toEqual([]);
    const number = await approved("Serialize ASM-1006 at CLT", [
      {
        kind: "tracking",
        material: "ASM-1006",
        sites: ["CLT"],
        trackingMode: "serial",
        containerTracking: false,
        identifierFormatCodes: ["CLT-SER"],
        consumptionScan: "identify",
      },
    ]);
    // Its own change would disagree with ERP (batch) unless ERP changes too: the release names it.
    const refused = await releaseChangeRequests(database.db, keyRing, people.remy!, {
      site: "CLT",
      changeRequests: [number],
      username: "r.m",
      password: PASSWORD,
    }).catch((e: unknown) => e as DomainError);
    expect((refused as DomainError).message).toMatch(/ASM-1006@CLT/);
    // ERP follows the change first; then nothing is left and no waiver is asked.
    expect(
      await importErp(
        `part_number,tracking,site\n${rules.map((r) => `${r.part_number},${r.part_number === "ASM-1006" && r.site === "CLT" ? "serial" : erpWord[r.mode as string]},${r.site}`).join("\n")}\n`,
      ),
    ).toMatchObject({ ok: true });
    if (byPart.get("ASM-1006")?.size === 1) {
      // PLM says ASM-1006 is batch-tracked everywhere: drop it from PLM so PLM holds no opinion at CLT.
      expect(
        await importPlm(
          `part_number,serialization\n${uniform
            .filter(([p]) => p !== "ASM-1006")
            .map(([p, m]) => `${p},${plmWord[[...m][0]!]}`)
            .join("\n")}\n`,
        ),
      ).toMatchObject({ ok: true });
    }
    expect(
      await releaseChangeRequests(database.db, keyRing, people.remy!, { site: "CLT", changeRequests: [number], username: "r.m", password: PASSWORD }),
    ).toMatchObject({ ok: true });
  });

  it("renewals are excepted: they never ask for a waiver", async () => {
    // Bring the demo's disagreements back.
    expect(await importErp("part_number,tracking,site\nASM-1003,batch,EIN\nMCH-1099,batch,EIN\n")).toMatchObject({ ok: true });
    expect(await importPlm("part_number,serialization\nASM-1003,serialized\n")).toMatchObject({ ok: true });
    expect((await reconciliationReport(database.db)).rows.filter((r) => r.site === "EIN").length).toBeGreaterThan(0);
    const renewed = await renewSites(database.db, keyRing, "test.renewal", "test renewal", ["EIN"]);
    expect(renewed).toEqual([expect.objectContaining({ site: "EIN" })]);
  });
});
