import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { AuditTable } from "~/components/audit-table";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { SelectInput, StatusMessage, TextAreaField } from "~/components/form-fields";
import { FormError, parseForm, useSchemaForm } from "~/components/forms";
import { DISPOSITION_LABELS, DISPOSITION_OPTIONS, kindLabel, QualityEventStatusBadge, SeverityBadge } from "~/components/quality-event";
import { UtcTime } from "~/components/time";
import { QUALITY_EVENT_STATUSES } from "~/domain/quality-event";
import { ruleAtRaiseText } from "~/domain/quality-event-rules";
import { entityAuditHistory } from "~/queries/audit.server";
import { qualityEventDetail } from "~/queries/quality-events.server";
import { qualityEventStatusSchema } from "~/schemas/quality-event";
import { changeQualityEventStatus } from "~/services/quality-events.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName, siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { record } from "../../policies/ability";
import { actionError, notFound } from "~/utils/errors.server";

const NUMBER = /^QE-[0-9]{4,}$/;
const HISTORY_LIMIT = 50;

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.event.number} · Quality events · C-981` : "Quality event not found · C-981" },
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "QualityEvent");
  const number = params.number ?? "";
  if (!NUMBER.test(number)) throw notFound();
  const db = await getDb();
  const detail = await qualityEventDetail(db, { number, sites: siteFilter(signedIn) });
  if (!detail) throw notFound();
  const history = await entityAuditHistory(db, { entityType: "quality_event", entityId: number, limit: HISTORY_LIMIT });
  // The decision form only for who may change events at this event's site (policies/ability.ts); the action checks again.
  const site = signedIn.sites.find((s) => s.code === detail.event.siteCode);
  const canHandle = detail.event.status !== "closed" && site !== undefined && signedIn.ability.can("update", record("QualityEvent", { siteId: site.id }));
  return { ...detail, history, canHandle };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "update", "QualityEvent");
  const number = params.number ?? "";
  if (!NUMBER.test(number)) throw notFound();
  const form = parseForm(qualityEventStatusSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  const db = await getDb();
  try {
    await changeQualityEventStatus(db, { username: actorName(signedIn), ability: signedIn.ability }, number, form.data);
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors }));
  }
  throw redirect(`/quality-events/${number}?done=status`);
}

export default function QualityEventPage() {
  const { event, references, reach, history, canHandle } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  return (
    <>
      <PageHeader
        title={`${event.number}: ${event.title}`}
        lead={`${kindLabel(event.kind)} at ${event.siteCode}, raised by ${event.raisedBy}${event.externalId ? ` (QMS ${event.externalId})` : ""}.`}
      >
        <Link to="/quality-events">All quality events</Link>
      </PageHeader>
      {searchParams.get("done") === "status" ? <StatusMessage>The status was changed and recorded in the audit trail.</StatusMessage> : null}
      {searchParams.get("done") === "raised" ? (
        <StatusMessage>The event was raised and recorded in the audit trail, with the rule in force for each reference.</StatusMessage>
      ) : null}

      <section className="card" aria-labelledby="qe-facts-heading">
        <h2 id="qe-facts-heading">The event</h2>
        <dl className="properties">
          <div>
            <dt>Status</dt>
            <dd>
              <QualityEventStatusBadge status={event.status} />
            </dd>
          </div>
          <div>
            <dt>Severity</dt>
            <dd>
              <SeverityBadge severity={event.severity} />
            </dd>
          </div>
          <div>
            <dt>Disposition</dt>
            <dd>{DISPOSITION_LABELS[event.disposition]}</dd>
          </div>
          <div>
            <dt>Raised</dt>
            <dd>
              <UtcTime value={event.raisedAt} />
            </dd>
          </div>
          {event.closedAt ? (
            <div>
              <dt>Closed</dt>
              <dd>
                <UtcTime value={event.closedAt} />
              </dd>
            </div>
          ) : null}
          {event.description ? (
            <div className="wide">
              <dt>Description</dt>
              <dd>{event.description}</dd>
            </div>
          ) : null}
        </dl>
      </section>

      <DataTable
        id="qe-references"
        caption="What the event references"
        captionDetail="each serial, lot, container or material, with the rule in force for it at its site when the event was raised"
      >
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Material</th>
            <th scope="col">Identifier</th>
            <th scope="col">Site</th>
            <th scope="col">Rule when raised</th>
          </tr>
        </thead>
        <tbody>
          {references.map((r, i) => (
            <tr key={i}>
              <td>{r.kind}</td>
              <td>
                <Link to={`/materials/${encodeURIComponent(r.partNumber)}`}>{r.partNumber}</Link>
              </td>
              <td>
                {r.traceItemId !== null ? (
                  <Link to={`/genealogy/${r.traceItemId}`}>{r.identifier}</Link>
                ) : (
                  <span className="muted">the material as a whole</span>
                )}
              </td>
              <td>{r.siteCode}</td>
              <td>{ruleAtRaiseText(r.rule, r.siteCode)}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>

      <DataTable
        id="qe-reach"
        caption="Reach: finished goods that may contain the referenced items"
        captionDetail={
          <>
            {reach.total} finished good(s): <Badge tone="bad">{reach.certain} certain</Badge> <Badge tone="warn">{reach.candidate} candidate</Badge>
            {reach.total > reach.rows.length ? ` · the first ${reach.rows.length} shown` : ""}
            {reach.withheld ? ` · ${reach.withheld} at sites you cannot see` : ""}
            {reach.truncated ? " · the walk stopped at its limit: the reach may be larger" : ""}
            {reach.materialReferences ? ` · ${reach.materialReferences} material reference(s) reach no item through the genealogy` : ""}
          </>
        }
      >
        <thead>
          <tr>
            <th scope="col">Finished good</th>
            <th scope="col">Material</th>
            <th scope="col">Site</th>
            <th scope="col">Status</th>
            <th scope="col">Certainty</th>
            <th scope="col">Via</th>
          </tr>
        </thead>
        <tbody>
          {reach.rows.length === 0 ? (
            <EmptyRow colSpan={6}>No finished good reached (yet).</EmptyRow>
          ) : (
            reach.rows.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  <Link to={`/genealogy/${r.id}`}>{r.identifier}</Link>
                </th>
                <td>{r.partNumber}</td>
                <td>{r.siteCode}</td>
                <td>{r.status}</td>
                <td>{r.certainty}</td>
                <td>{r.via.join(", ")}</td>
              </tr>
            ))
          )}
        </tbody>
      </DataTable>

      {canHandle ? <StatusForm key={history.rows[0]?.seq ?? 0} rowVersion={event.rowVersion} status={event.status} disposition={event.disposition} /> : null}

      <AuditTable
        entity={false}
        changes
        id="qe-history"
        caption={`Audit history of ${event.number}`}
        captionDetail={`newest first${history.more ? `, latest ${HISTORY_LIMIT}` : ""}`}
        rows={history.rows}
        empty="No audit entries."
      />
    </>
  );
}

function StatusForm({ rowVersion, status, disposition }: { rowVersion: number; status: string; disposition: string }) {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(qualityEventStatusSchema, actionData?.fieldErrors);
  return (
    <section className="card form-card" aria-labelledby="qe-status-heading">
      <h2 id="qe-status-heading">Contain, disposition or close</h2>
      <FormError errors={[...(errors.form ?? []), ...(errors.rowVersion ?? [])]} />
      <Form method="post" onSubmit={onSubmit} noValidate>
        <input type="hidden" name="rowVersion" value={rowVersion} />
        <div className="form-grid">
          <SelectInput
            label="Status"
            name="status"
            id="qe-status"
            options={QUALITY_EVENT_STATUSES.map((s) => ({ value: s, label: s }))}
            defaultValue={status}
            errors={errors.status}
          />
          <SelectInput
            label="Disposition"
            name="disposition"
            id="qe-disposition"
            options={DISPOSITION_OPTIONS}
            defaultValue={disposition}
            errors={errors.disposition}
          />
        </div>
        <TextAreaField label="What was decided" name="comment" id="qe-comment" rows={2} maxLength={2000} errors={errors.comment} />
        <button type="submit" disabled={navigation.state === "submitting"}>
          Record the decision
        </button>
      </Form>
    </section>
  );
}
