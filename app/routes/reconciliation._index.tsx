import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectInput, StatusMessage, TextAreaField } from "~/components/form-fields";
import { FormError, parseForm, type FieldErrors } from "~/components/forms";
import { UtcTime } from "~/components/time";
import {
  describeResolution,
  IDENTIFIER_TYPE_LABELS,
  IDENTIFIER_TYPES,
  RECORD_SYSTEM_LABELS,
  RECORD_SYSTEMS,
  type ReconciliationRow,
} from "~/domain/reconciliation";
import { latestSnapshot, loadSystemOfRecord, reconciliationReport } from "~/queries/reconciliation.server";
import { systemOfRecordSchema } from "~/schemas/reconciliation";
import { setSystemOfRecord } from "~/services/reconciliation.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";

export const meta: MetaFunction = () => [{ title: "Reconciliation · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "ExternalMaster");
  const db = await getDb();
  const [report, sor, erp, plm] = await Promise.all([reconciliationReport(db), loadSystemOfRecord(db), latestSnapshot(db, "erp"), latestSnapshot(db, "plm")]);
  return { report, updated: sor.updated, snapshots: { erp, plm } };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "update", "ExternalMaster");
  const form = parseForm(systemOfRecordSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors, changed: null as boolean | null }, { status: 400 });
  try {
    const { changed } = await setSystemOfRecord(await getDb(), actorName(signedIn), form.data);
    return data({ fieldErrors: {} as FieldErrors, changed });
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors, changed: null }), { message: "never" });
  }
}

/** The new change request form, prefilled to resolve this disagreement (app/routes/change-requests.new.tsx reads these). */
function prefillLink(row: ReconciliationRow): string | null {
  const r = row.resolution;
  const params = new URLSearchParams({ cites: row.key });
  if (r.kind === "change_c981" && row.site) {
    params.set("material", row.partNumber);
    params.set("site", row.site);
    params.set("trackingMode", r.to);
  } else if (r.kind === "create_material") {
    params.set("newMaterial", row.partNumber);
    if (row.site) params.set("site", row.site);
    if (r.to) params.set("trackingMode", r.to);
  } else return null;
  return `/change-requests/new?${params.toString()}`;
}

function Mode({ value, flag }: { value: string | null; flag?: string }) {
  if (value === null) return <span className="muted">—</span>;
  return (
    <>
      <Badge tone={value as "serial" | "lot" | "none"}>{value}</Badge>
      {flag ? <span className="muted small"> {flag}</span> : null}
    </>
  );
}

