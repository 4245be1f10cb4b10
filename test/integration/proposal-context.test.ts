/**
 * Proposing where people look (issue 23): the rule in force the new-request form shows beside a
 * tracking change (app/queries/proposal-context.server.ts), compared with plain SQL over the demo
 * plant's rule-set versions and tracking rules; the look-alike warning of the chosen formats; the
 * prefills from the material page and the Reconciliation report; and the server refusing, by name,
 * an identifier format the site does not offer — with nothing written.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { beforeAll, describe, expect, it } from "vitest";
import * as contextRoute from "../../app/routes/change-requests.new_.context";
import * as newRequest from "../../app/routes/change-requests.new";
import { proposalContext } from "../../app/queries/proposal-context.server";
import { DEMO_PASSWORD, seedDemoPlant } from "../../app/seed/seed.server";
import { signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import { SESSION_COOKIE } from "../../app/utils/auth.server";
import { registerDatabase, type Database } from "../../app/utils/db.server";
import { createTestDatabase } from "../setup/database";
import { testKeyRing } from "../setup/keys";

let database: Database;
let cookie = "";
let now: Date;

beforeAll(async () => {
  database = await createTestDatabase();
  registerDatabase(Promise.resolve(database));
  await seedDemoPlant(database.db, await testKeyRing(database.db));
  const session = await signIn(database.db, { username: "emil.engineer", password: DEMO_PASSWORD, ip: null, maxHours: 1 });
  if (!session.ok) throw new Error("cannot sign in emil.engineer");
  cookie = `${SESSION_COOKIE}=${session.sessionId}`;
  const [row] = await database.client`select now() as now`;
  now = new Date(row!.now as string);
}, 120_000);

type Args = LoaderFunctionArgs & ActionFunctionArgs;
async function call<T>(fn: unknown, path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Cookie", cookie);
  const result = await (fn as (args: Args) => Promise<unknown>)({
    request: new Request(`http://127.0.0.1${path}`, { ...init, headers }),
    params: {},
    context: {},
  });
  return result as T;
}
/** A loader's or action's answer made with `data(…, init)`: its body and status. */
const unwrap = <T>(result: unknown): { status: number; body: T } => {
  const r = result as { data?: T; init?: { status?: number } };
  return r && typeof r === "object" && "init" in r ? { status: r.init?.status ?? 200, body: r.data as T } : { status: 200, body: result as T };
};

interface PlainRule {
  site: string;
  version_in_force: number | null;
  version_from: string | null;
  first_version: number | null;
  tracking_mode: string | null;
  identifier_format_codes: string[] | null;
  consumption_scan: string | null;
  container_tracking: boolean | null;
  rule_version: number | null;
  rule_from: string | null;
}

/** The rule in force, read plainly: the site's highest version already effective, and the material's rule of the highest version up to it. */
async function plainRulesInForce(partNumber: string, at: Date): Promise<PlainRule[]> {
  return database.client<PlainRule[]>`
    with v as (
      select site_id, max(version) as version from rule_set_versions where effective_from <= ${at.toISOString()}::timestamptz group by site_id
    )
    select s.code as site, v.version as version_in_force,
           to_char(vf.effective_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as version_from,
           (select min(version) from rule_set_versions x where x.site_id = s.id) as first_version,
           r.tracking_mode::text as tracking_mode, r.identifier_format_codes, r.consumption_scan::text as consumption_scan,
           r.container_tracking, r.version as rule_version,
           to_char(r.effective_from at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as rule_from
    from sites s
    left join v on v.site_id = s.id
    left join rule_set_versions vf on vf.site_id = s.id and vf.version = v.version
    left join lateral (
      select tr.tracking_mode, tr.identifier_format_codes, tr.consumption_scan, tr.container_tracking, tr.effective_from, rsv.version
      from tracking_rules tr
      join rule_set_versions rsv on rsv.id = tr.rule_set_version_id
      join materials m on m.id = tr.material_id
      where m.part_number = ${partNumber} and tr.site_id = s.id and rsv.version <= v.version
      order by rsv.version desc limit 1
    ) r on true
    order by s.code`;
}

