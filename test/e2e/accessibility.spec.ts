import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { generateDemoPlant } from "../../app/seed/demo-plant";
import {
  approve,
  attemptSignIn,
  DEMO_PASSWORD,
  expect,
  expectNoSeriousA11yViolations,
  isFocused,
  openSignatureDialog,
  type Proposal,
  proposeAndSubmit,
  proposeDraft,
  runAnalysis,
  signIn,
  signOut,
  tabTo,
  test,
} from "./support";

/**
 * Accessibility (issue 24, item 5): axe-core's WCAG 2.1 A/AA rules find no serious or critical
 * violation on any screen, each visited as a role that may see it, with real demo objects and in
 * its open states (the signature dialog, the Administration menu, forms showing their errors);
 * and a reviewer signs a request with the keyboard alone.
 *
 * Every route module under app/routes must be visited here: the last test compares the routes the
 * checks actually rendered (the Remix router's matches) with the directory, so a new screen fails
 * until a line is added to SCREENS (or, for a resource/action-only route, to NOT_SCREENS).
 */

// A missing element fails in seconds, not at the test's end (one test visits every screen).
test.use({ actionTimeout: 15_000 });

const ROUTES_DIR = path.resolve(import.meta.dirname, "../../app/routes");

/** Route modules without a screen of their own: downloads and action-only routes (no default export). */
const NOT_SCREENS = [
  "audit.anchors[.]tar.tsx",
  "audit[.]csv.tsx",
  "change-requests.$number.analysis[.]csv.tsx",
  "change-requests.$number.analysis[.]json.tsx",
  "change-requests.new_.context.tsx",
  "genealogy.$itemId.recall[.]csv.tsx",
  "reconciliation[.]csv.tsx",
  "traceability.$site_.justification[.]csv.tsx",
  "sign-out.tsx",
];

/** The demo objects the parametrised screens show, made through the UI in the first test. */
interface Demo {
  draft: string;
  inReview: string;
  approved: string;
  released: string;
  releasedVersion: number;
  traceItemId: string;
  /** The records (ids) of an EPCIS document imported at CLT and of one refused there. */
  epcisImported: number;
  epcisRefused: number;
}
let demo: Demo | null = null;
const demoObjects = (): Demo => {
  if (!demo) throw new Error("the demo change requests were not made (the first test failed)");
  return demo;
};

type User = "vera.viewer" | "emil.engineer" | "quinn.quality" | "remy.release" | "ada.admin";

interface Screen {
  /** The route module (file under app/routes) the page renders; the router's match is checked against it. */
  route: string;
  /** Who looks at it (null: signed out). */
  as: User | null;
  /** The address, or how to make it from the demo objects. */
  path: string | ((d: Demo) => string);
  /** What the check is called in a failure, when one route is visited in several states. */
  label?: string;
  /** Puts the page in the state to check (a dialog open, a form's errors shown). */
  then?: (page: Page, d: Demo) => Promise<void>;
}

/** Submits the page's only form (named by its button) empty, and waits for its errors to show. */
const submitEmpty = (button: string) => async (page: Page) => {
  await page.getByRole("button", { name: button, exact: true }).click();
  await expect(page.locator('[aria-invalid="true"], [role="alert"]').first()).toBeVisible();
};

/** For error pages: the page shows the error, not the screen the route would show. */
const expectHeading = (name: string) => async (page: Page) => {
  await expect(page.getByRole("heading", { level: 1, name, exact: true })).toBeVisible();
};