export default function Reconciliation() {
  const { report, updated, snapshots } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const ability = useAbility();
  const navigation = useNavigation();
  const canPropose = ability.can("create", "ChangeRequest");
  return (
    <>
      <PageHeader
        title="Reconciliation"
        lead={
          <>
            Every material and site where ERP, PLM and C-981 disagree on tracking: {report.rows.length} of {report.compared} compared. ERP:{" "}
            {snapshots.erp ? (
              <>
                snapshot #{snapshots.erp.id} of <UtcTime value={snapshots.erp.importedAt} />
              </>
            ) : (
              "seed records"
            )}
            ; PLM:{" "}
            {snapshots.plm ? (
              <>
                snapshot #{snapshots.plm.id} of <UtcTime value={snapshots.plm.importedAt} />
              </>
            ) : (
              "seed records"
            )}
            .
          </>
        }
      >
        <a href="/reconciliation.csv" download>
          Export CSV
        </a>
        <Link to="/external-masters">ERP / PLM snapshots</Link>
      </PageHeader>

      <section className="card" aria-labelledby="sor-heading">
        <h2 id="sor-heading">System of record</h2>
        <p className="muted small">
          Which system wins a disagreement, by identifier type: a disagreement is about serial numbers when any system says serial, otherwise about lots.
          Releasing a version that leaves a disagreement at its site needs a waiver in the release signature.
        </p>
        <ul>
          {IDENTIFIER_TYPES.map((t) => (
            <li key={t}>
              {IDENTIFIER_TYPE_LABELS[t]}: <strong>{RECORD_SYSTEM_LABELS[report.systemOfRecord[t]]}</strong>
              {updated[t] ? (
                <span className="muted small">
                  {" "}
                  (set by {updated[t]!.by}, <UtcTime value={updated[t]!.at} />)
                </span>
              ) : (
                <span className="muted small"> (default)</span>
              )}
            </li>
          ))}
        </ul>
        {actionData?.changed !== undefined && actionData.changed !== null ? (
          <StatusMessage>
            {actionData.changed ? "System of record changed (audited)." : "Unchanged: that system is already the system of record."}
          </StatusMessage>
        ) : null}
        {ability.can("update", "ExternalMaster") ? (
          <Form method="post" noValidate className="form-grid">
            <FormError errors={actionData?.fieldErrors.form} />
            <SelectInput
              label="Identifier type"
              name="identifierType"
              id="sor-type"
              defaultValue=""
              errors={actionData?.fieldErrors.identifierType}
              options={[{ value: "", label: "Choose…" }, ...IDENTIFIER_TYPES.map((t) => ({ value: t, label: IDENTIFIER_TYPE_LABELS[t] }))]}
            />
            <SelectInput
              label="System of record"
              name="system"
              id="sor-system"
              defaultValue=""
              errors={actionData?.fieldErrors.system}
              options={[{ value: "", label: "Choose…" }, ...RECORD_SYSTEMS.map((s) => ({ value: s, label: RECORD_SYSTEM_LABELS[s] }))]}
            />
            <TextAreaField label="Reason" name="reason" id="sor-reason" rows={2} maxLength={2000} errors={actionData?.fieldErrors.reason} />
            <button type="submit" disabled={navigation.state === "submitting"}>
              Set system of record
            </button>
          </Form>
        ) : null}
      </section>

      <DataTable id="reconciliation" caption="Disagreements" captionDetail={`${report.rows.length} material/site pair(s)`}>
        <thead>
          <tr>
            <th scope="col">Disagreement</th>
            <th scope="col">C-981</th>
            <th scope="col">ERP</th>
            <th scope="col">PLM</th>
            <th scope="col">System of record</th>
            <th scope="col">Resolution</th>
            <th scope="col">Change requests</th>
          </tr>
        </thead>
        <tbody>
          {report.rows.length === 0 ? <EmptyRow colSpan={7}>ERP, PLM and C-981 agree everywhere they are compared.</EmptyRow> : null}
          {report.rows.map((row) => {
            const link = prefillLink(row);
            return (
              <tr key={row.key}>
                <th scope="row">
                  {row.knownToC981 ? <Link to={`/materials/${encodeURIComponent(row.partNumber)}`}>{row.partNumber}</Link> : row.partNumber}
                  {row.site ? ` @ ${row.site}` : <span className="muted small"> (no site)</span>}
                  <div className="muted small">
                    <code>{row.key}</code>
                  </div>
                </th>
                <td>{row.knownToC981 ? <Mode value={row.c981} /> : <Badge tone="warn">unknown to C-981</Badge>}</td>
                <td>
                  <Mode value={row.erp?.mode ?? null} flag={row.erp?.flag} />
                </td>
                <td>
                  <Mode value={row.plm?.mode ?? null} flag={row.plm?.flag} />
                </td>
                <td>
                  {RECORD_SYSTEM_LABELS[row.systemOfRecord]} <span className="muted small">({row.identifierType})</span>
                </td>
                <td className="wrap">{describeResolution(row)}</td>
                <td className="wrap">
                  {row.changeRequests.map((cr) => (
                    <div key={cr.number}>
                      <Link to={`/change-requests/${cr.number}`}>{cr.number}</Link> <span className="muted small">{cr.status.replaceAll("_", " ")}</span>
                      {cr.cites ? <Badge tone="info">cites it</Badge> : null}
                    </div>
                  ))}
                  {row.changeRequests.length === 0 && link && canPropose ? <Link to={link}>Propose a change request</Link> : null}
                  {row.changeRequests.length === 0 && !(link && canPropose) ? <span className="muted">—</span> : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </DataTable>
    </>
  );
}