describe("the rule in force beside a tracking change", () => {
  it("says for each material and site what plain SQL says: state, mode, formats, scan, containers, versions and since when", async () => {
    const materials = await database.client<
      { part_number: string }[]
    >`select part_number from materials where system_role is null order by part_number limit 12`;
    const siteCodes = (await database.client<{ code: string }[]>`select code from sites order by code`).map((s) => s.code);
    let ruled = 0;
    for (const { part_number: partNumber } of materials) {
      const context = await proposalContext(database.db, { partNumber, sites: siteCodes, formats: [], at: now, visible: null });
      const plain = await plainRulesInForce(partNumber, now);
      expect(context.sites.map((s) => s.site)).toEqual(plain.map((p) => p.site));
      for (const [i, p] of plain.entries()) {
        const shown = context.sites[i]!.inForce;
        if (p.version_in_force === null) {
          expect(shown, `${partNumber}@${p.site}`).toEqual({
            state: "legacy",
            firstVersion: p.first_version === null ? null : expect.objectContaining({ version: p.first_version }),
          });
        } else if (p.rule_version === null) {
          expect(shown, `${partNumber}@${p.site}`).toEqual({ state: "unruled", version: { version: p.version_in_force, effectiveFrom: p.version_from } });
        } else {
          ruled++;
          expect(shown, `${partNumber}@${p.site}`).toEqual({
            state: "ruled",
            version: { version: p.version_in_force, effectiveFrom: p.version_from },
            rule: {
              trackingMode: p.tracking_mode,
              containerTracking: p.container_tracking,
              identifierFormatCodes: [...p.identifier_format_codes!].sort(),
              consumptionScan: p.consumption_scan,
              version: p.rule_version,
              effectiveFrom: p.rule_from,
            },
          });
        }
      }
    }
    expect(ruled).toBeGreaterThan(0);
  });

  it("a material at a site before its first version is legacy, with no rule (read at an instant before the plant's first version)", async () => {
    const [first] = await database.client<{ at: Date }[]>`select min(effective_from) as at from rule_set_versions`;
    const before = new Date(new Date(first!.at).getTime() - 1);
    const context = await proposalContext(database.db, { partNumber: "SUB-1005", sites: ["EIN"], formats: [], at: before, visible: null });
    expect(context.sites[0]!.inForce.state).toBe("legacy");
  });

  it("warns of EIN-SER with EIN-LOT for SUB-1005 at EIN (made at WC30, whose shop label prints both), and of nothing without a chosen format", async () => {
    const withSerial = await proposalContext(database.db, { partNumber: "SUB-1005", sites: ["EIN"], formats: ["EIN-SER"], at: now, visible: null });
    const ein = withSerial.sites[0]!;
    expect(ein.chosen).toEqual(["EIN-SER"]);
    expect(ein.templates).toContain("WC30-SHOP");
    expect(ein.lookAlikes.pairs.map((p) => [p.formats, p.example.data])).toEqual([[["EIN-LOT", "EIN-SER"], "S00000000"]]);
    const none = await proposalContext(database.db, { partNumber: "SUB-1005", sites: ["EIN"], formats: [], at: now, visible: null });
    expect(none.sites[0]!.lookAlikes.pairs).toEqual([]);
    // Another site's pattern is not EIN's: left out of what is compared there.
    const foreign = await proposalContext(database.db, { partNumber: "SUB-1005", sites: ["EIN"], formats: ["CLT-SER"], at: now, visible: null });
    expect(foreign.sites[0]!.chosen).toEqual([]);
  });

  it("the resource route answers the form's question, and refuses an oversized one", async () => {
    const ok = unwrap<{ context: { sites: { site: string }[] } }>(
      await call(contextRoute.loader, "/change-requests/new/context?material=sub-1005&site=EIN&format=EIN-SER"),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.context.sites.map((s) => s.site)).toEqual(["EIN"]);
    const many = Array.from({ length: 21 }, (_, i) => `format=F${i}`).join("&");
    const refused = unwrap<{ error: string }>(await call(contextRoute.loader, `/change-requests/new/context?material=SUB-1005&${many}`));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toContain("At most 20 identifier formats");
  });
});

