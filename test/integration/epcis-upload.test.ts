/**
 * The EPCIS upload screen's action, called as a signed-in engineer with a real multipart upload:
 * a valid document is imported, a standard-breaking one answers 422 with its located errors.
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

async function upload(name: string, content: string | Buffer) {
  const form = new FormData();
  form.set("intent", "import");
  form.set("site", "EIN");
  form.set("file", new File([typeof content === "string" ? content : new Uint8Array(content)], name, { type: "application/json" }));
  const request = new Request("http://127.0.0.1/imports/epcis", { method: "POST", body: form, headers: { Cookie: cookie } });
  const result = (await action({ request, params: {}, context: {} })) as unknown as {
    data: { kind: string; result: { ok: boolean; events?: number; fileName?: string; errors?: { path: string }[] } };
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
