import type { ReactNode } from "react";
import { Link } from "@remix-run/react";
import type { ChangeRequestStatus } from "~/domain/change-request-lifecycle";
import { Badge } from "./badge";
import { ChangeRequestStatusBadge, SiteCodes } from "./change-request-status";
import { DataTable, EmptyRow } from "./data-table";
import { UtcTime } from "./time";

/* The dashboard's sections per role (ADR 031). Each is a heading and captioned tables; an empty
   table says so in words, so a role always sees where its work would be. */

const crLink = (number: string) => <Link to={`/change-requests/${number}`}>{number}</Link>;

function Section({ id, title, lead, children }: { id: string; title: string; lead?: ReactNode; children: ReactNode }) {
  return (
    <section className="dashboard-section" aria-labelledby={`${id}-heading`} id={id}>
      <h2 id={`${id}-heading`}>{title}</h2>
      {lead ? <p className="muted">{lead}</p> : null}
      {children}
    </section>
  );
}

/* ------------------------------------------------------------------------------------------ */

interface EngineerWorkView {
  drafts: { number: string; title: string; updatedAt: Date | string }[];
  changesRequested: { number: string; title: string; updatedAt: Date | string; openBlocking: number }[];
  stale: { number: string; title: string; status: ChangeRequestStatus; sites: { site: string; moved: string[] }[] }[];
  conflicts: {
    number: string;
    title: string;
    status: ChangeRequestStatus;
    others: { number: string; status: ChangeRequestStatus; partNumber: string; site: string }[];
  }[];
}

