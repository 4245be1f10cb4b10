import { safeHref } from "~/schemas/link";
import { LEGACY_DATA_PLAN_LABELS, type ChangeRequestContent, type ProposedChange } from "~/schemas/change-request";
import { UtcTime } from "./time";
import { describeRequirement, describeTarget } from "~/domain/traceability-requirement";

/** Text as written, paragraphs kept (no markup is interpreted). */
function Prose({ text }: { text: string }) {
  if (!text.trim()) return <span className="muted">—</span>;
  return (
    <div className="prose">
      {text.split(/\n{2,}/).map((paragraph, i) => (
        <p key={i}>{paragraph}</p>
      ))}
    </div>
  );
}

const list = (values: readonly string[] | undefined, none = "none") => (values?.length ? values.join(", ") : none);

/** One proposed change as the author wrote it (a family not yet expanded), in a line. */
export function describeProposedChange(change: ProposedChange): string {
  switch (change.kind) {
    case "tracking":
      return `${change.material ?? `family ${change.family}`} at ${list(change.sites)}: tracking ${change.trackingMode}, formats ${list(change.identifierFormatCodes)}, scan ${change.consumptionScan}${change.containerTracking ? ", containers tracked" : ""}`;
    case "attributes": {
      const set = [
        change.riskClass ? `risk class ${change.riskClass}` : null,
        change.regulatoryFlags ? `regulatory flags ${list(change.regulatoryFlags)}` : null,
        change.family ? `family ${change.family}` : null,
        change.gtin ? `GTIN ${change.gtin}` : null,
      ].filter(Boolean);
      return `${change.material} (all sites): ${set.join("; ")}`;
    }
    case "alternates":
      return `${change.material} at ${list(change.sites)}: alternates for ${change.component}: ${list(change.alternates, "none (all removed)")}`;
    case "new_material": {
      const details = [
        change.unitOfMeasure,
        `family ${change.family}`,
        `risk ${change.riskClass}`,
        change.gtin ? `GTIN ${change.gtin}` : null,
        change.regulatoryFlags.length ? `flags ${list(change.regulatoryFlags)}` : null,
      ];
      return `New material ${change.partNumber}: ${change.description} (${details.filter(Boolean).join(", ")})`;
    }
    case "traceability_requirement":
      return `Required traceability of ${describeTarget(change.target)} (plant-wide): at least ${describeRequirement(change)}; justification: ${change.justification}${change.references.length ? ` (references: ${list(change.references)})` : ""}`;
  }
}

/** What the author wrote: justification, risk, legacy-data plan, effective date, the changes as written and revalidation. */
export function ChangeRequestContentView({ content, headingLevel = 2 }: { content: ChangeRequestContent; headingLevel?: 2 | 3 }) {
  const H = headingLevel === 2 ? "h2" : "h3";
  return (
    <section aria-labelledby="cr-content-heading" className="card cr-content">
      <H id="cr-content-heading">Proposal</H>
      <dl className="properties properties-stacked">
        <div className="wide">
          <dt>Justification</dt>
          <dd>
            <Prose text={content.justification} />
          </dd>
        </div>
        <div className="wide">
          <dt>Risk assessment</dt>
          <dd>
            <Prose text={content.riskAssessment} />
          </dd>
        </div>
        <div>
          <dt>Legacy-data plan</dt>
          <dd>{LEGACY_DATA_PLAN_LABELS[content.legacyDataPlan] ?? content.legacyDataPlan}</dd>
        </div>
        <div>
          <dt>Proposed effective</dt>
          <dd>{content.proposedEffectiveFrom ? <UtcTime value={content.proposedEffectiveFrom} /> : "when released"}</dd>
        </div>
        <div>
          <dt>Revalidation required</dt>
          <dd>{content.revalidationRequired ? "yes" : "no"}</dd>
        </div>
        {content.resolvesDisagreements?.length ? (
          <div className="wide">
            <dt>Resolves ERP/PLM disagreements</dt>
            <dd>
              {content.resolvesDisagreements.map((key, i) => (
                <span key={key}>
                  {i > 0 ? ", " : null}
                  <a href="/reconciliation">
                    <code>{key}</code>
                  </a>
                </span>
              ))}
            </dd>
          </div>
        ) : null}
        {content.legacyDataNotes ? (
          <div className="wide">
            <dt>Notes on legacy data</dt>
            <dd>
              <Prose text={content.legacyDataNotes} />
            </dd>
          </div>
        ) : null}
        <div className="wide">
          <dt>Changes as proposed</dt>
          <dd>
            {content.changes.length === 0 ? (
              <span className="muted">none</span>
            ) : (
              <ol className="task-list">
                {content.changes.map((change, i) => (
                  <li key={i}>{describeProposedChange(change)}</li>
                ))}
              </ol>
            )}
          </dd>
        </div>
        {content.deviations?.length ? (
          <div className="wide">
            <dt>Deviations from required traceability</dt>
            <dd>
              <ol className="task-list deviation-list">
                {content.deviations.map((d) => (
                  <li key={`${d.material}|${d.site}`}>
                    <strong>
                      {d.material} at {d.site}
                    </strong>{" "}
                    — {d.expiresOn ? `temporary, last day ${d.expiresOn}` : "no expiry"}. Reason: {d.reason} Risk assessment: {d.riskAssessmentRef}.
                    Compensating controls: {d.compensatingControls}
                  </li>
                ))}
              </ol>
            </dd>
          </div>
        ) : null}
        <div className="wide">
          <dt>Revalidation tasks</dt>
          <dd>
            {content.revalidationTasks.length === 0 ? (
              <span className="muted">none</span>
            ) : (
              <ol className="task-list">
                {content.revalidationTasks.map((task, i) => (
                  <li key={i}>
                    {task.description}
                    {task.evidenceUrl ? (
                      <>
                        {" "}
                        — evidence:{" "}
                        {safeHref(task.evidenceUrl) ? (
                          <a href={safeHref(task.evidenceUrl)} rel="noreferrer noopener" target="_blank">
                            {task.evidenceUrl}
                          </a>
                        ) : (
                          <span title="Not a web link: shown as text">{task.evidenceUrl}</span>
                        )}
                      </>
                    ) : null}
                  </li>
                ))}
              </ol>
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}