/** Adding a screen is one line here. Several lines may name one route in different states. */
const SCREENS: Screen[] = [
  { route: "sign-in.tsx", as: null, path: "/sign-in" },
  { route: "sign-in.tsx", as: null, path: "/sign-in", label: "sign-in with errors", then: submitEmpty("Sign in") },
  { route: "$.tsx", as: "vera.viewer", path: "/no-such-page", label: "404 page", then: expectHeading("Not found") },
  { route: "users._index.tsx", as: "vera.viewer", path: "/users", label: "403 page", then: expectHeading("Not allowed") },
  { route: "_index.tsx", as: "emil.engineer", path: "/" },
  { route: "_index.tsx", as: "quinn.quality", path: "/" },
  { route: "_index.tsx", as: "remy.release", path: "/" },
  { route: "_index.tsx", as: "ada.admin", path: "/" },
  { route: "_index.tsx", as: "ada.admin", path: "/", label: "Administration menu open", then: openAdministrationMenu },
  { route: "materials._index.tsx", as: "vera.viewer", path: "/materials" },
  { route: "materials.$partNumber.tsx", as: "vera.viewer", path: "/materials/SUB-1005" },
  { route: "sites._index.tsx", as: "vera.viewer", path: "/sites" },
  { route: "label-templates._index.tsx", as: "vera.viewer", path: "/label-templates" },
  { route: "rule-sets._index.tsx", as: "vera.viewer", path: "/rule-sets" },
  { route: "rule-sets.$site.$version.tsx", as: "vera.viewer", path: (d) => `/rule-sets/PEN/${d.releasedVersion}` },
  { route: "rule-sets.$site.compare.tsx", as: "vera.viewer", path: (d) => `/rule-sets/PEN/compare?from=1&to=${d.releasedVersion}` },
  { route: "genealogy._index.tsx", as: "vera.viewer", path: "/genealogy" },
  { route: "genealogy._index.tsx", as: "vera.viewer", path: "/genealogy?q=S0", label: "genealogy search results" },
  { route: "genealogy.$itemId.tsx", as: "vera.viewer", path: (d) => `/genealogy/${d.traceItemId}` },
  { route: "reconciliation._index.tsx", as: "vera.viewer", path: "/reconciliation" },
  { route: "quality-events._index.tsx", as: "quinn.quality", path: "/quality-events" },
  { route: "quality-events.$number.tsx", as: "quinn.quality", path: "/quality-events/QE-0001", label: "a quality event with its reach" },
  { route: "traceability._index.tsx", as: "vera.viewer", path: "/traceability" },
  { route: "traceability.$site.tsx", as: "vera.viewer", path: "/traceability/EIN" },
  { route: "traceability.$site.tsx", as: "vera.viewer", path: "/traceability/EIN?status=meets", label: "traceability justification filtered by status" },
  { route: "traceability.$site_.print.tsx", as: "vera.viewer", path: "/traceability/EIN/print" },
  { route: "external-masters._index.tsx", as: "ada.admin", path: "/external-masters" },
  { route: "external-masters._index.tsx", as: "ada.admin", path: "/external-masters", label: "a refused ERP file", then: importBadErpFile },
  { route: "imports.epcis.tsx", as: "emil.engineer", path: "/imports/epcis" },
  { route: "quality-events.new.tsx", as: "quinn.quality", path: "/quality-events/new?site=EIN&reference=lot&material=RAW-2001&identifier=L1" },
  { route: "quality-events.new.tsx", as: "quinn.quality", path: "/quality-events/new", label: "a refused new quality event", then: raiseEmptyQualityEvent },
  { route: "quality-events.import.tsx", as: "quinn.quality", path: "/quality-events/import" },
  { route: "quality-events.import.tsx", as: "quinn.quality", path: "/quality-events/import", label: "a refused QMS export", then: importBadQmsFile },
  {
    route: "imports.epcis.tsx",
    as: "emil.engineer",
    path: "/imports/epcis",
    label: "an EPCIS document imported, with created items and quarantined GTINs",
    then: async (page) => void (await importEpcis(page, epcisDocument(3))),
  },
  {
    route: "imports.epcis.tsx",
    as: "emil.engineer",
    path: "/imports/epcis",
    label: "an EPCIS document refused, with its errors",
    then: async (page) => void (await importEpcis(page, epcisDocument(4, { refused: true }))),
  },
  { route: "imports.epcis_.$id.tsx", as: "emil.engineer", path: (d) => `/imports/epcis/${d.epcisImported}`, label: "record of an EPCIS import" },
  { route: "imports.epcis_.$id.tsx", as: "quinn.quality", path: (d) => `/imports/epcis/${d.epcisRefused}`, label: "record of a refused EPCIS import" },
  { route: "change-requests._index.tsx", as: "emil.engineer", path: "/change-requests" },
  { route: "change-requests.new.tsx", as: "emil.engineer", path: "/change-requests/new" },
  { route: "change-requests.new.tsx", as: "emil.engineer", path: "/change-requests/new", label: "proposal with errors", then: submitEmpty("Create draft") },
  { route: "change-requests.$number.tsx", as: "emil.engineer", path: (d) => `/change-requests/${d.draft}`, label: "draft request" },
  { route: "change-requests.$number.edit.tsx", as: "emil.engineer", path: (d) => `/change-requests/${d.draft}/edit` },
  { route: "change-requests.$number.tsx", as: "quinn.quality", path: (d) => `/change-requests/${d.inReview}`, label: "request in review" },
  {
    route: "change-requests.$number.tsx",
    as: "quinn.quality",
    path: (d) => `/change-requests/${d.inReview}`,
    label: "signature dialog open, with errors",
    then: async (page, d) => {
      await runAnalysis(page);
      const dialog = await openSignatureDialog(page, d.inReview);
      await dialog.getByRole("button", { name: `Sign ${d.inReview}` }).click();
      await expect(dialog.locator('[aria-invalid="true"]').first()).toBeVisible();
    },
  },
  { route: "change-requests.$number.tsx", as: "quinn.quality", path: (d) => `/change-requests/${d.approved}`, label: "approved request" },
  { route: "change-requests.$number.tsx", as: "quinn.quality", path: (d) => `/change-requests/${d.released}`, label: "released request" },
  { route: "change-requests.$number.record.tsx", as: "quinn.quality", path: (d) => `/change-requests/${d.released}/record` },
  { route: "audit._index.tsx", as: "quinn.quality", path: "/audit" },
  { route: "releases._index.tsx", as: "remy.release", path: "/releases" },
  { route: "releases._index.tsx", as: "remy.release", path: "/releases", label: "release form with errors", then: submitEmpty("Sign and release at PEN") },
  { route: "users._index.tsx", as: "ada.admin", path: "/users" },
  { route: "users._index.tsx", as: "ada.admin", path: "/users", label: "new user form with errors", then: submitEmpty("Create user") },
  { route: "users.$username.tsx", as: "ada.admin", path: "/users/emil.engineer" },
  { route: "runtime-clients._index.tsx", as: "ada.admin", path: "/runtime-clients" },
  {
    route: "runtime-clients._index.tsx",
    as: "ada.admin",
    path: "/runtime-clients",
    label: "new client form with errors",
    then: submitEmpty("Create runtime client"),
  },
  { route: "keys._index.tsx", as: "ada.admin", path: "/keys" },
  { route: "account.password.tsx", as: "emil.engineer", path: "/account/password" },
  { route: "account.password.tsx", as: "emil.engineer", path: "/account/password", label: "password form with errors", then: submitEmpty("Change password") },
  // The demo objects' story told Quinn of three reviews and Emil of approvals and a release.
  { route: "inbox.tsx", as: "quinn.quality", path: "/inbox", label: "inbox with unread notifications", then: expectUnreadNotification },
  { route: "inbox.tsx", as: "emil.engineer", path: "/inbox", label: "inbox with unread notifications", then: expectUnreadNotification },
  { route: "account.notifications.tsx", as: "emil.engineer", path: "/account/notifications" },
  {
    route: "account.notifications.tsx",
    as: "emil.engineer",
    path: "/account/notifications",
    label: "notification settings with errors",
    then: async (page) => {
      await page.getByLabel("E-mail address").fill("not an address");
      await page.getByRole("button", { name: "Save notification settings" }).click();
      await expect(page.getByLabel("E-mail address")).toHaveAttribute("aria-invalid", "true");
    },
  },
];

