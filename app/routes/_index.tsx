import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data as respond, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Field, FormError, parseForm, type FieldErrors } from "~/components/forms";
import { acknowledgeSchema } from "~/schemas/alerts";
import { openAlerts } from "~/queries/security-alerts.server";
import { acknowledgeAlert } from "~/services/security-alerts.server";
import { pendingGrants } from "~/queries/users.server";
import { actorName } from "~/utils/auth.server";
import { actionError } from "~/utils/errors.server";
import { PageHeader } from "~/components/app-shell";
import { AuditTable } from "~/components/audit-table";
import { AdminDashboard, EngineerDashboard, ExpiredDeviationsAlarm, ReleaseDashboard, ReviewerDashboard } from "~/components/role-dashboards";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { formatCount } from "~/components/format";
import { UtcTime } from "~/components/time";
import {
  adminWatch,
  engineerWork,
  expiredDeviationAlarm,
  FAILURE_ACTIONS,
  FAILURE_WINDOW_DAYS,
  KEY_ROTATION_DAYS,
  recentActivity,
  releaseWork,
  reviewerQueue,
} from "~/queries/role-dashboards.server";
import { STALE_AFTER_HOURS } from "~/queries/runtime-clients.server";
import { dashboardSections, deviationAlarmSiteIds, type DashboardSection } from "../../policies/dashboards";
import { releaseSiteIds } from "../../policies/review-and-release";
import { useTimeZone } from "~/components/time";
import { dashboard } from "~/queries/dashboard.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { timeZoneOf } from "~/utils/time-zone.server";

export const meta: MetaFunction = () => [{ title: "Dashboard · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "Material");
  const db = await getDb();
  const at = await databaseNow(db);
  const sites = siteFilter(signedIn);
  // A section per role held, own work first (policies/dashboards.ts): without the role its data is not loaded at all.
  const sections = dashboardSections(signedIn.grants);
  const has = (section: DashboardSection) => sections.includes(section);
  const withAudit = signedIn.ability.can("read", "AuditTrail");
  const alarmSites = deviationAlarmSiteIds(signedIn.grants);
  const [board, activity, engineer, reviewer, release, admin, expiredDeviations] = await Promise.all([
    dashboard(db, { at, sites }),
    withAudit ? recentActivity(db, { at, limit: 10 }) : Promise.resolve(null),
    has("engineer") ? engineerWork(db, { userId: signedIn.user.id }) : Promise.resolve(null),
    has("reviewer")
      ? reviewerQueue(db, { userId: signedIn.user.id, grants: signedIn.grants, sites }, { at, timeZone: timeZoneOf(request) })
      : Promise.resolve(null),
    has("release_manager") ? releaseWork(db, { siteIds: releaseSiteIds(signedIn.grants), viewerId: signedIn.user.id, at }) : Promise.resolve(null),
    has("admin") ? adminWatch(db, { at }) : Promise.resolve(null),
    alarmSites === null || alarmSites.length > 0 ? expiredDeviationAlarm(db, { siteIds: alarmSites, at, timeZone: timeZoneOf(request) }) : Promise.resolve([]),
  ]);
  // Administrators: security alerts until acknowledged (21 CFR 11.300(d)) and grants waiting for a second administrator (ADR 020).
  const [alerts, grants] = has("admin") ? await Promise.all([openAlerts(db), pendingGrants(db)]) : [null, null];
  // The administrator's thresholds travel with the data: the component never imports the .server module that defines them.
  const adminView = admin
    ? { watch: admin, labels: FAILURE_ACTIONS, windowDays: FAILURE_WINDOW_DAYS, silentAfterHours: STALE_AFTER_HOURS, rotationDays: KEY_ROTATION_DAYS }
    : null;
  return { ...board, sections, activity, engineer, reviewer, release, admin: adminView, alerts, grants, expiredDeviations };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "update", "User");
  const form = parseForm(acknowledgeSchema, await request.formData());
  if (!form.ok) return respond({ fieldErrors: form.fieldErrors as FieldErrors }, { status: 400 });
  try {
    await acknowledgeAlert(await getDb(), actorName(signedIn), { id: form.data.alert, note: form.data.note });
  } catch (error) {
    // The alert's row is the form: the service's message says it, at the top.
    return actionError(error, (fieldErrors) => ({ fieldErrors }), { message: "only" });
  }
  throw redirect("/?done=acknowledged");
}

const ALERT_LABELS = {
  sign_in_failures: "Repeated failed sign-ins",
  signature_failures: "Repeated failed signatures",
  password_change_failures: "Repeated wrong current passwords (password change)",
  audit_anchor_refused: "Audit anchor refused: the trail does not extend what this server signed",
} as const;

