/**
 * The new-event form (/quality-events/new) as a browser posts it, through the route's action: a good
 * form raises one event with its references and the rule in force for each (checked in plain SQL
 * against the tracking rules written in the test's own query); a bad row is named by its position;
 * a field the form does not offer (status, externalId) is refused whole; a user raising at a site
 * outside their grants is refused — and a refused form changes nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { seedDemoPlant } from "../../app/seed/seed.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

type Database = Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
const sessions: Record<string, string> = {};

async function fingerprint() {
  const [row] = await database.client`
    select (select count(*) from quality_events)::int as events,
           (select count(*) from quality_event_references)::int as refs,
           (select coalesce(max(seq), 0) from audit_trail)::text as audit`;
  return row;
}

async function post(user: string, fields: Record<string, string>) {
  const route = await import("../../app/routes/quality-events.new");
  const body = new URLSearchParams(fields);
  try {
    const answer = (await route.action({
      request: new Request("http://127.0.0.1/quality-events/new", {
        method: "POST",
        headers: { Cookie: `${SESSION_COOKIE}=${sessions[user]}`, "Content-Type": "application/x-www-form-urlencoded" },
        body,
      }),
      params: {},
      context: {},
    })) as unknown as { data: { fieldErrors: Record<string, string[]> }; init: { status: number } };
    return { status: answer.init.status, fieldErrors: answer.data.fieldErrors, location: null as string | null };
  } catch (thrown) {
    if (thrown instanceof Response) return { status: thrown.status, fieldErrors: {}, location: thrown.headers.get("Location") };
    throw thrown;
  }
}

/** A lot of RAW material at EIN that the demo plant consumed, and a serial of SUB-1005 at EIN, picked in SQL. */
async function pick() {
  const [lot] = await database.client<{ identifier: string; part: string }[]>`
    select t.identifier, m.part_number as part from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
    where s.code = 'EIN' and t.kind = 'lot' and m.part_number like 'RAW-%'
      and exists (select 1 from genealogy_edges e where e.input_item_id = t.id and e.output_item_id <> t.id)
    order by t.identifier limit 1`;
  const [serial] = await database.client<{ identifier: string }[]>`
    select t.identifier from trace_items t join materials m on m.id = t.material_id join sites s on s.id = t.site_id
    where s.code = 'EIN' and t.kind = 'serial' and m.part_number = 'SUB-1005' order by t.created_at desc, t.identifier limit 1`;
  return { lot: lot!, serial: serial!.identifier };
}

const base = { site: "EIN", kind: "nonconformance", severity: "major", title: "Hardness below specification", description: "" };

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  for (const [username, site] of [
    ["form.ein", "EIN"],
    ["form.clt", "CLT"],
  ] as const) {
    await createUser(
      database.db,
      "test",
      { username, displayName: username, password: "hardness-nc-passphrase", grants: [{ role: "quality_reviewer", site }], reason: "test" },
      "fixture",
    );
    const session = await signIn(database.db, { username, password: "hardness-nc-passphrase", ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("sign-in failed");
    sessions[username] = session.sessionId;
  }
}, 120_000);