async function expectUnreadNotification(page: Page) {
  await expect(
    page
      .getByRole("list", { name: "Notifications" })
      .getByRole("listitem", { name: /^Unread: / })
      .first(),
  ).toBeVisible();
}

/**
 * An EPCIS 2.0 document of this spec's own (event IDs and serials no other spec uses): event 0
 * commissions AX{n}001 and AX{n}002 of the demo GTIN 04012345111118; event 1 packs AQ{n}001 of
 * GTIN 04012345777772, which no material has (quarantined). Refused: event 1's action is JUMP.
 */
function epcisDocument(n: number, options: { refused?: boolean } = {}) {
  const event = (i: number, fields: Record<string, unknown>) => ({
    eventID: `urn:uuid:c98100a1-0000-4000-800${n}-00000000000${i}`,
    eventTime: `2024-04-0${n}T0${8 + i}:00:00Z`,
    eventTimeZoneOffset: "+01:00",
    ...fields,
  });
  const document = {
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: `2024-04-0${n}T12:00:00Z`,
    epcisBody: {
      eventList: [
        event(0, {
          type: "ObjectEvent",
          action: "ADD",
          bizStep: "commissioning",
          epcList: [`urn:epc:id:sgtin:4012345.011111.AX${n}001`, `urn:epc:id:sgtin:4012345.011111.AX${n}002`],
        }),
        event(1, {
          type: "AggregationEvent",
          action: options.refused ? "JUMP" : "ADD",
          bizStep: "packing",
          parentID: `urn:epc:id:sscc:4012345.00000031${n}0`,
          childEPCs: [`urn:epc:id:sgtin:4012345.077777.AQ${n}001`],
        }),
      ],
    },
  };
  const name = `accessibility-${n}${options.refused ? "-refused" : ""}.json`;
  return { name, mimeType: "application/json", buffer: Buffer.from(JSON.stringify(document, null, 2)) };
}

