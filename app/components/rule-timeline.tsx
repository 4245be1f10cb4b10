import { Link } from "@remix-run/react";
import type { RuleInForce } from "~/domain/tracking-rule";
import type { RuleTimelineRow, RuleTimelineStatus } from "~/domain/rule-timeline";
import { Badge } from "./badge";
import { DataTable } from "./data-table";
import { UtcTime, UtcTimeOrOpen } from "./time";
import { TrackingBadge } from "./tracking-badge";

/** One line saying which rule governs the material at a site now. */
export function RuleInForceSummary({ inForce, siteCode }: { inForce: RuleInForce; siteCode: string }) {
  if (inForce.state === "legacy") {
    return (
      <p className="in-force">
        In force now: <Badge>legacy</Badge>{" "}
        {inForce.firstVersion ? (
          <>
            no rule until version {inForce.firstVersion.version} takes effect at <UtcTime value={inForce.firstVersion.effectiveFrom} />
          </>
        ) : (
          "the site has no rule-set version yet"
        )}
      </p>
    );
  }
  const version = <Link to={`/rule-sets/${siteCode}/${inForce.version.version}`}>version {inForce.version.version}</Link>;
  if (inForce.state === "unruled") {
    return (
      <p className="in-force">
        In force now: <Badge>no rule</Badge> {version} has no rule for this material
      </p>
    );
  }
  return (
    <p className="in-force">
      In force now: <TrackingBadge mode={inForce.rule.trackingMode} /> from {version} (rule introduced by version {inForce.rule.version})
    </p>
  );
}

/** The material's rule history at a site, oldest first, starting with the legacy period. */
export function RuleTimeline({ id, siteCode, rows }: { id: string; siteCode: string; rows: readonly RuleTimelineRow[] }) {
  return (
    <DataTable id={id} caption={`Rule history at ${siteCode}`}>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Effective from</th>
          <th scope="col">Effective to</th>
          <th scope="col">Tracking mode</th>
          <th scope="col">Containers</th>
          <th scope="col">Consumption scan</th>
          <th scope="col">Identifier formats</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          if (row.kind === "legacy") {
            return (
              <tr key="legacy" className="row-legacy">
                <th scope="row">legacy</th>
                <td>
                  <span className="muted">beginning</span>
                </td>
                <td>
                  <UtcTimeOrOpen value={row.to} />
                </td>
                <td colSpan={4}>
                  {row.firstVersion === null ? "No rule: the site has no rule-set version yet" : `No rule: legacy data, before version ${row.firstVersion}`}
                </td>
                <td>
                  <TimelineStatus status={row.status} />
                </td>
              </tr>
            );
          }
          if (row.kind === "unruled") {
            const versions =
              row.toVersion === null
                ? `v${row.fromVersion}+`
                : row.toVersion === row.fromVersion
                  ? `v${row.fromVersion}`
                  : `v${row.fromVersion}–v${row.toVersion}`;
            return (
              <tr key="unruled" className="row-legacy">
                <th scope="row">{versions}</th>
                <td>
                  <UtcTime value={row.from} />
                </td>
                <td>
                  <UtcTimeOrOpen value={row.to} />
                </td>
                <td colSpan={4}>No rule for this material in these versions</td>
                <td>
                  <TimelineStatus status={row.status} />
                </td>
              </tr>
            );
          }
          const { rule } = row;
          return (
            <tr key={rule.version} className={row.status === "in force" ? "row-current" : undefined}>
              <th scope="row">
                <Link to={`/rule-sets/${siteCode}/${rule.version}`}>v{rule.version}</Link>
              </th>
              <td>
                <UtcTime value={rule.effectiveFrom} />
              </td>
              <td>
                <UtcTimeOrOpen value={rule.effectiveTo} />
              </td>
              <td>
                <TrackingBadge mode={rule.trackingMode} />
              </td>
              <td>{rule.containerTracking ? "yes" : "no"}</td>
              <td>{rule.consumptionScan}</td>
              <td>
                {rule.identifierFormatCodes.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <ul className="inline-list">
                    {rule.identifierFormatCodes.map((code) => (
                      <li key={code}>
                        <code>{code}</code>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <TimelineStatus status={row.status} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </DataTable>
  );
}

function TimelineStatus({ status }: { status: RuleTimelineStatus }) {
  if (status === "in force") return <Badge tone="good">in force</Badge>;
  if (status === "scheduled") return <Badge tone="info">scheduled</Badge>;
  return <span className="muted">past</span>;
}
