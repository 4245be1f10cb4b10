import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { positionalsLast } from "../../scripts/cli/command";

const exportOptions = { out: { type: "string" } } as const;

function parseExport(args: string[]) {
  return parseArgs({ args: positionalsLast(args, exportOptions), options: exportOptions, allowPositionals: true, strict: true });
}

describe("CLI positionals that begin with a dash (a key id is base64url: 1 in 64 begins with '-')", () => {
  it("reads '-7Ab' as the key id, before or after --out", () => {
    expect(parseExport(["-7Ab", "--out", "f.jwk"])).toMatchObject({ values: { out: "f.jwk" }, positionals: ["-7Ab"] });
    expect(parseExport(["--out", "f.jwk", "-7Ab"])).toMatchObject({ values: { out: "f.jwk" }, positionals: ["-7Ab"] });
    expect(parseExport(["--out=f.jwk", "--xY"])).toMatchObject({ values: { out: "f.jwk" }, positionals: ["--xY"] });
  });

  it("keeps an explicit -- and a boolean option", () => {
    const options = { force: { type: "boolean" } } as const;
    const parsed = parseArgs({ args: positionalsLast(["--force", "--", "--out"], options), options, allowPositionals: true, strict: true });
    expect(parsed).toMatchObject({ values: { force: true }, positionals: ["--out"] });
  });

  it("without it, node's parseArgs refuses the same id (the failure this guards against)", () => {
    expect(() => parseArgs({ args: ["-7Ab", "--out", "f.jwk"], options: exportOptions, allowPositionals: true, strict: true })).toThrow(/Unknown option '-7'/);
  });
});