/** As someone who may import at CLT: import the document there through the screen; returns its record's id. */
async function importEpcis(page: Page, file: ReturnType<typeof epcisDocument>): Promise<number> {
  await page.goto("/imports/epcis");
  await page.getByLabel("Site", { exact: true }).selectOption("CLT");
  await page.getByLabel("EPCIS document").setInputFiles(file);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  const record = page.getByRole("link", { name: /^Record of this (import|refusal)$/ });
  await expect(record).toBeVisible();
  if (file.name.endsWith("-refused.json")) await expect(page.getByRole("heading", { name: "Refused: nothing was imported" })).toBeVisible();
  else await expect(page.getByRole("region", { name: "Imported into CLT" })).toBeVisible();
  return Number((await record.getAttribute("href"))!.match(/\/imports\/epcis\/(\d+)$/)![1]);
}

/** An ERP file with errors: refused whole, its errors in a table (nothing is imported). */
async function importBadErpFile(page: Page) {
  await page.getByLabel("System", { exact: true }).selectOption("erp");
  const csv = "part_number,tracking,site\nASM-1003,batch,EIN\n,serial,XYZ\n";
  await page.getByLabel("CSV file").setInputFiles({ name: "erp-bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("table", { name: /Errors/ })).toBeVisible();
}

async function raiseEmptyQualityEvent(page: Page) {
  await page.getByRole("button", { name: "Raise the event" }).click();
  await expect(page.getByText("Choose the site")).toBeVisible();
}

async function importBadQmsFile(page: Page) {
  const csv = "qms_id,kind,site,severity,title,references\nNCR-1,NCR,EIN,tiny,Bore oversize,serial:FIN-1001:NO-SUCH\n";
  await page.getByLabel("CSV file").setInputFiles({ name: "qms-bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("table", { name: /Errors/ })).toBeVisible();
}

async function openAdministrationMenu(page: Page) {
  const summary = page.getByRole("navigation", { name: "Primary" }).getByText("Administration", { exact: true });
  await summary.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Keys" })).toBeVisible();
}

/** The route modules (files under app/routes) the checks rendered, read from the Remix router. */
const rendered = new Set<string>();

/** The leaf route the page shows, as its file name under app/routes (after hydration). */
async function leafRouteFile(page: Page): Promise<string> {
  await page.waitForFunction(() => (window as unknown as { __remixRouter?: unknown }).__remixRouter !== undefined);
  const id = await page.evaluate(() => {
    const router = (window as unknown as { __remixRouter: { state: { matches: { route: { id: string } }[] } } }).__remixRouter;
    return router.state.matches.at(-1)!.route.id;
  });
  const file = fs.readdirSync(ROUTES_DIR).find((f) => `routes/${f.replace(/\.tsx?$/, "")}` === id);
  if (!file) throw new Error(`route ${id} has no file under app/routes`);
  return file;
}

async function checkScreen(page: Page, screen: Screen) {
  const address = typeof screen.path === "string" ? screen.path : screen.path(demoObjects());
  const label = `${screen.label ?? screen.route} as ${screen.as ?? "signed out"}`;
  await page.goto(address);
  await expect(page.getByRole("main")).toBeVisible();
  const file = await leafRouteFile(page);
  expect(file, `${label}: the route ${address} renders`).toBe(screen.route);
  if (screen.then) await screen.then(page, demoObjects());
  await expectNoSeriousA11yViolations(page, label);
  rendered.add(file);
}

test.describe
  .serial("accessibility", () => {
    test("the demo objects: a draft, a request in review, an approved one and one released at PEN, EPCIS imports, a failed sign-in", async ({ page }) => {
      // Three proposals, two approvals with impact analyses and a release: several pages' stories.
      test.setTimeout(240_000);
      const proposal = (material: string): Proposal => ({
        title: `Serialize ${material} at PEN (accessibility)`,
        material,
        site: "PEN",
        trackingMode: "serial",
        scanAtConsumption: "identify",
        format: "PEN-SER",
      });
      await signIn(page, "emil.engineer");
      const draft = await proposeDraft(page, proposal("ASM-1005"));
      const inReview = await proposeAndSubmit(page, proposal("ASM-1007"));
      const approved = await proposeAndSubmit(page, proposal("ASM-1008"));
      const released = await proposeAndSubmit(page, proposal("ASM-1004"));
      // An EPCIS document imported at CLT and one refused there, through the screen.
      const epcisImported = await importEpcis(page, epcisDocument(1));
      const epcisRefused = await importEpcis(page, epcisDocument(2, { refused: true }));
      await signOut(page);
      await signIn(page, "quinn.quality");
      await approve(page, approved, "quinn.quality");
      await approve(page, released, "quinn.quality");
      await signOut(page);

      await signIn(page, "remy.release");
      await page.goto("/releases");
      const pen = page.locator("section", { has: page.getByRole("heading", { name: /^PEN/ }) });
      await pen.getByLabel(`Release ${released} at PEN`).check();
      if (await pen.getByLabel("User name").count()) await pen.getByLabel("User name").fill("remy.release");
      await pen.getByLabel("Password").fill(DEMO_PASSWORD);
      const waiver = pen.getByLabel("Waiver for unresolved ERP/PLM disagreements");
      if (await waiver.count()) await waiver.fill("PLM and ERP corrections are planned separately (accessibility e2e).");
      await pen.getByRole("button", { name: "Sign and release at PEN" }).click();
      await page.waitForURL(/\/rule-sets\/PEN\/\d+\?released=1/);
      const releasedVersion = Number(page.url().match(/\/rule-sets\/PEN\/(\d+)/)![1]);

      // A finished device with a genealogy, from the demo plant's generator.
      const device = generateDemoPlant().traceItems.find((it) => it.site === "EIN" && it.kind === "serial" && it.partNumber.startsWith("FIN-"))!;
      await page.goto(`/genealogy?q=${encodeURIComponent(device.identifier)}`);
      const link = page.getByRole("link", { name: new RegExp(`^${device.identifier} `) }).first();
      const traceItemId = (await link.getAttribute("href"))!.match(/\/genealogy\/(\d+)/)![1]!;
      await signOut(page);
      // A failed sign-in (an unknown name) for the administrator's dashboard to list.
      await attemptSignIn(page, "nobody.accessibility", "not-the-password");
      await expect(page.getByRole("alert")).toBeVisible();
      demo = { draft, inReview, approved, released, releasedVersion, traceItemId, epcisImported, epcisRefused };
    });

    // One test over every screen, so that a run lists every failing screen (the check is soft).
    test("every screen, as each role that sees it, has no serious or critical axe violation; every route module is checked", async ({ page }) => {
      // Not a speed budget: about 90 screens, each rendered and checked by axe; a busy 2-core machine took over 400 s.
      test.setTimeout(900_000);
      for (const user of [...new Set(SCREENS.map((s) => s.as))]) {
        if (user) await signIn(page, user);
        for (const screen of SCREENS.filter((s) => s.as === user)) await checkScreen(page, screen);
        if (user) await signOut(page);
      }
      const files = fs.readdirSync(ROUTES_DIR).filter((f) => /\.tsx?$/.test(f));
      // A module listed as not a screen must not render one: no default export.
      for (const file of NOT_SCREENS) {
        expect(files, `${file} listed in NOT_SCREENS exists`).toContain(file);
        expect(fs.readFileSync(path.join(ROUTES_DIR, file), "utf8"), `${file} is listed as having no screen`).not.toMatch(/export default/);
      }
      const screens = files.filter((f) => !NOT_SCREENS.includes(f)).sort();
      expect([...rendered].sort(), "route modules checked for accessibility (add the new ones to SCREENS)").toEqual(screens);
    });
  });

test("a reviewer signs a change request with the keyboard alone", async ({ page }) => {
  test.setTimeout(150_000);
  await signIn(page, "emil.engineer");
  const number = await proposeAndSubmit(page, {
    title: "Serialize ASM-1009 at PEN (keyboard)",
    material: "ASM-1009",
    site: "PEN",
    trackingMode: "serial",
    scanAtConsumption: "identify",
    format: "PEN-SER",
  });
  await signOut(page);

  // From here on: addresses typed, Tab, Space, Enter and typing; no clicks.
  await page.goto("/sign-in");
  await tabTo(page, page.getByLabel("User name"));
  await page.keyboard.type("quinn.quality");
  await tabTo(page, page.getByLabel("Password"));
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));

  await page.goto(`/change-requests/${number}`);
  const analysis = page.getByRole("region", { name: "Impact analysis" });
  await tabTo(page, analysis.getByRole("button", { name: "Run impact analysis" }));
  await page.keyboard.press("Enter");
  await page.waitForURL(/[?&]done=analyse/);
  await expect(analysis.getByRole("button", { name: "Run a fresh impact analysis" })).toBeEnabled();

  const review = page.getByRole("button", { name: `Review ${number}` });
  await tabTo(page, review);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Sign ${number}` });
  await expect(dialog).toBeVisible();
  // The dialog opens with the focus on the first meaning, Approved: Space chooses it.
  const approved = dialog.getByLabel(/^Approved:/);
  await expect(approved).toBeFocused();
  await page.keyboard.press("Space");
  await expect(approved).toBeChecked();
  // Tab through the form: tick each finding, type the credentials, and sign with Enter.
  const findings = dialog.getByRole("group", { name: "Findings you acknowledge" }).getByRole("checkbox");
  const sign = dialog.getByRole("button", { name: `Sign ${number}` });
  for (let presses = 0; presses < 40 && !(await isFocused(sign)); presses++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => ({
      name: (document.activeElement as HTMLInputElement | null)?.name ?? "",
      type: (document.activeElement as HTMLInputElement | null)?.type ?? "",
    }));
    if (focused.name === "acknowledged" && focused.type === "checkbox") await page.keyboard.press("Space");
    if (focused.name === "username") await page.keyboard.type("quinn.quality");
    if (focused.name === "password") await page.keyboard.type(DEMO_PASSWORD);
  }
  for (const box of await findings.all()) await expect(box).toBeChecked();
  await expect(sign).toBeFocused();
  await page.keyboard.press("Enter");

  const signature = page.getByRole("listitem", { name: "Signature of Quinn Quality", exact: true });
  await expect(signature).toBeVisible();
  await expect(signature).toContainText("Approved");
  await expect(dialog).toBeHidden();
});
