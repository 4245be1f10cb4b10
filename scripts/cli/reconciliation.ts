/** reconciliation:report, reconciliation:system-of-record (ADR 015). */
import { parseArgs } from "node:util";
import { cliActor, type Command } from "./command";

export const reconciliationCommands: Record<"reconciliation:report" | "reconciliation:system-of-record", Command> = {
  "reconciliation:report": {
    summary: "the ERP/PLM/C-981 tracking disagreements as CSV on stdout",
    async run(database) {
      const { reconciliationCsv, reconciliationReport } = await import("../../app/queries/reconciliation.server");
      const report = await reconciliationReport(database.db);
      process.stdout.write(reconciliationCsv(report));
      console.error(
        `${report.rows.length} disagreement(s) among ${report.compared} material/site pair(s) compared; system of record: serial ${report.systemOfRecord.serial}, lot ${report.systemOfRecord.lot}`,
      );
      return 0;
    },
  },
  "reconciliation:system-of-record": {
    summary: "set the system of record for an identifier type (audited)",
    usage: "reconciliation:system-of-record serial|lot erp|plm|c981 --reason R",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
      const { setSystemOfRecord } = await import("../../app/services/reconciliation.server");
      const { changed } = await setSystemOfRecord(database.db, cliActor(), {
        identifierType: positionals[0] ?? "",
        system: positionals[1] ?? "",
        reason: values.reason ?? "",
      });
      console.log(
        changed
          ? `system of record for ${positionals[0]}: ${positionals[1]}`
          : `unchanged: ${positionals[1]} already is the system of record for ${positionals[0]}`,
      );
      return 0;
    },
  },
};