describe("raising a quality event from the form", () => {
  it("raises one event on a lot and a serial, each with the rule in force now, trailing empty rows dropped, audited", async () => {
    const { lot, serial } = await pick();
    const answer = await post("form.ein", {
      ...base,
      "references[0].kind": "lot",
      "references[0].material": lot.part,
      "references[0].identifier": lot.identifier,
      "references[1].kind": "serial",
      "references[1].material": "SUB-1005",
      "references[1].identifier": serial,
      "references[2].kind": "serial",
      "references[2].material": "",
      "references[2].identifier": "",
      "references[3].kind": "serial",
      "references[3].material": " ",
      "references[3].identifier": "",
    });
    expect(answer.status).toBe(302);
    const number = /^\/quality-events\/(QE-\d{4,})\?done=raised$/.exec(answer.location ?? "")?.[1];
    expect(number).toBeDefined();

    const [event] = await database.client`
      select e.kind, e.status, e.disposition, e.severity, e.raised_by, e.external_id, s.code as site
      from quality_events e join sites s on s.id = e.site_id where e.number = ${number!}`;
    expect(event).toEqual({
      kind: "nonconformance",
      status: "open",
      disposition: "pending",
      severity: "major",
      raised_by: "form.ein",
      external_id: null,
      site: "EIN",
    });
    // The oracle for the rule at raise: the tracking rule open now for the material at EIN (plain SQL).
    const refs = await database.client`
      select r.kind, t.identifier, m.part_number, r.rule_state, r.rule_set_version, r.tracking_mode_at_raise,
             (select tr.tracking_mode from tracking_rules tr where tr.material_id = m.id and tr.site_id = r.site_id and tr.effective_to is null) as open_mode,
             (select max(v.version) from rule_set_versions v where v.site_id = r.site_id and v.effective_from <= now()) as version_now
      from quality_event_references r join quality_events e on e.id = r.quality_event_id
      join trace_items t on t.id = r.trace_item_id join materials m on m.id = r.material_id
      where e.number = ${number!} order by r.kind::text`;
    expect(refs.map((r) => [r.kind, r.identifier, r.part_number])).toEqual([
      ["lot", lot.identifier, lot.part],
      ["serial", serial, "SUB-1005"],
    ]);
    for (const r of refs) {
      expect(r.rule_state).toBe(r.open_mode ? "ruled" : "unruled");
      expect(r.rule_set_version).toBe(r.version_now);
      expect(r.tracking_mode_at_raise).toBe(r.open_mode ?? null);
    }
    // SUB-1005 is serialized at EIN under the current version (the demo plant's v2 change).
    expect(refs[1]!.tracking_mode_at_raise).toBe("serial");
    const [audit] = await database.client`select actor, action from audit_trail where entity_type = 'quality_event' and entity_id = ${number!}`;
    expect(audit).toEqual({ actor: "form.ein", action: "quality_event.raise" });
  });

  it("names the row of a reference that does not exist at the site, and raises nothing", async () => {
    const { lot } = await pick();
    const before = await fingerprint();
    const answer = await post("form.ein", {
      ...base,
      "references[0].kind": "lot",
      "references[0].material": lot.part,
      "references[0].identifier": lot.identifier,
      "references[1].kind": "serial",
      "references[1].material": "SUB-1005",
      "references[1].identifier": "NO-SUCH-SERIAL",
    });
    expect(answer.status).toBe(422);
    expect(Object.keys(answer.fieldErrors)).toEqual(["references.1.identifier"]);
    expect(await fingerprint()).toEqual(before);
  });

  it("refuses a field the form does not offer (a status, a QMS id) and an empty form, naming the problem", async () => {
    const { lot } = await pick();
    const before = await fingerprint();
    const ref = { "references[0].kind": "lot", "references[0].material": lot.part, "references[0].identifier": lot.identifier };
    const closed = await post("form.ein", { ...base, ...ref, status: "closed", disposition: "scrap" });
    expect(closed.status).toBe(400);
    expect(closed.fieldErrors.form?.[0]).toContain('"status"');
    const external = await post("form.ein", { ...base, ...ref, externalId: "QMS-FORGED" });
    expect(external.status).toBe(400);
    const empty = await post("form.ein", {});
    expect(empty.status).toBe(400);
    expect(Object.keys(empty.fieldErrors).sort()).toEqual(["kind", "references", "severity", "site", "title"]);
    const middle = await post("form.ein", {
      ...base,
      "references[0].kind": "serial",
      "references[1].kind": "lot",
      "references[1].material": lot.part,
      "references[1].identifier": lot.identifier,
    });
    expect(middle.status).toBe(400);
    expect(Object.keys(middle.fieldErrors).sort()).toEqual(["references.0.identifier", "references.0.material"]);
    expect(await fingerprint()).toEqual(before);
  });

  it("refuses a site outside the user's grants (a CLT reviewer raising at EIN), and raises nothing", async () => {
    const { lot } = await pick();
    const before = await fingerprint();
    const answer = await post("form.clt", {
      ...base,
      "references[0].kind": "lot",
      "references[0].material": lot.part,
      "references[0].identifier": lot.identifier,
    });
    expect(answer.status).toBe(403);
    expect(await fingerprint()).toEqual(before);
  });
});