function SecurityAlerts({ alerts }: { alerts: NonNullable<ReturnType<typeof useLoaderData<typeof loader>>["alerts"]> }) {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  return (
    <DataTable id="security-alerts" caption="Security alerts" captionDetail="Each stays until an administrator acknowledges it (21 CFR 11.300(d)).">
      <thead>
        <tr>
          <th scope="col">Alert</th>
          <th scope="col">Account</th>
          <th scope="col">Raised</th>
          <th scope="col">Times</th>
          <th scope="col">Acknowledge</th>
        </tr>
      </thead>
      <tbody>
        {alerts.length === 0 ? <EmptyRow colSpan={5}>No open security alerts.</EmptyRow> : null}
        {alerts.map((a) => (
          <tr key={a.id}>
            <th scope="row">{ALERT_LABELS[a.kind]}</th>
            <td>
              <Link to={`/users/${encodeURIComponent(a.username)}`}>{a.username}</Link>
            </td>
            <td>
              <UtcTime value={a.raisedAt} />
            </td>
            <td>{a.occurrences}</td>
            <td>
              <Form method="post" className="inline-form" aria-label={`Acknowledge the alert on ${a.username}`}>
                <input type="hidden" name="intent" value="acknowledge" />
                <input type="hidden" name="alert" value={a.id} />
                <FormError errors={actionData?.fieldErrors.form} />
                <Field
                  label={<span className="visually-hidden">Note on the alert on {a.username}</span>}
                  name="note"
                  id={`alert-${a.id}-note`}
                  type="text"
                  placeholder="What was found or done"
                  maxLength={500}
                  required
                />
                <button type="submit" disabled={navigation.state === "submitting"}>
                  Acknowledge
                </button>
              </Form>
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

export default function Dashboard() {
  const data = useLoaderData<typeof loader>();
  const timeZone = useTimeZone();
  const adminPanels = (
    <>
      {data.alerts ? <SecurityAlerts alerts={data.alerts} /> : null}
      {data.grants && data.grants.length > 0 ? (
        <DataTable
          id="pending-grants"
          caption="Grants waiting for a second administrator"
          captionDetail="No authority until a different administrator confirms them on the user's page."
        >
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Asked for by</th>
            </tr>
          </thead>
          <tbody>
            {data.grants.map((g) => (
              <tr key={g.id}>
                <th scope="row">
                  <Link to={`/users/${encodeURIComponent(g.username)}`}>{g.username}</Link>
                </th>
                <td>
                  {g.role}
                  {g.site ? `@${g.site}` : ""}
                </td>
                <td>{g.requestedBy}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ) : null}
    </>
  );
  return (
    <>
      <PageHeader
        title="Dashboard"
        lead={
          <>
            As of <UtcTime value={data.at} /> · data point <strong>seq {formatCount(data.auditHead)}</strong> · times in{" "}
            {timeZone === "UTC" ? "UTC" : `${timeZone} (UTC on hover)`}
          </>
        }
      />

      <ExpiredDeviationsAlarm rows={data.expiredDeviations} />
      {data.engineer ? <EngineerDashboard work={data.engineer} /> : null}
      {data.reviewer ? <ReviewerDashboard rows={data.reviewer} /> : null}
      {data.release ? <ReleaseDashboard sites={data.release} /> : null}
      {data.admin ? (
        <AdminDashboard
          watch={data.admin.watch}
          labels={data.admin.labels}
          windowDays={data.admin.windowDays}
          silentAfterHours={data.admin.silentAfterHours}
          rotationDays={data.admin.rotationDays}
        >
          {adminPanels}
        </AdminDashboard>
      ) : null}

      <section aria-labelledby="plant-heading" className="dashboard-section">
        <h2 id="plant-heading">The plant</h2>
        <dl className="stat-grid">
          <div className="stat">
            <dt>Sites</dt>
            <dd>
              <Link to="/sites">{formatCount(data.siteCount)}</Link>
            </dd>
          </div>
          <div className="stat">
            <dt>Materials</dt>
            <dd>
              <Link to="/materials">{formatCount(data.materialCount)}</Link>
            </dd>
          </div>
          <div className="stat">
            <dt>Open work orders</dt>
            <dd>{formatCount(data.openWorkOrders)}</dd>
          </div>
          <div className="stat">
            <dt>Audit head (data point)</dt>
            <dd>{data.activity ? <Link to="/audit">seq {formatCount(data.auditHead)}</Link> : <>seq {formatCount(data.auditHead)}</>}</dd>
          </div>
        </dl>

        <div className="two-column">
          <DataTable id="trace-items-by-status" caption="Trace items by status">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Items
                </th>
              </tr>
            </thead>
            <tbody>
              {data.traceItemsByStatus.map((row) => (
                <tr key={row.status}>
                  <th scope="row">{row.status}</th>
                  <td className="num">{formatCount(row.count)}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>

          <DataTable id="site-versions" caption="Rule set in force per site">
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Version</th>
                <th scope="col">Effective from</th>
                <th scope="col">Digest</th>
              </tr>
            </thead>
            <tbody>
              {data.sites.length === 0 ? <EmptyRow colSpan={4}>No sites yet.</EmptyRow> : null}
              {data.sites.map((site) => (
                <tr key={site.code}>
                  <th scope="row">
                    <abbr title={site.name}>{site.code}</abbr>
                  </th>
                  {site.current ? (
                    <>
                      <td>
                        <Link to={`/rule-sets/${site.code}/${site.current.version}`}>v{site.current.version}</Link>
                      </td>
                      <td>
                        <UtcTime value={site.current.effectiveFrom} />
                      </td>
                      <td>
                        <Digest value={site.current.digest} />
                      </td>
                    </>
                  ) : (
                    <td colSpan={3} className="muted">
                      No version in force: legacy
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </DataTable>
        </div>
      </section>

      {data.activity ? <RecentActivity activity={data.activity} /> : null}
    </>
  );
}

type Activity = NonNullable<ReturnType<typeof useLoaderData<typeof loader>>["activity"]>;

/** The latest audit entries that are work (sessions left out), with the day's sign-ins counted. */
function RecentActivity({ activity }: { activity: Activity }) {
  const { count, accounts } = activity.signInsLastDay;
  return (
    <AuditTable
      id="latest-audit"
      caption="Recent activity"
      captionDetail={
        <>
          Change requests, releases, keys and users; sign-ins left out ({formatCount(count)} in the last 24 h by {formatCount(accounts)}{" "}
          {accounts === 1 ? "account" : "accounts"}). <Link to="/audit">All entries</Link>
        </>
      }
      rows={activity.rows}
      empty="No activity yet."
      entity
      changes={false}
      seqAsRowHeader={false}
    />
  );
}
