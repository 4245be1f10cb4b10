import { Form, Link, useNavigation } from "@remix-run/react";
import { useState, type FormEvent } from "react";
import type { DiffRow } from "~/domain/change-request";
import type { ChangeRequestStatus } from "~/domain/change-request-lifecycle";
import { releaseSchema, releaseWithUsernameSchema } from "~/schemas/release";
import { Badge } from "./badge";
import { FIELD_LABELS } from "./change-request-diff";
import { ChangeRequestFlags, ChangeRequestStatusBadge, STATUS_LABELS } from "./change-request-status";
import { DataTable, EmptyRow } from "./data-table";
import { Digest } from "./digest";
import { TextAreaField } from "./form-fields";
import { ErrorList, Field, FormError, useSchemaForm, type FieldErrors } from "./forms";
import { UtcTime } from "./time";

export interface ReleaseCandidateView {
  number: string;
  title: string;
  status: ChangeRequestStatus;
  authorName: string;
  mine: boolean;
  approvedBy: readonly string[];
  stale: boolean;
  conflicts: readonly { number: string; status: ChangeRequestStatus; partNumber: string }[];
  revalidation: { tasks: number; withoutEvidence: number } | null;
  diff: readonly DiffRow[];
  moved?: readonly string[];
  wouldMakeStale?: readonly { number: string; status: ChangeRequestStatus; stale: readonly { site: string; moved: readonly string[] }[] }[];
  /** Critical and warning findings of the analysis it was approved with. */
  analysisFindings?: FindingCounts;
}

export interface ReleaseSiteView {
  site: { code: string; name: string };
  latest: {
    version: number;
    effectiveFrom: Date | string;
    expiresAt: Date | string | null;
    kind: string;
    digest: string;
    status: "in force" | "scheduled";
  } | null;
  candidates: readonly ReleaseCandidateView[];
}

const NONE: readonly string[] = [];

/** The errors of a field and of its elements (`changeRequests.0` belongs to `changeRequests`). */
function errorsOf(errors: FieldErrors, name: string): string[] | undefined {
  const list = Object.entries(errors).flatMap(([key, value]) => (key === name || key.startsWith(`${name}.`) ? (value ?? []) : []));
  return list.length ? list : undefined;
}

function revalidationBlocks(c: ReleaseCandidateView): boolean {
  return c.revalidation !== null && (c.revalidation.tasks === 0 || c.revalidation.withoutEvidence > 0);
}

/**
 * One site's release: its latest version, the change requests waiting for it (with what each would
 * change), the effective time and the release manager's electronic signature (21 CFR 11.50,
 * 11.200): the meaning is fixed, the password asked every time, the user name at the first
 * signature of a series. The server decides; flags here only warn.
 */
