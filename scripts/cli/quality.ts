/** quality:raise, quality:import, quality:list, quality:close (ADR 034, ADR 038). */
import { parseArgs } from "node:util";
import { DomainError } from "../../app/utils/errors.server";
import { cliActor, positionalsLast, readStdin, type Command } from "./command";

const RAISE_OPTIONS = {
  json: { type: "boolean" },
  kind: { type: "string" },
  site: { type: "string" },
  severity: { type: "string" },
  title: { type: "string" },
  description: { type: "string" },
  "raised-at": { type: "string" },
  "external-id": { type: "string" },
  status: { type: "string" },
  disposition: { type: "string" },
  ref: { type: "string", multiple: true },
} as const;

export const qualityCommands: Record<"quality:raise" | "quality:import" | "quality:list" | "quality:close", Command> = {
  "quality:raise": {
    summary: "raise a quality event (nonconformance, concession, rework order, complaint) on serials, lots, containers or materials; audited",
    usage:
      "quality:raise --kind K --site S --severity minor|major|critical --title T [--description D] [--raised-at ISO] [--external-id ID] --ref serial:PART:ID|lot:PART:ID|container:SSCC|material:PART … | quality:raise --json < event.json",
    async run(database, args) {
      const { values } = parseArgs({ args, options: RAISE_OPTIONS, strict: true });
      const { raiseQualityEvent } = await import("../../app/services/quality-events.server");
      const { parseReferenceList } = await import("../../app/domain/quality-event-csv");
      let input: unknown;
      if (values.json) {
        const text = await readStdin();
        try {
          input = JSON.parse(text);
        } catch (error) {
          throw new DomainError("invalid", `stdin is not JSON: ${(error as Error).message}`);
        }
      } else {
        const refs = parseReferenceList(values.ref ?? []);
        if (!refs.ok) throw new DomainError("invalid", "--ref", { references: refs.errors });
        input = {
          kind: values.kind,
          site: values.site,
          severity: values.severity,
          title: values.title,
          description: values.description ?? "",
          ...(values["raised-at"] ? { raisedAt: values["raised-at"] } : {}),
          ...(values["external-id"] ? { externalId: values["external-id"] } : {}),
          ...(values.status ? { status: values.status } : {}),
          ...(values.disposition ? { disposition: values.disposition } : {}),
          references: refs.references,
        };
      }
      const raised = await raiseQualityEvent(database.db, { username: cliActor(), ability: null }, input as Record<string, unknown>);
      console.log(`raised ${raised.number}`);
      return 0;
    },
  },
  "quality:import": {
    summary: "import quality events from a QMS export (CSV; docs/decisions/038); all or nothing, exit 65 with every error by row and column",
    usage: "quality:import FILE",
    async run(database, args) {
      const { positionals } = parseArgs({ args: positionalsLast(args, {}), allowPositionals: true, strict: true });
      const file = positionals[0];
      if (!file || positionals.length > 1) throw new DomainError("invalid", "usage: quality:import FILE");
      const fs = await import("node:fs/promises");
      const path = await import("node:path");
      const { QMS_CSV_MAX_BYTES, describeQmsErrors } = await import("../../app/domain/quality-event-csv");
      const stat = await fs.stat(file).catch(() => null);
      if (!stat?.isFile()) throw new DomainError("not_found", `${file}: no such file`);
      // The size limit before anything is read (the parser checks it again on the bytes).
      if (stat.size > QMS_CSV_MAX_BYTES)
        throw new DomainError("invalid", `${file} is ${stat.size} bytes; at most ${QMS_CSV_MAX_BYTES} are read (split the export)`);
      const { importQualityEvents } = await import("../../app/services/quality-event-import.server");
      // The CLI acts for the operator at every site (no ability), as its other commands do.
      const result = await importQualityEvents(
        database.db,
        { username: cliActor(), ability: null },
        { fileName: path.basename(file), bytes: await fs.readFile(file) },
      );
      if (!result.ok) {
        console.error(`REFUSED: ${file} (SHA-256 ${result.digest}): ${result.errorCount} error(s) in ${result.rows} row(s); nothing was imported.`);
        console.error(describeQmsErrors(result));
        return 65;
      }
      console.log(
        `${result.nothingChanged ? "unchanged (imported before): " : "imported "}${file} (SHA-256 ${result.digest}): ${result.rows} row(s); created ${result.created.length}, status changed ${result.changed.length}, unchanged ${result.unchanged.length}`,
      );
      for (const e of result.created) console.log(`  created ${e.number}  ${e.qmsId} (row ${e.row})`);
      for (const e of result.changed)
        console.log(`  changed ${e.number}  ${e.qmsId} (row ${e.row}): ${e.from.status}/${e.from.disposition} → ${e.to.status}/${e.to.disposition}`);
      for (const n of result.notes) console.log(`  note: row ${n.row}, ${n.column}: ${n.message}`);
      return 0;
    },
  },
  "quality:list": {
    summary: "list quality events (newest first), optionally by site and status",
    usage: "quality:list [--site EIN] [--status open|contained|closed]",
    async run(database, args) {
      const { values } = parseArgs({ args, options: { site: { type: "string" }, status: { type: "string" } }, strict: true });
      const { QUALITY_EVENT_STATUSES } = await import("../../app/domain/quality-event");
      const status = values.status?.toLowerCase();
      if (status !== undefined && !(QUALITY_EVENT_STATUSES as readonly string[]).includes(status))
        throw new DomainError("invalid", `--status: one of ${QUALITY_EVENT_STATUSES.join(", ")}`);
      const { qualityEventLines } = await import("../../app/queries/quality-event-lines.server");
      const rows = await qualityEventLines(database.db, { site: values.site, status: status as (typeof QUALITY_EVENT_STATUSES)[number] | undefined });
      if (!rows.length) console.log("no quality events");
      for (const r of rows)
        console.log([r.number, r.site, r.kind, r.severity, r.status, r.disposition, r.externalId ?? "-", r.raisedAt, r.references, r.title].join("\t"));
      return 0;
    },
  },
  "quality:close": {
    summary: "close a quality event with its disposition (quality reviewer's act; audited, with the reason)",
    usage: "quality:close QE-0001 --disposition use_as_is|rework|repair|scrap|return_to_supplier|quarantine --reason R",
    async run(database, args) {
      const options = { disposition: { type: "string" }, reason: { type: "string" } } as const;
      const { values, positionals } = parseArgs({ args: positionalsLast(args, options), options, allowPositionals: true, strict: true });
      const number = positionals[0];
      if (!number || positionals.length > 1 || !values.disposition || !values.reason)
        throw new DomainError("invalid", "usage: quality:close QE-0001 --disposition D --reason R");
      const qe = number.toUpperCase();
      const { qualityEventVersion } = await import("../../app/queries/quality-event-lines.server");
      const { changeQualityEventStatus } = await import("../../app/services/quality-events.server");
      const held = await qualityEventVersion(database.db, qe);
      if (!held) throw new DomainError("not_found", `quality event ${qe} does not exist`);
      // The lifecycle (closed is final, closing needs a disposition) is the service's check.
      await changeQualityEventStatus(database.db, { username: cliActor(), ability: null }, qe, {
        status: "closed",
        disposition: values.disposition,
        comment: values.reason,
        rowVersion: held.rowVersion,
      });
      console.log(`closed ${qe}: disposition ${values.disposition}`);
      return 0;
    },
  },
};
