/** import:epcis, epcis:quarantine, epcis:relabel-containers (ADR 014), import:erp, import:plm (ADR 015). */
import { parseArgs } from "node:util";
import type { Database } from "../../app/utils/db.server";
import { readEnv } from "../../app/utils/env.server";
import { DomainError } from "../../app/utils/errors.server";
import { cliActor, type Command } from "./command";

export const importCommands: Record<"import:epcis" | "epcis:quarantine" | "epcis:relabel-containers" | "import:erp" | "import:plm", Command> = {
  "import:epcis": {
    summary: "import an EPCIS 2.0 JSON/JSON-LD document into a site's genealogy (refused whole, with located errors, if it breaks the standard)",
    usage:
      "import:epcis FILE --site EIN [--clock-skew 1d]  (times later than now + skew refuse the document; seconds or s/m/h/d; default C981_EPCIS_CLOCK_SKEW_SECONDS, 1 day)",
    async run(database, args) {
      const { values, positionals } = parseArgs({
        args,
        options: { site: { type: "string" }, "clock-skew": { type: "string" } },
        allowPositionals: true,
        strict: true,
      });
      const file = positionals[0];
      if (!file || !values.site) throw new DomainError("invalid", "usage: import:epcis FILE --site SITE [--clock-skew 1d]");
      const { parseClockSkew } = await import("../../app/domain/epcis/plausibility");
      const skew =
        values["clock-skew"] === undefined ? { ok: true as const, seconds: readEnv().C981_EPCIS_CLOCK_SKEW_SECONDS } : parseClockSkew(values["clock-skew"]);
      if (!skew.ok) throw new DomainError("invalid", `--clock-skew: ${skew.message}`);
      const { importEpcisDocument } = await import("../../app/services/epcis-import.server");
      const { fileSource } = await import("../../app/services/epcis-stream.server");
      const path = await import("node:path");
      const result = await importEpcisDocument(database.db, cliActor(), {
        fileName: path.basename(file),
        siteCode: values.site,
        source: fileSource(file),
        clockSkewSeconds: skew.seconds,
      });
      for (const w of result.warnings) console.log(`warning: event ${w.eventIndex ?? "-"} ${w.path || "/"}: ${w.message}`);
      if (!result.ok) {
        console.error(`REFUSED ${file} (SHA-256 ${result.fileDigest}): ${result.errorCount} error(s); nothing was stored`);
        for (const e of result.errors) console.error(`  event ${e.eventIndex ?? "-"} ${e.path || "/"}: ${e.message}`);
        if (result.errorCount > result.errors.length) console.error(`  … and ${result.errorCount - result.errors.length} more`);
        return 65;
      }
      console.log(`${result.unchangedDocument ? "unchanged (imported before)" : "imported"} ${file} (SHA-256 ${result.fileDigest}) at ${result.site}`);
      console.log(
        `  events ${result.events}: applied ${result.applied}, quarantined ${result.quarantined}, superseded on arrival ${result.supersededOnArrival}, earlier events declared erroneous ${result.declared}, already held ${result.unchanged}`,
      );
      console.log(
        `  trace items created ${result.itemsCreated}, first seen earlier than held ${result.itemsMovedEarlier}, genealogy edges created ${result.edgesCreated}, identifiers kept but not placed ${result.notPlaced}`,
      );
      if (result.unknownGtins.length) console.log(`  quarantined until a change request creates the material: GTIN ${result.unknownGtins.join(", ")}`);
      if (result.pendingCorrectiveEventIds.length) console.log(`  corrective events not held yet: ${result.pendingCorrectiveEventIds.join(", ")}`);
      return 0;
    },
  },
  "epcis:quarantine": {
    summary: "list quarantined EPCIS events by unknown GTIN; --release GTIN applies those whose materials now all exist",
    usage: "epcis:quarantine [--release GTIN]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { release: { type: "string" } }, strict: true });
      const { releaseQuarantineNow } = await import("../../app/services/epcis-quarantine.server");
      const { quarantineList } = await import("../../app/queries/epcis-quarantine.server");
      if (values.release) {
        const result = await releaseQuarantineNow(database.db, values.release, cliActor());
        console.log(
          `GTIN ${values.release}: ${result.released} event(s) released into the genealogy, ${result.stillQuarantined} still waiting for other materials`,
        );
        return 0;
      }
      const rows = await quarantineList(database.db);
      if (!rows.length) console.log("no quarantined EPCIS events");
      for (const r of rows) console.log(`${r.gtin}  ${String(r.events).padStart(6)} event(s)`);
      return 0;
    },
  },
  "epcis:relabel-containers": {
    summary: "put containers imported under a held unit's material back under the logistics-unit material (ADR 014); audited, idempotent",
    usage: "epcis:relabel-containers",
    async run(database, args) {
      parseArgs({ args, options: {}, strict: true });
      const { relabelImportedContainers } = await import("../../app/services/epcis-quarantine.server");
      const { relabelled } = await relabelImportedContainers(database.db, cliActor());
      if (!relabelled.length) console.log("no imported container is labelled with a product; nothing changed");
      for (const r of relabelled) console.log(`${r.identifier}  was ${r.was}`);
      if (relabelled.length) console.log(`${relabelled.length} container(s) now under the logistics-unit material`);
      return 0;
    },
  },
  "import:erp": {
    summary: "import an ERP material-master snapshot (CSV; docs/decisions/015); refused whole, exit 65, on any error",
    usage: "import:erp FILE",
    run: (database, args) => importSnapshot(database, "erp", args),
  },
  "import:plm": {
    summary: "import a PLM serialization-flag snapshot (CSV; docs/decisions/015); refused whole, exit 65, on any error",
    usage: "import:plm FILE",
    run: (database, args) => importSnapshot(database, "plm", args),
  },
};

async function importSnapshot(database: Database, system: "erp" | "plm", args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  const file = positionals[0];
  if (!file) throw new DomainError("invalid", `usage: import:${system} FILE`);
  const { createReadStream, existsSync } = await import("node:fs");
  const path = await import("node:path");
  if (!existsSync(file)) throw new DomainError("not_found", `${file}: no such file`);
  const { importExternalSnapshot } = await import("../../app/services/external-import.server");
  const { describeErrors } = await import("../../app/domain/external-snapshot");
  const result = await importExternalSnapshot(database.db, cliActor(), { system, fileName: path.basename(file), source: () => createReadStream(file) });
  if (!result.ok) {
    console.error(`REFUSED: ${file} (${system.toUpperCase()}): ${result.errorCount} error(s) in ${result.rows} row(s); nothing was imported.`);
    console.error(describeErrors(result));
    return 65;
  }
  console.log(
    `imported ${system.toUpperCase()} snapshot #${result.snapshotId}: ${result.rows} rows, sha256 ${result.digest}; replaced ${result.replaced.rows} records`,
  );
  if (result.unknownCount) {
    console.log(
      `${result.unknownCount} part number(s) unknown to C-981 (imported, shown in the reconciliation report): ${result.unknown
        .slice(0, 20)
        .map((u) => `${u.partNumber}${u.site ? `@${u.site}` : ""} (line ${u.line})`)
        .join(", ")}${result.unknownCount > 20 ? ", …" : ""}`,
    );
  }
  return 0;
}