describe("a reader limited to some sites", () => {
  it("is told nothing of a site they cannot see: no rule, formats, look-alikes nor templates there (query and route)", async () => {
    // A material ruled at both EIN and CLT (plain SQL), so that CLT has something to leak.
    const [both] = await database.client<{ part_number: string; clt_formats: string[] }[]>`
      select m.part_number, (select array_agg(distinct f) from tracking_rules r2 join sites s2 on s2.id = r2.site_id, unnest(r2.identifier_format_codes) f
                             where r2.material_id = m.id and s2.code = 'CLT') as clt_formats
      from materials m
      where exists (select 1 from tracking_rules r join sites s on s.id = r.site_id where r.material_id = m.id and s.code = 'EIN')
        and exists (select 1 from tracking_rules r join sites s on s.id = r.site_id where r.material_id = m.id and s.code = 'CLT'
                    and cardinality(r.identifier_format_codes) > 0)
      order by m.part_number limit 1`;
    expect(both).toBeDefined();
    const partNumber = both!.part_number;
    const [ein] = await database.client<{ id: number }[]>`select id from sites where code = 'EIN'`;
    const [clt] = await database.client<{ name: string }[]>`select name from sites where code = 'CLT'`;
    const everywhere = await proposalContext(database.db, { partNumber, sites: ["EIN", "CLT"], formats: ["EIN-SER", "CLT-SER"], at: now, visible: null });

    const limited = await proposalContext(database.db, {
      partNumber,
      sites: ["EIN", "CLT"],
      formats: ["EIN-SER", "CLT-SER"],
      at: now,
      visible: [ein!.id],
    });
    expect(limited.sites.map((s) => s.site)).toEqual(["EIN"]);
    const leaks = (text: string) => [clt!.name, "CLT", ...both!.clt_formats.filter((f) => f.startsWith("CLT"))].filter((word) => text.includes(word));
    // The control: seen from every site, CLT's rule is there, and the words would be found.
    expect(everywhere.sites.map((s) => s.site).sort()).toEqual(["CLT", "EIN"]);
    expect(leaks(JSON.stringify(everywhere))).toContain(clt!.name);
    expect(leaks(JSON.stringify(limited))).toEqual([]);

    // Through the route, as an engineer of EIN only.
    await createUser(
      database.db,
      "test",
      {
        username: "eve.ein",
        displayName: "Eve at EIN",
        password: "a long enough passphrase",
        grants: [{ role: "engineer", site: "EIN" }],
        reason: "site-limited",
      },
      "fixture",
    );
    const session = await signIn(database.db, { username: "eve.ein", password: "a long enough passphrase", ip: null, maxHours: 1 });
    if (!session.ok) throw new Error("cannot sign in eve.ein");
    const emil = cookie;
    cookie = `${SESSION_COOKIE}=${session.sessionId}`;
    const asEve = await call(contextRoute.loader, `/change-requests/new/context?material=${partNumber}&site=EIN&site=CLT&format=EIN-SER&format=CLT-SER`)
      .then((result) => unwrap<{ context: { sites: { site: string }[] } }>(result))
      .finally(() => {
        cookie = emil;
      });
    expect(asEve.status).toBe(200);
    expect(asEve.body.context.sites.map((s) => s.site)).toEqual(["EIN"]);
    expect(leaks(JSON.stringify(asEve.body))).toEqual([]);
  });
});

