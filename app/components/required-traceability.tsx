import { Link } from "@remix-run/react";
import type { MaterialTraceability } from "~/domain/traceability-justification";
import { DataTable, EmptyRow } from "./data-table";
import { UtcTime } from "./time";
import { JustificationStatusBadge } from "./traceability-justification";

/** A material's required traceability (ADR 035): required vs actual per site, and the justification history. */
export function RequiredTraceability({ data }: { data: MaterialTraceability }) {
  const governing = data.perSite[0]?.row.requirement ?? null;
  return (
    <section className="card" aria-labelledby="required-traceability-heading" id="required-traceability">
      <h2 id="required-traceability-heading">Required traceability</h2>
      {governing ? (
        <p>
          <strong>{governing.level}</strong>, stated for {governing.target}: {governing.justification}{" "}
          {governing.references.length ? <span className="muted">({governing.references.join(", ")})</span> : null}
        </p>
      ) : (
        <p className="notice notice-warn">No requirement is stated for this material: the quality system must say what it needs.</p>
      )}
      <DataTable id="required-vs-actual" caption="Required vs actual, per site" captionDetail="the rule in force at each of your sites against the requirement">
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Actual</th>
            <th scope="col">Verdict</th>
            <th scope="col">Shortfalls and deviations</th>
          </tr>
        </thead>
        <tbody>
          {data.perSite.length === 0 ? (
            <EmptyRow colSpan={4}>None of your sites.</EmptyRow>
          ) : (
            data.perSite.map(({ site, row }) => (
              <tr key={site}>
                <th scope="row">
                  <Link to={`/traceability/${site}`}>{site}</Link>
                </th>
                <td>{row.ruleText}</td>
                <td>
                  <JustificationStatusBadge status={row.status} />
                </td>
                <td>
                  {[
                    ...row.shortfalls,
                    ...row.deviations.map((d) => `deviation ${d.changeRequest}${d.expiresOn ? ` until ${d.expiresOn}` : ""}${d.expired ? " (expired)" : ""}`),
                  ].join("; ") || "—"}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </DataTable>
      <DataTable
        id="requirement-history"
        caption="Justification history"
        captionDetail="every requirement that governed or governs this material, oldest first"
      >
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Stated for</th>
            <th scope="col">Requirement</th>
            <th scope="col">Justification</th>
            <th scope="col">Set by</th>
          </tr>
        </thead>
        <tbody>
          {data.history.length === 0 ? (
            <EmptyRow colSpan={6}>No requirement was ever stated.</EmptyRow>
          ) : (
            data.history.map((r) => (
              <tr key={r.id}>
                <td>
                  <UtcTime value={r.effectiveFrom} />
                </td>
                <td>{r.effectiveTo ? <UtcTime value={r.effectiveTo} /> : "in force"}</td>
                <td>
                  {r.scope === "material"
                    ? "this material"
                    : r.scope === "family"
                      ? `family ${r.family}`
                      : `risk class ${r.riskClass}, ${r.regulated ? "regulated" : "not regulated"}`}
                </td>
                <td>
                  {r.minimumTracking}
                  {r.containerRequired ? " + container" : ""}, scan {r.requiredScan}
                </td>
                <td>
                  {r.justification} {r.references.length ? <span className="muted">({r.references.join(", ")})</span> : null}
                </td>
                <td>{r.changeRequest ? <Link to={`/change-requests/${r.changeRequest}`}>{r.changeRequest}</Link> : r.reason}</td>
              </tr>
            ))
          )}
        </tbody>
      </DataTable>
    </section>
  );
}
