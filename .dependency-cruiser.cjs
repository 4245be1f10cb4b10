/**
 * The layer boundaries (ADR 022, docs/architecture.md): `npm run check:boundaries` fails on any
 * import that crosses them, on an import cycle, and on a `.server` module reached from browser code.
 *
 * LAYERS is the whole policy: each layer's folders and the layers it may import (itself always).
 * docs/architecture.md's layer table says exactly the same; test/unit/architecture-doc.test.ts
 * compares the two through the rules generated here. Test files are not checked (they reach into
 * every layer on purpose).
 */

/** @type {{ name: string, folders: string[], mayImport: string[] }[]} */
const LAYERS = [
  { name: "routes", folders: ["app/routes/", "app/root.tsx", "app/entry.server.tsx", "app/routes.ts"], mayImport: ["services", "queries", "domain", "policies", "schemas", "utils", "components", "packages"] },
  { name: "components", folders: ["app/components/"], mayImport: ["domain", "policies", "schemas", "utils", "packages"] },
  { name: "services", folders: ["app/services/"], mayImport: ["queries", "domain", "policies", "schemas", "utils", "db", "packages"] },
  { name: "queries", folders: ["app/queries/"], mayImport: ["domain", "policies", "schemas", "utils", "db", "packages"] },
  { name: "seed", folders: ["app/seed/"], mayImport: ["services", "queries", "domain", "policies", "schemas", "utils", "db", "packages"] },
  { name: "domain", folders: ["app/domain/"], mayImport: ["packages"] },
  { name: "policies", folders: ["policies/"], mayImport: ["domain", "packages"] },
  { name: "schemas", folders: ["app/schemas/"], mayImport: ["domain", "utils", "packages"] },
  { name: "utils", folders: ["app/utils/"], mayImport: ["domain", "policies", "db", "packages"] },
  { name: "db", folders: ["db/"], mayImport: ["domain", "packages"] },
  { name: "server", folders: ["server/"], mayImport: ["services", "queries", "seed", "domain", "policies", "schemas", "utils", "packages"] },
  { name: "scripts", folders: ["scripts/"], mayImport: ["server", "services", "queries", "seed", "domain", "policies", "schemas", "utils", "packages"] },
  { name: "clients", folders: ["clients/"], mayImport: ["packages"] },
  { name: "packages", folders: ["packages/"], mayImport: [] },
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A folder ending in "/" is everything under it; any other entry is that one file. */
const pattern = (folders) => `^(?:${folders.map((f) => (f.endsWith("/") ? escape(f) : `${escape(f)}$`)).join("|")})`;
const byName = new Map(LAYERS.map((layer) => [layer.name, layer]));
const foldersOf = (names) =>
  names.flatMap((name) => {
    const layer = byName.get(name);
    if (!layer) throw new Error(`.dependency-cruiser.cjs: unknown layer ${name}`);
    return layer.folders;
  });
const allFolders = LAYERS.flatMap((layer) => layer.folders);
const TESTS = "(?:\\.test\\.tsx?$|\\.spec\\.tsx?$|^test/)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...LAYERS.map((layer) => ({
      name: `layer-${layer.name}`,
      comment: `${layer.name} may import: ${[layer.name, ...layer.mayImport].join(", ")} (docs/architecture.md)`,
      severity: "error",
      from: { path: pattern(layer.folders), pathNot: TESTS },
      to: { path: pattern(allFolders), pathNot: pattern(foldersOf([layer.name, ...layer.mayImport])) },
    })),
    {
      name: "not-in-a-layer",
      comment: "every project module belongs to a layer of docs/architecture.md",
      severity: "error",
      from: { path: "^(?:app|server|scripts|policies|db|clients|packages)/", pathNot: `(?:${pattern(allFolders)}|${TESTS})` },
      to: {},
    },
    {
      name: "to-a-layer",
      comment: "nothing imports a project module that no layer lists (a module that imports nothing is still placed)",
      severity: "error",
      from: { pathNot: TESTS },
      to: { path: "^(?:app|server|scripts|policies|db|clients|packages)/", pathNot: `(?:${pattern(allFolders)}|\\.css$)` },
    },
    {
      name: "no-server-in-browser",
      comment: "browser code (components, schemas, domain, policies) never imports a .server module",
      severity: "error",
      from: { path: pattern(foldersOf(["components", "schemas", "domain", "policies", "packages"])), pathNot: TESTS },
      to: { path: "\\.server\\.tsx?$" },
    },
    {
      name: "browser-safe-utils",
      comment: "a util without .server in its name is shared with the browser (schemas, components): it imports no .server module and no db",
      severity: "error",
      from: { path: "^app/utils/", pathNot: `(?:\\.server\\.tsx?$|${TESTS})` },
      to: { path: "(?:\\.server\\.tsx?$|^db/)" },
    },
    {
      name: "packages-self-contained",
      comment: "a package under packages/ imports only its own files and zod (its tests also vitest), never app/, server/, scripts/, clients/: the runtime client uses it without the portal (ADR 040)",
      severity: "error",
      from: { path: "^packages/([^/]+)/" },
      to: { dependencyTypesNot: ["core"], pathNot: "^(?:packages/$1/|node_modules/(?:zod|vitest)/)" },
    },
    {
      name: "packages-pure",
      comment: "a package's modules read no files and no network: only its generator script and tests use Node built-ins (ADR 040)",
      severity: "error",
      from: { path: "^packages/", pathNot: `(?:/generate-dictionary\\.ts$|${TESTS})` },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "clients-not-the-portal",
      comment: "the runtime client imports nothing of the portal (app/, server/, scripts/, policies/, db/); shared code lives in packages/ (ADR 040)",
      severity: "error",
      from: { path: "^clients/" },
      to: { path: "^(?:app|server|scripts|policies|db)/" },
    },
    {
      name: "no-circular",
      comment: "no import cycles (type-only imports included)",
      severity: "error",
      from: { pathNot: TESTS },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that does not resolve is a typo or a missing package",
      severity: "error",
      from: { pathNot: TESTS },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(?:^node_modules/|^build/|\\.d\\.ts$)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
