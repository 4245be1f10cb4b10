import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import type { z } from "zod";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { StatusMessage, TextAreaField } from "~/components/form-fields";
import { ErrorList, Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { SiteFlag, TrustedKeys } from "~/components/runtime-status";
import { RevokeForm } from "~/components/revoke-form";
import { RuntimeTokenOnce } from "~/components/runtime-token";
import { UtcTime, UtcTimeOrOpen } from "~/components/time";
import { runtimeClientOverview, scanVolumes, STALE_AFTER_HOURS } from "~/queries/runtime-clients.server";
import { siteOptions } from "~/queries/sites.server";
import { clientActionSchema, createIntentSchema, revokeIntentSchema } from "~/schemas/runtime-clients";
import { createRuntimeClient, revokeRuntimeClient } from "~/services/runtime-clients.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName } from "~/utils/auth.server";
import { databaseNow } from "~/utils/clock.server";
import { getDb } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";

export const meta: MetaFunction = () => [{ title: "Runtime clients · C-981" }];

type Intent = z.infer<typeof clientActionSchema>["intent"];

/**
 * Remix passes an action's headers on only through this: the create action's `no-store` must reach
 * the response that carries the token.
 */
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const cacheControl = actionHeaders.get("Cache-Control");
  return cacheControl ? { "Cache-Control": cacheControl, Pragma: "no-cache" } : new Headers();
};

export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "User");
  const db = await getDb();
  const at = await databaseNow(db);
  const [clients, sites, scans] = await Promise.all([runtimeClientOverview(db, { at }), siteOptions(db), scanVolumes(db, { at })]);
  return { at, clients, scans, staleAfterHours: STALE_AFTER_HOURS, sites: sites.map(({ code, name }) => ({ code, name })) };
}

export async function action({ request }: ActionFunctionArgs) {
  const formData = await request.formData();
  const rawIntent = formData.get("intent");
  // Creating a client is `create User`; revoking (and anything unknown) is `update User`.
  const signedIn = await requirePermission(request, rawIntent === "create" ? "create" : "update", "User");
  const intent: Intent | null = rawIntent === "create" || rawIntent === "revoke" ? rawIntent : null;
  const target = intent === "revoke" ? String(formData.get("name") ?? "") : null;

  const form = parseForm(clientActionSchema, formData);
  if (!form.ok) return data({ intent, target, fieldErrors: form.fieldErrors, created: null }, { status: 400 });
  const db = await getDb();
  const actor = actorName(signedIn);
  try {
    if (form.data.intent === "create") {
      const created = await createRuntimeClient(db, actor, { name: form.data.name, sites: form.data.sites, reason: form.data.reason });
      // No redirect: the token exists only in this one response (never in a URL, a cookie or a
      // loader), and no cache may keep it.
      return data({ intent, target, fieldErrors: {} as FieldErrors, created }, { headers: { "Cache-Control": "no-store", Pragma: "no-cache" } });
    }
    await revokeRuntimeClient(db, actor, form.data.name, form.data.reason);
  } catch (error) {
    // A problem without a field goes to the top.
    return actionError(error, (fieldErrors) => ({ intent, target, fieldErrors, created: null }));
  }
  // Post/Redirect/Get: a reload does not repeat the revocation.
  throw redirect("/runtime-clients?done=revoke");
}

function useErrorsFor(intent: Intent, target: string | null = null): FieldErrors | undefined {
  const actionData = useActionData<typeof action>();
  if (!actionData || actionData.intent !== intent) return undefined;
  if (target !== null && actionData.target !== target) return undefined;
  return actionData.fieldErrors;
}

