/**
 * docs/architecture.md's layer table is exactly the boundary check's configuration (ADR 022): the
 * same layers, the same folders, the same imports allowed, read from the rules dependency-cruiser runs.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface Rule {
  name: string;
  from: { path?: string };
  to: { path?: string; pathNot?: string };
}

/** `^(?:app/routes/|app/root\.tsx$)` → ["app/routes/", "app/root.tsx"] */
function foldersOf(pattern: string | undefined): string[] {
  const match = /^\^\(\?:(.*)\)$/.exec(pattern ?? "");
  if (!match) throw new Error(`not a folder pattern: ${pattern}`);
  return match[1]!.split("|").map((alternative) => alternative.replace(/\$$/, "").replace(/\\(.)/g, "$1"));
}

function fromConfig(): Map<string, { folders: string[]; mayImport: string[] }> {
  const config = createRequire(import.meta.url)(path.join(root, ".dependency-cruiser.cjs")) as { forbidden: Rule[] };
  const rules = config.forbidden.filter((rule) => rule.name.startsWith("layer-"));
  const layerOfFolder = new Map<string, string>();
  for (const rule of rules) for (const folder of foldersOf(rule.from.path)) layerOfFolder.set(folder, rule.name.slice("layer-".length));
  const layers = new Map<string, { folders: string[]; mayImport: string[] }>();
  for (const rule of rules) {
    const name = rule.name.slice("layer-".length);
    // Every layer's rule forbids imports of any layer's folders except the allowed ones.
    expect(foldersOf(rule.to.path).sort()).toEqual([...layerOfFolder.keys()].sort());
    const allowed = new Set(foldersOf(rule.to.pathNot).map((folder) => layerOfFolder.get(folder) ?? `unknown folder ${folder}`));
    expect(allowed.has(name), `${name} may import itself`).toBe(true);
    allowed.delete(name);
    layers.set(name, { folders: foldersOf(rule.from.path), mayImport: [...allowed].sort() });
  }
  return layers;
}

function fromDoc(): Map<string, { folders: string[]; mayImport: string[] }> {
  const text = fs.readFileSync(path.join(root, "docs/architecture.md"), "utf8");
  const section = text.slice(text.indexOf("## Layers"));
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2); // the header and its separator
  const layers = new Map<string, { folders: string[]; mayImport: string[] }>();
  for (const row of rows) {
    const [name = "", folders = "", mayImport = ""] = row
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    layers.set(name, {
      folders: [...folders.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
      mayImport:
        mayImport === "—"
          ? []
          : mayImport
              .split(",")
              .map((s) => s.trim())
              .sort(),
    });
  }
  return layers;
}

describe("docs/architecture.md", () => {
  it("lists exactly the layers, folders and allowed imports the boundary check enforces", () => {
    const doc = fromDoc();
    const config = fromConfig();
    expect(doc.size).toBeGreaterThan(10);
    expect(Object.fromEntries(doc)).toEqual(Object.fromEntries(config));
  });

  it("names the rules besides the table that the check runs", () => {
    const config = createRequire(import.meta.url)(path.join(root, ".dependency-cruiser.cjs")) as { forbidden: Rule[] };
    const text = fs.readFileSync(path.join(root, "docs/architecture.md"), "utf8");
    for (const rule of config.forbidden.filter((r) => !r.name.startsWith("layer-"))) expect(text).toContain(`**${rule.name}**`);
  });
});
