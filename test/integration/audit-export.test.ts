import { beforeAll, describe, expect, it } from "vitest";
import { loader } from "../../app/routes/audit[.]csv";
import { appendAudit } from "../../app/services/audit.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";

let database: Database;
let cookie = "";

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await createUser(
    database.db,
    "test",
    { username: "rita.r", displayName: "Rita", password: "export-password-1", grants: [{ role: "regulatory_reviewer", site: null }], reason: "test" },
    "fixture",
  );
  await database.db.transaction((tx) =>
    appendAudit(tx, {
      actor: '=HYPERLINK("http://evil")',
      action: "x.y",
      entityType: "thing",
      entityId: "1",
      after: { note: 'quote " and\nnewline' },
      reason: "+1 reason",
    }),
  );
  const session = await signIn(database.db, { username: "rita.r", password: "export-password-1", ip: null, maxHours: 1 });
  if (!session.ok) throw new Error("sign-in failed");
  cookie = `${SESSION_COOKIE}=${session.sessionId}`;
});

describe("the audit CSV export", () => {
  it("is RFC 4180 CSV named by its data point, defends against formula injection, and is itself audited", async () => {
    const [head] = await database.client`select max(seq)::int as seq from audit_trail`;
    const response = (await loader({
      request: new Request("http://127.0.0.1/audit.csv", { headers: { Cookie: cookie } }),
      params: {},
      context: {},
    })) as Response;
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="c981-audit-${head!.seq}.csv"`);
    const text = await response.text();
    const [header, ...lines] = text.trim().split(/\r?\n(?=\d+,)/);
    expect(header).toMatch(/^seq,recorded_at,actor,action,entity_type,entity_id,reason,before,after,prev_hash,hash/);
    expect(lines).toHaveLength(head!.seq);
    expect(text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(text).toContain("'+1 reason");
    const [exported] = await database.client`select actor, action, entity_id, after::text as after from audit_trail order by seq desc limit 1`;
    expect(exported).toMatchObject({ actor: "rita.r", action: "audit.export", entity_id: `up-to-${head!.seq}` });
  });

  it("refuses a bad filter instead of exporting more than asked", async () => {
    const response = (await loader({
      request: new Request("http://127.0.0.1/audit.csv?from=yesterday", { headers: { Cookie: cookie } }),
      params: {},
      context: {},
    })) as Response;
    expect(response.status).toBe(400);
  });
});
