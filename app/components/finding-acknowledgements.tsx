import type { FindingToAcknowledge } from "~/domain/impact-analysis/acknowledgements";
import { findingTitle } from "~/domain/impact-analysis/finding-titles";
import { SeverityBadge } from "./impact-analysis";
import { ErrorList } from "./forms";

/**
 * The critical and warning findings of the analysis a reviewer signs with, one checkbox each
 * (ADR 029): an approval acknowledges every one of them; the service checks it against the same
 * list and records them with the signature. Nothing to acknowledge: nothing is shown.
 */
export function FindingAcknowledgements({ findings, errors }: { findings: readonly FindingToAcknowledge[]; errors: string[] | undefined }) {
  if (findings.length === 0) return null;
  const errorId = "sign-acknowledged-error";
  return (
    <fieldset className="finding-acknowledgements" aria-describedby={errors?.length ? errorId : undefined}>
      <legend>Findings you acknowledge</legend>
      <p className="small muted">To approve, tick each critical and warning finding of the impact analysis: you have read it and accept it.</p>
      <ul className="finding-acknowledgement-list">
        {findings.map((f, index) => {
          // By place in the list: keys differing only in characters an id cannot carry stay apart.
          const id = `sign-ack-${index}`;
          const { title, explanation } = findingTitle(f.code);
          return (
            <li key={f.key} className={`finding-acknowledgement finding-${f.severity}`}>
              <span className="checkbox-line">
                <input
                  type="checkbox"
                  name="acknowledged"
                  value={f.key}
                  id={id}
                  aria-describedby={`${id}-detail`}
                  aria-invalid={errors?.length ? true : undefined}
                />
                <label htmlFor={id}>
                  {title}
                  {f.partNumber !== null ? ` — ${f.partNumber} at ${f.site}` : ""}
                </label>
              </span>
              <div className="finding-acknowledgement-detail small" id={`${id}-detail`}>
                <SeverityBadge severity={f.severity} /> <code className="finding-code">{f.code}</code> · count {f.count}
                {f.sample.length ? (
                  <>
                    {" "}
                    · e.g.{" "}
                    {f.sample.slice(0, 3).map((s, i) => (
                      <span key={s}>
                        {i > 0 ? ", " : null}
                        <code>{s}</code>
                      </span>
                    ))}
                    {f.sample.length > 3 ? "…" : null}
                  </>
                ) : null}
                <br />
                <span className="muted">{explanation}</span>
              </div>
            </li>
          );
        })}
      </ul>
      <ErrorList id={errorId} errors={errors} />
    </fieldset>
  );
}
