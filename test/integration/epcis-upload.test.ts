/**
 * The EPCIS upload screen's action, called as a signed-in engineer with a real multipart upload:
 * a valid document is imported, a standard-breaking one answers 422 with its located errors; a
 * missing site, or one the engineer may not import into, is a field error (no site is preselected).
 */
import fs from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { action } from "../../app/routes/imports.epcis";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { fixture, importFootprint, seedEpcisPlant } from "../setup/epcis";

let database: Database;
let cookie = "";

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedEpcisPlant(database);
  await database.client`insert into sites (code, name, time_zone) values ('CLT', 'Charlotte', 'America/New_York')`;
  const password = "epcis-upload-password";
  await createUser(
    database.db,
    "test",
    { username: "erin.engineer", displayName: "Erin", password, grants: [{ role: "engineer", site: "EIN" }], reason: "upload test" },
    "fixture",
  );
  const session = await signIn(database.db, { username: "erin.engineer", password, ip: null, maxHours: 1 });
  if (!session.ok) throw new Error("cannot sign in");
  cookie = `${SESSION_COOKIE}=${session.sessionId}`;
});

async function upload(name: string, content: string | Buffer, site = "EIN") {
  const form = new FormData();
  form.set("intent", "import");
  form.set("site", site);
  form.set("file", new File([typeof content === "string" ? content : new Uint8Array(content)], name, { type: "application/json" }));
  const request = new Request("http://127.0.0.1/imports/epcis", { method: "POST", body: form, headers: { Cookie: cookie } });
  const result = (await action({ request, params: {}, context: {} })) as unknown as {
    data: {
      kind: string;
      result: { ok: boolean; events?: number; fileName?: string; fileDigest: string; errors?: { path: string }[] };
      errors?: Record<string, string[]>;
      recordId?: number | null;
      created?: { items: { id: number; identifier: string }[]; total: number } | null;
    };
    init: { status?: number } | null;
  };
  return { status: result.init?.status ?? 200, body: result.data };
}

describe("EPCIS upload", () => {
  it("imports an uploaded document at the engineer's site", async () => {
    const { status, body } = await upload("TransformationEvent.json", fs.readFileSync(fixture("TransformationEvent.json")));
    expect(status).toBe(200);
    expect(body).toMatchObject({ kind: "import", result: { ok: true, events: 1, fileName: "TransformationEvent.json" } });
    expect(await importFootprint(database)).toMatchObject({ events: 1, edges: 20 });
    // The result names the record of the import (its audit row) and the items it created, capped at 10.
    const [audit] = await database.client`select seq::int as seq from audit_trail where action = 'epcis.import' and entity_id = ${body.result.fileDigest}`;
    expect(body.recordId).toBe(audit!.seq);
    const items = await database.client`select id::int as id from trace_items where provenance_file_digest = ${body.result.fileDigest} order by id`;
    expect(body.created!.total).toBe(items.length);
    expect(body.created!.items.map((i) => i.id)).toEqual(items.slice(0, 10).map((r) => r.id));
  });

  it("refuses a missing site, and a site the engineer may not import into, as a field error; nothing is stored", async () => {
    const before = await importFootprint(database);
    const document = fs.readFileSync(fixture("ObjectEvent.json"));
    const missing = await upload("ObjectEvent.json", document, "");
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ kind: "invalid", errors: { site: ["Choose a site"] } });
    const elsewhere = await upload("ObjectEvent.json", document, "CLT");
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.errors?.site?.[0]).toMatch(/^You may not import into CLT/);
    expect(await importFootprint(database)).toEqual(before);
  });

  it("answers 422 with the located errors and stores nothing for a standard-breaking one", async () => {
    const before = await importFootprint(database);
    const broken = JSON.parse(fs.readFileSync(fixture("ObjectEvent.json"), "utf8"));
    broken.epcisBody.eventList[1].action = "ADDED";
    const { status, body } = await upload("broken.json", JSON.stringify(broken));
    expect(status).toBe(422);
    expect(body.result.ok).toBe(false);
    expect(body.result.errors?.map((e) => e.path)).toEqual(["/epcisBody/eventList/1/action"]);
    expect(await importFootprint(database)).toEqual(before);
  });
});