export default function RuntimeClients() {
  const { at, clients, staleAfterHours } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const ability = useAbility();
  const canCreate = ability.can("create", "User");
  const canRevoke = ability.can("update", "User");
  const created = actionData?.created ?? null;
  const active = clients.filter((c) => c.revokedAt === null);
  const stale = active.filter((c) => c.staleReasons.length > 0);
  // A revoke error for a client no longer on the page as active (revoked meanwhile) shows at the top.
  const orphanErrors =
    actionData?.intent === "revoke" && !active.some((c) => c.name === actionData.target)
      ? Object.values(actionData.fieldErrors).flatMap((e) => e ?? [])
      : undefined;
  return (
    <>
      <PageHeader
        title="Runtime clients"
        lead={
          <>
            MES systems that pull signed rule sets for their sites, and what each last reported; status at <UtcTime value={at} />.
          </>
        }
      >
        {ability.can("read", "User") ? <Link to="/keys">Signing keys</Link> : null}
      </PageHeader>

      <StatusMessage>{!actionData && searchParams.get("done") === "revoke" ? "Runtime client revoked: its token is refused from now on." : null}</StatusMessage>
      <FormError errors={orphanErrors} />
      {created ? <RuntimeTokenOnce key={`token-${created.name}`} name={created.name} token={created.token} sites={created.sites} /> : null}

      {stale.length > 0 ? (
        <div className="notice notice-warn" role="note">
          <p>
            <strong>
              {stale.length} stale {stale.length === 1 ? "client" : "clients"}:
            </strong>{" "}
            {stale.map((c) => c.name).join(", ")} — behind the version in force at a site, or not seen for more than {staleAfterHours} h.
          </p>
        </div>
      ) : null}

      <DataTable
        id="runtime-clients"
        caption="Runtime clients"
        captionDetail={`${active.length} active, ${clients.length - active.length} revoked; names are never reused`}
      >
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Sites</th>
            <th scope="col">Created</th>
            <th scope="col">Last seen</th>
            <th scope="col">Revoked</th>
            <th scope="col">Status</th>
            {canRevoke ? <th scope="col">Revoke</th> : null}
          </tr>
        </thead>
        <tbody>
          {clients.length === 0 ? <EmptyRow colSpan={canRevoke ? 7 : 6}>No runtime clients yet.</EmptyRow> : null}
          {clients.map((client, i) => {
            const isStale = client.staleReasons.length > 0;
            return (
              <tr key={client.name} className={client.revokedAt ? "row-inactive" : isStale ? "row-stale" : undefined}>
                <th scope="row">{client.name}</th>
                <td>
                  <ul className="inline-list">
                    {client.sites.map((s) => (
                      <li key={s.code}>
                        <abbr title={s.name}>{s.code}</abbr>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  <UtcTime value={client.createdAt} />
                </td>
                <td>
                  <UtcTimeOrOpen value={client.lastSeenAt} open="never" />
                </td>
                <td>
                  <UtcTimeOrOpen value={client.revokedAt} open="—" />
                </td>
                <td className="wrap">
                  {client.revokedAt ? (
                    <Badge tone="neutral">revoked</Badge>
                  ) : isStale ? (
                    <>
                      <Badge tone="bad">STALE</Badge>
                      <ul className="stale-reasons small">
                        {client.staleReasons.map((r) => (
                          <li key={r}>{r}</li>
                        ))}
                      </ul>
                    </>
                  ) : (
                    <Badge tone="good">active</Badge>
                  )}
                </td>
                {canRevoke ? <td>{client.revokedAt ? <span className="muted">—</span> : <ClientRevokeForm index={i} name={client.name} />}</td> : null}
              </tr>
            );
          })}
        </tbody>
      </DataTable>

      <SiteStatusTable />
      <RefusalTable />
      <ScanVolumeTable />

      {/* A new client means a new list: the form starts empty again; after a refusal it keeps what was typed. */}
      {canCreate ? <CreateClientForm key={`create-${clients.length}`} /> : null}
    </>
  );
}

/** "3 of 40 (7.5 %)", or "—" without scans. */
function rate(refused: number, scans: number): string {
  if (scans === 0) return "—";
  return `${refused} (${((refused / scans) * 100).toFixed(1)} %)`;
}

/** Per client and routing step: the scan decisions stations reported (ADR 042), last 24 h and 7 days. */
function ScanVolumeTable() {
  const { scans } = useLoaderData<typeof loader>();
  return (
    <DataTable
      id="scan-volumes"
      caption="Scan volumes per step"
      captionDetail="offline decisions reported by runtime clients, by hour; refused counts refusals and ambiguous reads"
    >
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col">Site</th>
          <th scope="col">Parent</th>
          <th scope="col">Step</th>
          <th scope="col">Scans 24 h</th>
          <th scope="col">Refused 24 h</th>
          <th scope="col">Scans 7 days</th>
          <th scope="col">Refused 7 days</th>
        </tr>
      </thead>
      <tbody>
        {scans.length === 0 ? <EmptyRow colSpan={8}>No scan decisions reported in the last 7 days.</EmptyRow> : null}
        {scans.map((r) => (
          <tr key={`${r.client}|${r.site}|${r.parent}|${r.step}`} data-client={r.client} data-parent={r.parent} data-step={r.step ?? ""}>
            <th scope="row">{r.client}</th>
            <td>{r.site}</td>
            <td>{r.parent}</td>
            <td>{r.step ?? <span className="muted">unknown</span>}</td>
            <td className="num">{r.scans24h}</td>
            <td className="num">{rate(r.refused24h, r.scans24h)}</td>
            <td className="num">{r.scans7d}</td>
            <td className="num">{rate(r.refused7d, r.scans7d)}</td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

/** One row per client and site: what the runtime runs there against the version in force. */
function SiteStatusTable() {
  const { clients } = useLoaderData<typeof loader>();
  const rows = clients.flatMap((client) => client.sites.map((site) => ({ client, site })));
  return (
    <DataTable
      id="runtime-client-sites"
      caption="Reported status per site"
      captionDetail="each runtime's last report: the version it activated and the keys it trusts"
    >
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col">Site</th>
          <th scope="col">In force</th>
          <th scope="col">Reported version</th>
          <th scope="col">Digest</th>
          <th scope="col">Activated</th>
          <th scope="col">Trusted keys</th>
          <th scope="col">Error</th>
          <th scope="col">Reported</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={9}>No runtime clients yet.</EmptyRow> : null}
        {rows.map(({ client, site }) => {
          const report = site.report;
          return (
            <tr key={`${client.name}|${site.code}`} className={client.revokedAt ? "row-inactive" : site.flag === "behind" ? "row-stale" : undefined}>
              <th scope="row">
                {client.name}
                {client.revokedAt ? <span className="muted small"> (revoked)</span> : null}
              </th>
              <td>
                <abbr title={site.name}>{site.code}</abbr>
              </td>
              <td>
                {site.inForce === null ? <span className="muted">none</span> : <Link to={`/rule-sets/${site.code}/${site.inForce}`}>v{site.inForce}</Link>}
              </td>
              <td>
                {report ? (
                  <>
                    {site.inForce !== null && report.version !== site.inForce ? (
                      <Link to={`/rule-sets/${site.code}/compare?from=${report.version}&to=${site.inForce}`} title="Compare with the version in force">
                        v{report.version}
                      </Link>
                    ) : (
                      <>v{report.version}</>
                    )}{" "}
                    <SiteFlag flag={site.flag} />
                  </>
                ) : (
                  <SiteFlag flag={site.flag} />
                )}
              </td>
              <td>
                {report ? (
                  <>
                    <Digest value={report.digest.replace(/^sha256:/, "")} />{" "}
                    {report.digestMatches ? null : <Badge tone="bad">not the digest of v{report.version}</Badge>}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>{report ? <UtcTime value={report.activatedAt} /> : <span className="muted">—</span>}</td>
              <td>{report ? <TrustedKeys keys={report.trustedKeys} /> : <span className="muted">—</span>}</td>
              <td className="wrap">{report?.error ? <span className="error-text">{report.error}</span> : <span className="muted">none</span>}</td>
              <td>{report ? <UtcTime value={report.reportedAt} /> : <span className="muted">never</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </DataTable>
  );
}

/**
 * Updates runtimes refused (forged, altered or broken rule sets offered to them): kept apart from
 * what they run, since a refusal is evidence of an attack or a fault on the way (ADR 008).
 */
function RefusalTable() {
  const { clients } = useLoaderData<typeof loader>();
  const rows = clients.flatMap((client) =>
    client.sites.filter((site) => site.refusals.count > 0).map((site) => ({ client, site, latest: site.refusals.latest! })),
  );
  return (
    <DataTable
      id="runtime-client-refusals"
      caption="Refused updates"
      captionDetail="rule sets a runtime was offered and refused, with the latest per client and site; it kept running what it had"
    >
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col">Site</th>
          <th scope="col">Refusals</th>
          <th scope="col">Offered version</th>
          <th scope="col">Offered digest</th>
          <th scope="col">Signing key (kid)</th>
          <th scope="col">Reason</th>
          <th scope="col">Kept running</th>
          <th scope="col">Reported</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={9}>No runtime has refused an update.</EmptyRow> : null}
        {rows.map(({ client, site, latest }) => (
          <tr key={`${client.name}|${site.code}`} className={client.revokedAt ? "row-inactive" : undefined}>
            <th scope="row">{client.name}</th>
            <td>
              <abbr title={site.name}>{site.code}</abbr>
            </td>
            <td>{site.refusals.count}</td>
            <td>{latest.offeredVersion === null ? <span className="muted">unreadable</span> : <>v{latest.offeredVersion}</>}</td>
            <td>
              {latest.offeredDigest ? <Digest value={latest.offeredDigest.replace(/^sha256:/, "")} /> : <span className="muted">unreadable</span>}{" "}
              {latest.offeredIsStored ? <Badge tone="warn">a version C-981 published</Badge> : <Badge tone="bad">not published by C-981</Badge>}
            </td>
            <td className="wrap">{latest.offeredKid ? <code className="small">{latest.offeredKid}</code> : <span className="muted">not reported</span>}</td>
            <td className="wrap">
              <code>{latest.code}</code> ({latest.source === "upcoming" ? "scheduled version" : "version in force"})
              {latest.message ? <span className="muted small"> {latest.message}</span> : null}
            </td>
            <td>{latest.runningVersion === null ? <span className="muted">nothing</span> : <>v{latest.runningVersion}</>}</td>
            <td>
              <UtcTime value={latest.reportedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

function ClientRevokeForm({ index, name }: { index: number; name: string }) {
  return (
    <RevokeForm
      schema={revokeIntentSchema}
      serverErrors={useErrorsFor("revoke", name)}
      index={index}
      label={name}
      fields={[["name", name]]}
      buttonClassName="button-danger"
    />
  );
}

function CreateClientForm() {
  const { sites } = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(createIntentSchema, useErrorsFor("create"));
  const sitesErrorId = "create-client-sites-error";
  return (
    <section aria-labelledby="create-client-heading" className="card form-card">
      <h2 id="create-client-heading">Create runtime client</h2>
      <p className="muted">
        The client gets a bearer token for the sites chosen here. The token is shown once, right after creating; C-981 keeps only its hash.
      </p>
      <FormError errors={errors.form} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="intent" value="create" />
        <Field
          label="Name"
          name="name"
          id="create-client-name"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          required
          maxLength={64}
          errors={errors.name}
          hint="2–64 letters, digits, dot, dash or underscore; never reused"
        />
        <fieldset className="site-choices" aria-describedby={errors.sites?.length ? sitesErrorId : undefined}>
          <legend>Sites</legend>
          <ul className="inline-list">
            {sites.map((site) => (
              <li key={site.code} className="checkbox-line">
                <input
                  type="checkbox"
                  name="sites"
                  id={`create-client-site-${site.code}`}
                  value={site.code}
                  aria-invalid={errors.sites?.length ? true : undefined}
                />
                <label htmlFor={`create-client-site-${site.code}`}>
                  {site.code} <span className="muted">— {site.name}</span>
                </label>
              </li>
            ))}
          </ul>
          <ErrorList id={sitesErrorId} errors={errors.sites} />
        </fieldset>
        <TextAreaField
          label="Reason"
          name="reason"
          id="create-client-reason"
          rows={2}
          required
          maxLength={500}
          errors={errors.reason}
          hint="Recorded in the audit trail with the new client"
        />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Create runtime client
        </button>
      </Form>
    </section>
  );
}
