/** sites:list, rules:at: the plant and its rules in force. */
import { currentDataPoint } from "../../app/queries/audit.server";
import { materialAndSiteIds, sitesWithLatestRuleSet } from "../../app/queries/cli-plant.server";
import { ruleInForce } from "../../app/queries/tracking-rules.server";
import { DomainError } from "../../app/utils/errors.server";
import type { Command } from "./command";

export const plantCommands: Record<"sites:list" | "rules:at", Command> = {
  "sites:list": {
    summary: "list sites with their current rule-set version",
    async run(database) {
      for (const site of await sitesWithLatestRuleSet(database.db)) {
        const latest = site.latest;
        console.log(
          [
            site.code.padEnd(6),
            site.name.padEnd(44),
            site.timeZone.padEnd(20),
            latest ? `v${latest.version} from ${latest.effectiveFrom.toISOString()}` : "no rule set",
          ].join(" "),
        );
      }
      console.log(`data point (audit seq): ${await currentDataPoint(database.db)}`);
      return 0;
    },
  },
  "rules:at": {
    summary: "the tracking rule in force for a material at a site at a time",
    usage: "rules:at <part number> <site code> [<ISO time, default now>]",
    async run(database, args) {
      const [partNumber, siteCode, time] = args;
      if (!partNumber || !siteCode) throw new DomainError("invalid", "usage: rules:at <part number> <site code> [<ISO time>]");
      const at = time ? new Date(time) : new Date();
      if (Number.isNaN(at.getTime())) throw new DomainError("invalid", `time: ${time} is not an ISO-8601 time`);
      const { materialId, siteId } = await materialAndSiteIds(database.db, partNumber, siteCode);
      if (materialId === undefined) throw new DomainError("not_found", `material ${partNumber} does not exist`);
      if (siteId === undefined) throw new DomainError("not_found", `site ${siteCode} does not exist`);
      const result = await ruleInForce(database.db, { materialId, siteId, at });
      console.log(JSON.stringify({ partNumber, site: siteCode, at: at.toISOString(), ...result }, null, 2));
      return 0;
    },
  },
};
