/**
 * Migration 0014: the bulk-loaded import tables (external_master_records, epcis_events) check their
 * references to sites and materials once per statement instead of with a per-row foreign key. The
 * guarantees a foreign key gave must hold: no row refers to a missing site or material (insert,
 * update, COPY), and a referenced site or material cannot be deleted.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../setup/database";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let site: number;
let otherSite: number;
let material: number;

beforeAll(async () => {
  database = await createTestDatabase();
  const sql = database.client;
  [{ id: site }, { id: otherSite }] =
    (await sql`insert into sites (code, name, time_zone) values ('EIN', 'Eindhoven', 'Europe/Amsterdam'), ('CLT', 'Charlotte', 'America/New_York') returning id`) as unknown as [
      { id: number },
      { id: number },
    ];
  const [family] = await sql`insert into material_families (code, name) values ('REF', 'Reference checks') returning id`;
  [{ id: material }] = (await sql`insert into materials (part_number, description, unit_of_measure, risk_class, family_id)
    values ('REF-1001', 'referenced', 'EA', 'medium', ${family!.id as number}) returning id`) as unknown as [{ id: number }];
});

const record = (siteId: number | null, materialId: number | null, key = `K-${Math.random()}`) =>
  database.client`insert into external_master_records (system, external_key, material_id, site_id, tracking_flag, tracking_mode, payload, imported_at, source_digest)
    values ('erp', ${key}, ${materialId}, ${siteId}, 'tracking=serial', 'serial', '{}', now(), ${"0".repeat(64)})`;

const event = (siteId: number, key = `urn:uuid:${Math.random()}`) =>
  database.client`insert into epcis_events (event_key, from_event_id, type, event_time, content_hash, file_digest, event_index, site_id, status, body, imported_at)
    values (${key}, true, 'ObjectEvent', now(), 'h', ${"0".repeat(64)}, 0, ${siteId}, 'applied', '{}', now())`;

describe("references checked per statement", () => {
  it("external master records: a missing site or material is refused (insert, update, several rows at once, COPY), existing ones and nulls are not", async () => {
    await record(site, material);
    await record(null, null);
    await expect(record(999_999, material)).rejects.toMatchObject({
      code: "23503",
      message: expect.stringContaining("external_master_records.site_id refers to sites that do not exist (id 999999)"),
    });
    await expect(record(site, 888_888)).rejects.toMatchObject({ code: "23503", message: expect.stringContaining("material_id refers to materials") });
    await expect(
      database.client`insert into external_master_records (system, external_key, material_id, site_id, tracking_flag, tracking_mode, payload, imported_at, source_digest)
        select 'erp', 'MANY-' || g, null, case when g = 500 then 777777 else ${site}::int end, 'tracking=serial', 'serial', '{}', now(), ${"0".repeat(64)} from generate_series(1, 1000) g`,
    ).rejects.toMatchObject({ code: "23503", message: expect.stringContaining("(id 777777)") });
    await expect(database.client`update external_master_records set site_id = 999999 where site_id = ${site}`).rejects.toMatchObject({ code: "23503" });

    // COPY (what the import uses) runs the same check. Server-side COPY FROM a file here: postgres.js
    // loses an error raised at the end of a COPY FROM STDIN (see ADR 015), a foreign key's included.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c981-refs-"));
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, "rows.copy");
    fs.writeFileSync(
      file,
      [site, 666_666].map((s, i) => `erp\tCOPY-${i}\t\\N\t${s}\ttracking=serial\tserial\t{}\t2025-01-01T00:00:00Z\t${"0".repeat(64)}\n`).join(""),
    );
    fs.chmodSync(file, 0o644);
    await expect(
      // A server-side COPY reads a file: only a privileged role (here the owner credential) may.
      database.owner.unsafe(
        `copy external_master_records (system, external_key, material_id, site_id, tracking_flag, tracking_mode, payload, imported_at, source_digest) from '${file}'`,
      ),
    ).rejects.toMatchObject({ code: "23503", message: expect.stringContaining("(id 666666)") });
    fs.rmSync(dir, { recursive: true, force: true });

    const [{ n }] = (await database.client`select count(*)::int as n from external_master_records`) as unknown as [{ n: number }];
    expect(n).toBe(2);
  });

  it("EPCIS events: a missing site is refused", async () => {
    await event(site);
    await expect(event(999_999)).rejects.toMatchObject({ code: "23503", message: expect.stringContaining("epcis_events.site_id refers to sites") });
  });

  // (Ids are identities GENERATED ALWAYS: PostgreSQL already refuses to renumber them; the update triggers guard that too.)
  it("a referenced site or material cannot be deleted; an unreferenced one can, and other updates are untouched", async () => {
    await expect(database.client`delete from sites where id = ${site}`).rejects.toMatchObject({
      code: "23503",
      message: expect.stringContaining(`sites ${site} is still referenced`),
    });
    await expect(database.client`delete from materials where id = ${material}`).rejects.toMatchObject({
      code: "23503",
      message: expect.stringContaining("external_master_records.material_id"),
    });
    await database.client`update sites set name = 'Eindhoven plant' where id = ${site}`;
    await database.client`update materials set description = 'still referenced' where id = ${material}`;
    await database.client`delete from sites where id = ${otherSite}`;
    const [{ n }] = (await database.client`select count(*)::int as n from sites`) as unknown as [{ n: number }];
    expect(n).toBe(1);
  });

  it("an EPCIS event's site cannot be deleted either", async () => {
    const sql = database.client;
    const [{ id: lone }] = (await sql`insert into sites (code, name, time_zone) values ('PEN', 'Penang', 'Asia/Kuala_Lumpur') returning id`) as unknown as [
      { id: number },
    ];
    await event(lone);
    await expect(sql`delete from sites where id = ${lone}`).rejects.toMatchObject({ code: "23503", message: expect.stringContaining("epcis_events.site_id") });
  });

  it("outside READ COMMITTED a delete that removes a site is refused outright (no fresh snapshot to check against); a plain update is not", async () => {
    const sql = database.client;
    const [{ id: spare }] = (await sql`insert into sites (code, name, time_zone) values ('SPR', 'Spare', 'UTC') returning id`) as unknown as [{ id: number }];
    await expect(sql.begin("isolation level repeatable read", (tx) => tx`delete from sites where id = ${spare}`)).rejects.toMatchObject({
      code: "23503",
      message: expect.stringContaining("only in READ COMMITTED"),
    });
    await sql.begin("isolation level serializable", (tx) => tx`update sites set name = 'Spare site' where id = ${spare}`);
    await sql`delete from sites where id = ${spare}`;
  });

  it("TRUNCATE … CASCADE of sites or materials is refused while the import tables refer to them", async () => {
    // The application role has no TRUNCATE privilege (ADR 018): the trigger guards the owner.
    await expect(database.client`truncate sites cascade`).rejects.toThrow(/permission denied/);
    const sql = database.owner;
    await expect(sql`truncate sites cascade`).rejects.toMatchObject({
      code: "23503",
      message: expect.stringContaining("sites cannot be truncated while external_master_records refers to it"),
    });
    await expect(sql`truncate materials cascade`).rejects.toMatchObject({ code: "23503", message: expect.stringContaining("materials cannot be truncated") });
    const [{ n }] = (await sql`select count(*)::int as n from external_master_records`) as unknown as [{ n: number }];
    expect(n).toBeGreaterThan(0);
  });
});
