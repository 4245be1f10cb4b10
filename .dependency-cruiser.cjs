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
  { name: "routes", folders: ["app/routes/", "app/root.tsx", "app/entry.server.tsx", "app/routes.ts"], mayImport: ["services", "queries", "domain", "policies", "schemas", "utils", "components"] },
  { name: "components", folders: ["app/components/"], mayImport: ["domain", "policies", "schemas", "utils"] },
  { name: "services", folders: ["app/services/"], mayImport: ["queries", "domain", "policies", "schemas", "utils", "db"] },
  { name: "queries", folders: ["app/queries/"], mayImport: ["domain", "policies", "schemas", "utils", "db"] },
  { name: "seed", folders: ["app/seed/"], mayImport: ["services", "queries", "domain", "policies", "schemas", "utils", "db"] },
  { name: "domain", folders: ["app/domain/"], mayImport: [] },
  { name: "policies", folders: ["policies/"], mayImport: ["domain"] },
  { name: "schemas", folders: ["app/schemas/"], mayImport: ["domain", "utils"] },
  { name: "utils", folders: ["app/utils/"], mayImport: ["domain", "policies", "db"] },
  { name: "db", folders: ["db/"], mayImport: ["domain"] },
  { name: "server", folders: ["server/"], mayImport: ["services", "queries", "seed", "domain", "policies", "schemas", "utils"] },
  { name: "scripts", folders: ["scripts/"], mayImport: ["server", "services", "queries", "seed", "domain", "policies", "schemas", "utils"] },
  { name: "clients", folders: ["clients/"], mayImport: [] },
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
      from: { path: "^(?:app|server|scripts|policies|db|clients)/", pathNot: `(?:${pattern(allFolders)}|${TESTS})` },
      to: {},
    },
    {
      name: "to-a-layer",
      comment: "nothing imports a project module that no layer lists (a module that imports nothing is still placed)",
      severity: "error",
      from: { pathNot: TESTS },
      to: { path: "^(?:app|server|scripts|policies|db|clients)/", pathNot: `(?:${pattern(allFolders)}|\\.css$)` },
    },
    {
      name: "no-server-in-browser",
      comment: "browser code (components, schemas, domain, policies) never imports a .server module",
      severity: "error",
      from: { path: pattern(foldersOf(["components", "schemas", "domain", "policies"])), pathNot: TESTS },
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