describe("prefilled proposals", () => {
  it("from the material page: the material at the site, starting from the rule in force, with the rule shown", async () => {
    const data = await call<Awaited<ReturnType<typeof newRequest.loader>>>(newRequest.loader, "/change-requests/new?material=SUB-1005&site=EIN");
    const [plain] = (await plainRulesInForce("SUB-1005", now)).filter((p) => p.site === "EIN");
    expect(data.prefill?.changes).toEqual([
      {
        kind: "tracking",
        material: "SUB-1005",
        sites: ["EIN"],
        trackingMode: plain!.tracking_mode,
        containerTracking: plain!.container_tracking,
        identifierFormatCodes: [...plain!.identifier_format_codes!].sort(),
        consumptionScan: plain!.consumption_scan,
      },
    ]);
    expect(data.contexts[0]?.sites[0]).toMatchObject({ site: "EIN", inForce: { state: "ruled", version: { version: plain!.version_in_force } } });
  });

  it("from the Reconciliation report: the formats the new mode needs, from the rule in force and the site's usual format", async () => {
    // ASM-1003 at EIN to serial: its lot formats stay; the serial format is the one EIN's rules in force list most (ties: the site's own).
    const data = await call<Awaited<ReturnType<typeof newRequest.loader>>>(
      newRequest.loader,
      "/change-requests/new?cites=ASM-1003%40EIN&material=ASM-1003&site=EIN&trackingMode=serial",
    );
    const tracking = data.prefill?.changes.find((c) => c.kind === "tracking") as { identifierFormatCodes: string[]; trackingMode: string } | undefined;
    expect(tracking?.trackingMode).toBe("serial");
    const [plain] = (await plainRulesInForce("ASM-1003", now)).filter((p) => p.site === "EIN");
    const kinds = await database.client<{ code: string; identifies: string; site: string | null }[]>`
      select f.code, f.identifies::text as identifies, s.code as site from identifier_formats f left join sites s on s.id = f.site_id`;
    const kindOf = new Map(kinds.map((k) => [k.code, k.identifies]));
    const keptLots = (plain!.identifier_format_codes ?? []).filter((c) => kindOf.get(c) === "lot" || kindOf.get(c) === "serial");
    const [usual] = await database.client<{ code: string }[]>`
      with v as (select site_id, max(version) as version from rule_set_versions where effective_from <= ${now.toISOString()}::timestamptz group by site_id),
      rif as (
        select distinct on (tr.material_id) tr.identifier_format_codes
        from tracking_rules tr join rule_set_versions rsv on rsv.id = tr.rule_set_version_id join v on v.site_id = tr.site_id
        join sites s on s.id = tr.site_id
        where s.code = 'EIN' and rsv.version <= v.version
        order by tr.material_id, rsv.version desc
      )
      select f.code from identifier_formats f left join sites s on s.id = f.site_id
      where f.identifies = 'serial' and (s.code is null or s.code = 'EIN')
      order by (select count(*) from rif where f.code = any(rif.identifier_format_codes)) desc, (s.code is not null) desc, f.code
      limit 1`;
    const expected = keptLots.some((c) => kindOf.get(c) === "serial") ? keptLots : [...keptLots, usual!.code];
    expect(tracking?.identifierFormatCodes).toEqual([...new Set(expected)].sort());
    expect(tracking?.identifierFormatCodes.length).toBeGreaterThan(0);
  });
});

describe("identifier formats checked against the site's list on the server", () => {
  const form = (formats: string[]) => {
    const body = new URLSearchParams({
      title: "Serialize SUB-1005 at EIN differently",
      justification: "Checking the site's list of formats.",
      riskAssessment: "None: the server must refuse the format.",
      legacyDataPlan: "grandfather",
      "changes[0].kind": "tracking",
      "changes[0].material": "SUB-1005",
      "changes[0].sites": "EIN",
      "changes[0].trackingMode": "serial",
      "changes[0].consumptionScan": "identify",
    });
    for (const f of formats) body.append("changes[0].identifierFormatCodes", f);
    return { method: "POST", body, headers: { "Content-Type": "application/x-www-form-urlencoded" } };
  };
  const count = async () => Number((await database.client`select count(*)::int as n from change_requests`)[0]!.n);
  const auditHead = async () => String((await database.client`select coalesce(max(seq), 0)::text as seq from audit_trail`)[0]!.seq);

  it("names another site's pattern and an unknown code, at the field, and writes nothing", async () => {
    const [requests, audit] = [await count(), await auditHead()];
    const result = unwrap<{ fieldErrors: Record<string, string[]> }>(
      await call(newRequest.action, "/change-requests/new", form(["EIN-SER", "CLT-SER", "NOPE-9"])),
    );
    expect(result.status).toBe(400);
    expect(result.body.fieldErrors["changes.0.identifierFormatCodes"]).toEqual(
      expect.arrayContaining(["EIN: CLT-SER is an identifier format of CLT, not one of EIN's", "EIN: unknown identifier format NOPE-9"]),
    );
    expect(await count()).toBe(requests);
    expect(await auditHead()).toBe(audit);
  });

  it("accepts formats from the list (checkboxes send one value each)", async () => {
    const before = await count();
    await expect(call(newRequest.action, "/change-requests/new", form(["EIN-SER", "GS1-SGTIN"]))).rejects.toSatisfy(
      (thrown) => thrown instanceof Response && thrown.status === 302 && /\/change-requests\/CR-\d+/.test(thrown.headers.get("Location") ?? ""),
    );
    expect(await count()).toBe(before + 1);
    const [row] = await database.client`select content from change_requests order by id desc limit 1`;
    expect((row!.content as { changes: { identifierFormatCodes: string[] }[] }).changes[0]!.identifierFormatCodes).toEqual(["EIN-SER", "GS1-SGTIN"]);
  });
});