export function ReleaseSiteForm({
  view,
  meaning,
  needsUsername,
  serverErrors,
  signingProblem,
  disagreements = [],
  selected: initiallySelected = NONE,
}: {
  view: ReleaseSiteView;
  /** The ticked change requests the server last saw (a preview, or a release that was refused). */
  selected?: readonly string[];
  /** Known ERP/PLM/C-981 disagreements at this site today (the server checks them as the release leaves them). */
  disagreements?: readonly string[];
  meaning: string;
  needsUsername: boolean;
  serverErrors: FieldErrors | undefined;
  signingProblem: string | null;
}) {
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(needsUsername ? releaseWithUsernameSchema : releaseSchema, serverErrors);
  const { site, latest, candidates } = view;
  const code = site.code;
  const prefix = `release-${code.toLowerCase()}`;
  const headingId = `${prefix}-heading`;
  const nextVersion = (latest?.version ?? 0) + 1;
  const crErrors = errorsOf(errors, "changeRequests");
  // The selection drives the diff and the stale list: live with JavaScript, on "Preview" without.
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set(initiallySelected));
  const [seen, setSeen] = useState(initiallySelected);
  if (seen !== initiallySelected) {
    setSeen(initiallySelected);
    setSelected(new Set(initiallySelected));
  }
  const toggle = (number: string, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(number);
      else next.delete(number);
      return next;
    });
  const ticked = candidates.filter((c) => selected.has(c.number) && !c.mine);
  const withDiff = ticked.filter((c) => c.diff.length > 0);
  // Other requests the ticked ones would make stale (a ticked one is released with them, not made stale).
  const madeStale = new Map<string, { number: string; status: ChangeRequestStatus; moved: string[]; by: string[] }>();
  for (const c of ticked) {
    for (const x of c.wouldMakeStale ?? []) {
      if (selected.has(x.number)) continue;
      const entry = madeStale.get(x.number) ?? { number: x.number, status: x.status, moved: [], by: [] };
      for (const st of x.stale) for (const m of st.moved) if (!entry.moved.includes(m)) entry.moved.push(m);
      entry.by.push(c.number);
      madeStale.set(x.number, entry);
    }
  }
  const staleList = [...madeStale.values()].sort((a, b) => a.number.localeCompare(b.number));
  const formErrors = [...new Set([...(errors.form ?? []), ...(errors.site ?? []), ...(errors.intent ?? [])])];
  const submit = (event: FormEvent<HTMLFormElement>) => {
    // With JavaScript the preview is already live: "Preview" sends nothing (not even the password).
    if (((event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null)?.value === "preview") {
      event.preventDefault();
      return;
    }
    onSubmit(event);
  };
  return (
    <section aria-labelledby={headingId} className="card release-site">
      <h2 id={headingId}>
        {code} <span className="muted">— {site.name}</span>
      </h2>
      <p className="release-current">
        {latest ? (
          <>
            Latest rule set: <Link to={`/rule-sets/${code}/${latest.version}`}>v{latest.version}</Link>{" "}
            {latest.status === "in force" ? <Badge tone="good">in force</Badge> : <Badge tone="info">scheduled</Badge>}{" "}
            {latest.status === "in force" ? "since" : "from"} <UtcTime value={latest.effectiveFrom} /> · {latest.kind}
            {latest.expiresAt ? (
              <>
                {" "}
                · expires <UtcTime value={latest.expiresAt} />
              </>
            ) : null}{" "}
            · digest <Digest value={latest.digest} />. A release here becomes v{nextVersion}.
          </>
        ) : (
          <>No rule-set version yet: everything at {code} is legacy. A release here becomes v1.</>
        )}
      </p>

      {candidates.length === 0 ? (
        <p className="muted">No approved change request is waiting for release at {code}.</p>
      ) : (
        <Form method="post" onSubmit={submit} noValidate aria-labelledby={headingId}>
          <input type="hidden" name="site" value={code} />
          <FormError errors={formErrors.length ? formErrors : undefined} />

          <fieldset className="release-candidates" aria-describedby={crErrors ? `${prefix}-crs-error` : undefined}>
            <legend>Change requests to release at {code}</legend>
            <DataTable
              id={`${prefix}-candidates`}
              caption={`Waiting for release at ${code}`}
              captionDetail={`${candidates.length} approved or partly released`}
            >
              <thead>
                <tr>
                  <th scope="col">Release</th>
                  <th scope="col">Change request</th>
                  <th scope="col">Status</th>
                  <th scope="col">Author</th>
                  <th scope="col">Approved by</th>
                  <th scope="col">Flags</th>
                </tr>
              </thead>
              <tbody>
                {candidates.map((c) => {
                  const id = `${prefix}-${c.number.toLowerCase()}`;
                  return (
                    <tr key={c.number} className={c.stale || revalidationBlocks(c) ? "release-row-blocked" : undefined}>
                      <td>
                        {c.mine ? (
                          <span className="muted small">you wrote it</span>
                        ) : (
                          <span className="checkbox-line">
                            <input
                              type="checkbox"
                              name="changeRequests"
                              value={c.number}
                              id={id}
                              checked={selected.has(c.number)}
                              onChange={(e) => toggle(c.number, e.currentTarget.checked)}
                              aria-invalid={crErrors ? true : undefined}
                            />
                            <label htmlFor={id}>
                              Release
                              <span className="visually-hidden">
                                {" "}
                                {c.number} at {code}
                              </span>
                            </label>
                          </span>
                        )}
                      </td>
                      <th scope="row" className="wrap">
                        <Link to={`/change-requests/${c.number}`}>{c.number}</Link> {c.title}
                      </th>
                      <td>
                        <ChangeRequestStatusBadge status={c.status} />
                      </td>
                      <td>{c.authorName}</td>
                      <td>{c.approvedBy.length ? c.approvedBy.join(", ") : <span className="muted">—</span>}</td>
                      <td className="wrap">
                        <AnalysisFindingCounts number={c.number} findings={c.analysisFindings} />
                        <ChangeRequestFlags stale={c.stale ? [code] : []} conflict={c.conflicts.length > 0} />
                        {revalidationBlocks(c) ? <Badge tone="warn">revalidation evidence missing</Badge> : null}
                        {c.mine ? <Badge>author: another release manager releases it</Badge> : null}
                        {c.stale ? (
                          <span className="release-flag-note">
                            What it reads at {code} changed since it was approved ({(c.moved ?? []).join("; ")}): rebase it first.
                          </span>
                        ) : null}
                        {(c.wouldMakeStale ?? []).length > 0 ? (
                          <span className="release-flag-note">
                            Releasing it makes stale:{" "}
                            {(c.wouldMakeStale ?? []).map((x, i) => (
                              <span key={x.number}>
                                {i > 0 ? ", " : null}
                                <Link to={`/change-requests/${x.number}`}>{x.number}</Link>
                              </span>
                            ))}
                          </span>
                        ) : null}
                        {c.conflicts.length > 0 ? (
                          <span className="release-flag-note">
                            Also changed by{" "}
                            {c.conflicts.map((x, i) => (
                              <span key={`${x.number}|${x.partNumber}`}>
                                {i > 0 ? "; " : null}
                                <Link to={`/change-requests/${x.number}`}>{x.number}</Link> ({STATUS_LABELS[x.status]}): {x.partNumber}
                              </span>
                            ))}
                          </span>
                        ) : null}
                        {!c.stale &&
                        !c.mine &&
                        !revalidationBlocks(c) &&
                        c.conflicts.length === 0 &&
                        (c.wouldMakeStale ?? []).length === 0 &&
                        !hasFindingCounts(c.analysisFindings) ? (
                          <span className="muted">—</span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </DataTable>
            <ErrorList id={`${prefix}-crs-error`} errors={crErrors} />
            <button type="submit" name="intent" value="preview" className="button-secondary" formNoValidate>
              Preview the ticked change requests
            </button>
          </fieldset>

          <DataTable
            id={`${prefix}-diff`}
            caption={`What changes at ${code}`}
            captionDetail={`${ticked.length ? `${ticked.map((c) => c.number).join(", ")}, ` : ""}${latest ? `compared with v${latest.version}` : "compared with no rules (legacy)"}`}
          >
            <thead>
              <tr>
                <th scope="col">Change request</th>
                <th scope="col">Material</th>
                <th scope="col">Field</th>
                <th scope="col">From</th>
                <th scope="col">
                  <span aria-hidden="true">→ </span>To
                </th>
              </tr>
            </thead>
            <tbody>
              {ticked.length === 0 ? (
                <EmptyRow colSpan={5}>Tick the change requests to release, then preview: this table shows what exactly those would change.</EmptyRow>
              ) : withDiff.length === 0 ? (
                <EmptyRow colSpan={5}>Nothing would change: the ticked change requests equal the rules of the latest version.</EmptyRow>
              ) : null}
              {withDiff.flatMap((c) =>
                c.diff.map((row, i) => (
                  <tr key={`${c.number}|${i}`}>
                    <td>{i === 0 ? c.number : <span className="visually-hidden">{c.number}</span>}</td>
                    <th scope="row">
                      {row.field === "new material" ? row.partNumber : <Link to={`/materials/${encodeURIComponent(row.partNumber)}`}>{row.partNumber}</Link>}
                      {row.site === null ? <span className="muted small"> (all sites)</span> : null}
                    </th>
                    <td>{FIELD_LABELS[row.field] ?? row.field}</td>
                    <td className="diff-from">{row.from}</td>
                    <td className="diff-to">{row.to}</td>
                  </tr>
                )),
              )}
            </tbody>
          </DataTable>

          {ticked.length > 0 ? (
            staleList.length > 0 ? (
              <div className="notice notice-warn" id={`${prefix}-made-stale`}>
                <p>
                  <strong>This release makes {staleList.length} other change request(s) stale</strong>: what they read changes, so they need a rebase (and new
                  signatures) before they can be signed or released.
                </p>
                <ul className="compact-list">
                  {staleList.map((x) => (
                    <li key={x.number}>
                      <Link to={`/change-requests/${x.number}`}>{x.number}</Link> ({STATUS_LABELS[x.status]}): {x.moved.join("; ")} — by {x.by.join(", ")}
                    </li>
                  ))}
                </ul>
              </div>
            ) : (
              <p className="muted" id={`${prefix}-made-stale`}>
                This release makes no other change request stale.
              </p>
            )
          ) : null}

          <div className="form-grid">
            <Field
              label="Effective from (UTC)"
              name="effectiveFrom"
              id={`${prefix}-effective-from`}
              type="datetime-local"
              step={1}
              errors={errorsOf(errors, "effectiveFrom")}
              hint="Empty: now. A later time schedules the version."
            />
          </div>

          <fieldset className="release-signature">
            <legend>Your signature</legend>
            <p className="release-meaning-label">Meaning of your signature</p>
            <p className="release-meaning" id={`${prefix}-meaning`}>
              {meaning}
            </p>
            <p className="muted small">
              The signature shows your printed name, the date and time (UTC) and this meaning on {code} v{nextVersion}, bound to the SHA-256 of the rule set
              released. The password is asked at every signature.
            </p>
            {disagreements.length > 0 ? (
              <div className="notice notice-warn" id={`${prefix}-disagreements`}>
                <p>
                  <strong>
                    {disagreements.length} known ERP/PLM disagreement(s) at {code}
                  </strong>{" "}
                  (<Link to="/reconciliation">reconciliation</Link>). A release that leaves any of them unresolved needs a waiver: the reason, recorded with
                  your signature.
                </p>
                <ul className="compact-list">
                  {disagreements.slice(0, 10).map((d) => (
                    <li key={d}>{d}</li>
                  ))}
                  {disagreements.length > 10 ? <li>… and {disagreements.length - 10} more</li> : null}
                </ul>
              </div>
            ) : null}
            <TextAreaField
              label="Waiver for unresolved ERP/PLM disagreements"
              name="waiver"
              id={`${prefix}-waiver`}
              rows={2}
              maxLength={2000}
              errors={errorsOf(errors, "waiver")}
              hint="Only when the release leaves known disagreements at this site: why they may remain. Empty otherwise."
            />
            <div className="form-grid">
              {needsUsername ? (
                <Field
                  label="User name"
                  name="username"
                  id={`${prefix}-username`}
                  autoComplete="username"
                  autoCapitalize="none"
                  spellCheck={false}
                  maxLength={64}
                  required
                  errors={errors.username}
                  hint="First signature of a continuous series: your user name and password"
                />
              ) : null}
              <Field
                label="Password"
                name="password"
                id={`${prefix}-password`}
                type="password"
                autoComplete="current-password"
                required
                maxLength={256}
                errors={errors.password}
              />
            </div>
          </fieldset>
          {signingProblem ? (
            <p className="error-text" id={`${prefix}-signing-problem`}>
              This instance cannot sign rule sets now; the release will be refused.
            </p>
          ) : null}
          <button type="submit" name="intent" value="release" disabled={navigation.state === "submitting"} aria-describedby={`${prefix}-meaning`}>
            Sign and release at {code}
          </button>
        </Form>
      )}
    </section>
  );
}

type FindingCounts = { critical: number; warning: number; sha256: string } | null | undefined;
const hasFindingCounts = (f: FindingCounts) => Boolean(f && (f.critical > 0 || f.warning > 0));

/** "2 critical · 1 warning" of the analysis it was approved with, linking to that analysis on the request. */
function AnalysisFindingCounts({ number, findings }: { number: string; findings: FindingCounts }) {
  if (!findings || !hasFindingCounts(findings)) return null;
  const parts = [
    findings.critical > 0 ? `${findings.critical} critical` : null,
    findings.warning > 0 ? `${findings.warning} warning${findings.warning === 1 ? "" : "s"}` : null,
  ].filter(Boolean);
  return (
    <Link
      className="release-finding-counts"
      to={`/change-requests/${number}#impact-analysis`}
      title={`Findings of the impact analysis ${number} was approved with`}
    >
      {parts.join(" · ")}
      <span className="visually-hidden"> in the impact analysis {number} was approved with</span>
    </Link>
  );
}