export function EngineerDashboard({ work }: { work: EngineerWorkView }) {
  return (
    <Section id="my-work" title="My change requests" lead={<Link to="/change-requests/new">Propose a change</Link>}>
      <div className="two-column">
        <DataTable id="my-drafts" caption="My drafts" captionDetail="Oldest first.">
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Title</th>
              <th scope="col">Last changed</th>
            </tr>
          </thead>
          <tbody>
            {work.drafts.length === 0 ? <EmptyRow colSpan={3}>No drafts.</EmptyRow> : null}
            {work.drafts.map((r) => (
              <tr key={r.number}>
                <th scope="row">{crLink(r.number)}</th>
                <td className="wrap">{r.title}</td>
                <td>
                  <UtcTime value={r.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>

        <DataTable id="my-changes-requested" caption="Returned to me: changes requested" captionDetail="Revise, answer the blocking comments, submit again.">
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Title</th>
              <th scope="col" className="num">
                Open blocking comments
              </th>
              <th scope="col">Returned</th>
            </tr>
          </thead>
          <tbody>
            {work.changesRequested.length === 0 ? <EmptyRow colSpan={4}>Nothing returned to you.</EmptyRow> : null}
            {work.changesRequested.map((r) => (
              <tr key={r.number}>
                <th scope="row">{crLink(r.number)}</th>
                <td className="wrap">{r.title}</td>
                <td className="num">{r.openBlocking}</td>
                <td>
                  <UtcTime value={r.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </div>

      <DataTable id="my-stale" caption="Stale: needs a rebase" captionDetail="What it read moved since it was written; rebase it on its page.">
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Title</th>
            <th scope="col">Status</th>
            <th scope="col">What moved</th>
          </tr>
        </thead>
        <tbody>
          {work.stale.length === 0 ? <EmptyRow colSpan={4}>None of your requests is stale.</EmptyRow> : null}
          {work.stale.map((r) => (
            <tr key={r.number}>
              <th scope="row">{crLink(r.number)}</th>
              <td className="wrap">{r.title}</td>
              <td>
                <ChangeRequestStatusBadge status={r.status} />
              </td>
              <td className="wrap">
                {r.sites.map((s) => (
                  <div key={s.site}>
                    <strong>{s.site}:</strong> {s.moved.join("; ")}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <DataTable id="my-conflicts" caption="Conflicts" captionDetail="Another open request changes the same material at the same site: agree which goes first.">
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Title</th>
            <th scope="col">Conflicts with</th>
          </tr>
        </thead>
        <tbody>
          {work.conflicts.length === 0 ? <EmptyRow colSpan={3}>No conflicts.</EmptyRow> : null}
          {work.conflicts.map((r) => (
            <tr key={r.number}>
              <th scope="row">{crLink(r.number)}</th>
              <td className="wrap">{r.title}</td>
              <td className="wrap">
                {r.others.map((o) => (
                  <div key={`${o.number}|${o.partNumber}|${o.site}`}>
                    {crLink(o.number)} <ChangeRequestStatusBadge status={o.status} /> on {o.partNumber} at {o.site}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </Section>
  );
}

/* ------------------------------------------------------------------------------------------ */

interface ReviewerRow {
  number: string;
  title: string;
  authorName: string;
  revision: number;
  /** When it was submitted for review (the list is oldest first by it). */
  submittedAt: Date | string;
  reviewDueOn: string | null;
  overdue: boolean;
  sites: { shown: readonly string[]; hidden: number };
}

/** "Awaiting my signature", oldest first, with the review due date and overdue marked. */
export function ReviewerDashboard({ rows }: { rows: readonly ReviewerRow[] }) {
  const overdue = rows.filter((r) => r.overdue).length;
  return (
    <Section
      id="review"
      title="Review"
      lead={overdue > 0 ? <strong>{overdue === 1 ? "1 review is overdue." : `${overdue} reviews are overdue.`}</strong> : undefined}
    >
      <DataTable
        id="awaiting-signature"
        caption="Awaiting my signature"
        captionDetail={
          <>
            Oldest submission first. <Link to="/change-requests?status=in_review&awaiting=1">In the list of change requests</Link>
          </>
        }
      >
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Title</th>
            <th scope="col">Sites</th>
            <th scope="col">Author</th>
            <th scope="col" className="num">
              Revision
            </th>
            <th scope="col">Submitted for review</th>
            <th scope="col">Due</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <EmptyRow colSpan={7}>Nothing is waiting for your signature.</EmptyRow> : null}
          {rows.map((row) => (
            <tr key={row.number} className={row.overdue ? "row-overdue" : undefined}>
              <th scope="row">{crLink(row.number)}</th>
              <td className="wrap">{row.title}</td>
              <td>
                <SiteCodes sites={row.sites} />
              </td>
              <td>{row.authorName}</td>
              <td className="num">{row.revision}</td>
              <td>
                <UtcTime value={row.submittedAt} />
              </td>
              <td>
                {row.reviewDueOn ? <time dateTime={row.reviewDueOn}>{row.reviewDueOn}</time> : <span className="muted">none set</span>}
                {row.overdue ? (
                  <>
                    {" "}
                    <Badge tone="bad">overdue</Badge>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </Section>
  );
}

/* ------------------------------------------------------------------------------------------ */

interface ExpiredDeviationRow {
  material: string;
  site: string;
  changeRequest: string;
  expiresOn: string;
  shortfalls: readonly string[];
}

/**
 * The alarm on open deviations from required traceability past their last day (ADR 036), for those
 * who review and release tracking changes; shown only when there is one.
 */
export function ExpiredDeviationsAlarm({ rows }: { rows: readonly ExpiredDeviationRow[] }) {
  if (rows.length === 0) return null;
  return (
    <section className="dashboard-section" aria-labelledby="expired-deviations-heading" id="expired-deviations" role="alert">
      <h2 id="expired-deviations-heading">Expired traceability deviations</h2>
      <p className="muted">
        <Badge tone="bad">{rows.length === 1 ? "1 deviation has expired" : `${rows.length} deviations have expired`}</Badge> Restore the required traceability
        or renew the deviation with a change request.
      </p>
      <DataTable id="expired-deviations-table" caption="Expired traceability deviations" captionDetail="Open deviations whose last day has passed.">
        <thead>
          <tr>
            <th scope="col">Material</th>
            <th scope="col">Site</th>
            <th scope="col">Change request</th>
            <th scope="col">Expired on</th>
            <th scope="col">Below the requirement</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.material}@${r.site}`} className="row-overdue">
              <th scope="row">
                <Link to={`/materials/${encodeURIComponent(r.material)}`}>{r.material}</Link>
              </th>
              <td>{r.site}</td>
              <td>{crLink(r.changeRequest)}</td>
              <td>
                {/* The deviation holds through its last day: it expired the day after. */}
                <time dateTime={r.expiresOn}>{r.expiresOn}</time> (last day)
              </td>
              <td className="wrap">{r.shortfalls.join("; ")}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </section>
  );
}

/* ------------------------------------------------------------------------------------------ */

interface ReleaseSiteView {
  code: string;
  name: string;
  candidates: {
    number: string;
    title: string;
    status: ChangeRequestStatus;
    authorName: string;
    mine: boolean;
    stale: boolean;
    wouldMakeStale: { number: string; status: ChangeRequestStatus; moved: string[] }[];
  }[];
}

/** Per site, the approved requests not yet released there, and what releasing each would make stale. */
export function ReleaseDashboard({ sites }: { sites: readonly ReleaseSiteView[] }) {
  const waiting = sites.filter((s) => s.candidates.length > 0);
  const idle = sites.filter((s) => s.candidates.length === 0).map((s) => s.code);
  return (
    <Section
      id="release"
      title="Release"
      lead={
        <>
          Approved change requests not yet released, per site. <Link to="/releases">Release them</Link>
          {idle.length ? ` · Nothing waits at ${idle.join(", ")}.` : null}
        </>
      }
    >
      {waiting.length === 0 ? <p>No approved change request waits to be released at your sites.</p> : null}
      {waiting.map((site) => (
        <DataTable key={site.code} id={`release-${site.code}`} caption={`Approved for ${site.code}`} captionDetail={site.name}>
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Title</th>
              <th scope="col">Author</th>
              <th scope="col">State</th>
              <th scope="col">Releasing it would make stale</th>
            </tr>
          </thead>
          <tbody>
            {site.candidates.map((c) => (
              <tr key={c.number}>
                <th scope="row">{crLink(c.number)}</th>
                <td className="wrap">{c.title}</td>
                <td>
                  {c.authorName}
                  {c.mine ? <span className="muted"> (you: another release manager releases it)</span> : null}
                </td>
                <td>
                  <ChangeRequestStatusBadge status={c.status} />
                  {c.stale ? (
                    <>
                      {" "}
                      <Badge tone="warn">stale: needs a rebase first</Badge>
                    </>
                  ) : null}
                </td>
                <td className="wrap">
                  {c.wouldMakeStale.length === 0 ? <span className="muted">nothing</span> : null}
                  {c.wouldMakeStale.map((w) => (
                    <div key={w.number}>
                      {crLink(w.number)} <ChangeRequestStatusBadge status={w.status} />: {w.moved.join("; ")}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ))}
    </Section>
  );
}

/* ------------------------------------------------------------------------------------------ */

interface AdminWatchView {
  failures: { action: string; account: string; attempts: number; lastAt: Date | string }[];
  keys: {
    kid: string;
    state: "active" | "retired";
    createdAt: Date | string;
    retiredAt: Date | string | null;
    rotateBy: Date | string | null;
    rotationDue: boolean;
    trustedBy: number;
  }[];
  silentClients: { name: string; lastSeenAt: Date | string | null; createdAt: Date | string; sites: string[] }[];
}

export function AdminDashboard({
  watch,
  labels,
  windowDays,
  silentAfterHours,
  rotationDays,
  children,
}: {
  watch: AdminWatchView;
  labels: Record<string, string>;
  windowDays: number;
  silentAfterHours: number;
  rotationDays: number;
  /** The alerts and grants waiting for an administrator (with their forms). */
  children?: ReactNode;
}) {
  return (
    <Section id="administration" title="Administration">
      {children}
      <DataTable
        id="failed-attempts"
        caption="Failed signatures and sign-ins"
        captionDetail={
          <>
            Last {windowDays} days, per account. <Link to="/audit">Audit trail</Link>
          </>
        }
      >
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">What failed</th>
            <th scope="col" className="num">
              Attempts
            </th>
            <th scope="col">Latest</th>
          </tr>
        </thead>
        <tbody>
          {watch.failures.length === 0 ? <EmptyRow colSpan={4}>No failed signature or sign-in in the last {windowDays} days.</EmptyRow> : null}
          {watch.failures.map((f) => (
            <tr key={`${f.action}|${f.account}`}>
              <th scope="row">{f.account}</th>
              <td>{labels[f.action] ?? f.action}</td>
              <td className="num">{f.attempts}</td>
              <td>
                <UtcTime value={f.lastAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <div className="two-column">
        <DataTable
          id="key-expiry"
          caption="Signing keys"
          captionDetail={
            <>
              Rotate every {rotationDays} days. <Link to="/keys">Keys</Link>
            </>
          }
        >
          <thead>
            <tr>
              <th scope="col">Key id</th>
              <th scope="col">State</th>
              <th scope="col">Rotate by / retired</th>
              <th scope="col" className="num">
                Clients trusting it
              </th>
            </tr>
          </thead>
          <tbody>
            {watch.keys.length === 0 ? <EmptyRow colSpan={4}>No signing key: this instance cannot sign a release.</EmptyRow> : null}
            {watch.keys.map((k) => (
              <tr key={k.kid}>
                <th scope="row" className="key-id">
                  <code>{k.kid}</code>
                </th>
                <td>
                  {k.state === "active" ? <Badge tone="good">active</Badge> : <Badge tone="neutral">retired</Badge>}
                  {k.rotationDue ? (
                    <>
                      {" "}
                      <Badge tone="warn">rotation due</Badge>
                    </>
                  ) : null}
                </td>
                <td>{k.rotateBy ? <UtcTime value={k.rotateBy} /> : k.retiredAt ? <UtcTime value={k.retiredAt} /> : null}</td>
                <td className="num">{k.trustedBy}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>

        <DataTable
          id="silent-clients"
          caption="Runtime clients not reporting"
          captionDetail={
            <>
              Not seen for more than {silentAfterHours} h. <Link to="/runtime-clients">Runtime clients</Link>
            </>
          }
        >
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Sites</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {watch.silentClients.length === 0 ? <EmptyRow colSpan={3}>Every active client reported in the last {silentAfterHours} h.</EmptyRow> : null}
            {watch.silentClients.map((c) => (
              <tr key={c.name}>
                <th scope="row">{c.name}</th>
                <td>{c.sites.join(", ")}</td>
                <td>
                  {c.lastSeenAt ? (
                    <UtcTime value={c.lastSeenAt} />
                  ) : (
                    <>
                      never (created <UtcTime value={c.createdAt} />)
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </div>
    </Section>
  );
}
