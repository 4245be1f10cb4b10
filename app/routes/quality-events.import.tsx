import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, MaxPartSizeExceededError, unstable_createMemoryUploadHandler, unstable_parseMultipartFormData } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { DataTable } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { ImportFigures, RefusalNotice } from "~/components/epcis-import";
import { StatusMessage } from "~/components/form-fields";
import { formatCount } from "~/components/format";
import { ErrorList, type FieldErrors } from "~/components/forms";
import { QMS_CSV_COLUMNS, QMS_CSV_ERROR_CAP, QMS_CSV_MAX_ROWS } from "~/domain/quality-event-csv-format";
import { importQualityEvents, type QualityImportResult } from "~/services/quality-event-import.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName, type SignedIn } from "~/utils/auth.server";
import { formatBytes, QMS_UPLOAD_MAX_BYTES } from "~/utils/body-limits";
import { getDb } from "~/utils/db.server";
import { record } from "../../policies/ability";

export const meta: MetaFunction = () => [{ title: "Import a QMS export · Quality events · C-981" }];

/** The sites where this user may raise (create) and change (update) quality events (policies/ability.ts). */
function sitesWhere(signedIn: SignedIn, action: "create" | "update") {
  return signedIn.sites.filter((s) => signedIn.ability.can(action, record("QualityEvent", { siteId: s.id })));
}

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "QualityEvent");
  return {
    columns: QMS_CSV_COLUMNS,
    raiseSites: sitesWhere(signedIn, "create").map((s) => s.code),
    changeSites: sitesWhere(signedIn, "update").map((s) => s.code),
    maxBytes: QMS_UPLOAD_MAX_BYTES,
  };
}

type ActionData = { fieldErrors: FieldErrors; result: QualityImportResult | null };

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "QualityEvent");
  const refuse = (fieldErrors: FieldErrors, status = 400) => data<ActionData>({ fieldErrors, result: null }, { status });
  if (!(request.headers.get("Content-Type") ?? "").startsWith("multipart/form-data")) return refuse({ file: ["Choose a CSV file to import"] });
  let formData: FormData;
  try {
    formData = await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: QMS_UPLOAD_MAX_BYTES }));
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError)
      return refuse(
        { file: [`The file is larger than ${formatBytes(QMS_UPLOAD_MAX_BYTES)}; split the export (npm run c981 -- quality:import FILE has the same limit)`] },
        413,
      );
    throw error;
  }
  const file = formData.get("file");
  if (!(file instanceof File) || file.size === 0) return refuse({ file: ["Choose a CSV file to import (it must not be empty)"] });
  const db = await getDb();
  // The service checks every row's site against this ability (create; update for a status change).
  const result = await importQualityEvents(
    db,
    { username: actorName(signedIn), ability: signedIn.ability },
    { fileName: file.name, bytes: new Uint8Array(await file.arrayBuffer()) },
  );
  return data<ActionData>({ fieldErrors: {}, result }, { status: result.ok ? 200 : 422 });
}

function EventLink({ number }: { number: string }) {
  return <Link to={`/quality-events/${number}`}>{number}</Link>;
}

function Result({ result }: { result: QualityImportResult }) {
  if (!result.ok) {
    return (
      <section className="card" aria-labelledby="result-heading">
        <h2 id="result-heading">Refused: nothing was imported</h2>
        <RefusalNotice>
          <p>
            <strong>{result.fileName}</strong> was refused whole: {formatCount(result.errorCount)} problem(s) in {formatCount(result.rows)} row(s)
            {result.errorCount > result.errors.length ? `, the first ${formatCount(result.errors.length)} listed` : ""}. No quality event was raised or changed.
            Correct the export and import it again.
          </p>
        </RefusalNotice>
        <p className="muted small">
          SHA-256 <Digest value={result.digest} />
        </p>
        <DataTable id="import-errors" caption="Errors" captionDetail={`row and column of each (the header is row 1; at most ${QMS_CSV_ERROR_CAP} listed)`}>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {result.errors.map((e, i) => (
              <tr key={i}>
                <td>{e.row}</td>
                <td>
                  <code>{e.column}</code>
                </td>
                <td className="wrap">{e.message}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </section>
    );
  }
  return (
    <section className="card" aria-labelledby="result-heading">
      <h2 id="result-heading">{result.nothingChanged ? "Imported before: nothing changed" : "Imported"}</h2>
      <StatusMessage>
        {result.fileName}: {formatCount(result.rows)} row(s) read; {formatCount(result.created.length)} quality event(s) raised,{" "}
        {formatCount(result.changed.length)} status change(s), {formatCount(result.unchanged.length)} unchanged.
      </StatusMessage>
      <p className="muted small">
        SHA-256 <Digest value={result.digest} />
      </p>
      <ImportFigures
        figures={[
          { label: "Rows", value: result.rows },
          { label: "Raised", value: result.created.length },
          { label: "Status changed", value: result.changed.length },
          { label: "Unchanged", value: result.unchanged.length },
        ]}
      />
      {result.created.length + result.changed.length > 0 ? (
        <DataTable id="import-events" caption="Quality events raised or changed">
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">QMS id</th>
              <th scope="col">Quality event</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {result.created.map((e) => (
              <tr key={e.number}>
                <td>{e.row}</td>
                <td>
                  <code>{e.qmsId}</code>
                </td>
                <td>
                  <EventLink number={e.number} />
                </td>
                <td>raised</td>
              </tr>
            ))}
            {result.changed.map((e) => (
              <tr key={e.number}>
                <td>{e.row}</td>
                <td>
                  <code>{e.qmsId}</code>
                </td>
                <td>
                  <EventLink number={e.number} />
                </td>
                <td>
                  {e.from.status}, {e.from.disposition} → {e.to.status}, {e.to.disposition}
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ) : null}
      {result.notes.length > 0 ? (
        <DataTable id="import-notes" caption="Not updated by an import" captionDetail="an import changes only status and disposition">
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Column</th>
              <th scope="col">Note</th>
            </tr>
          </thead>
          <tbody>
            {result.notes.map((n, i) => (
              <tr key={i}>
                <td>{n.row}</td>
                <td>
                  <code>{n.column}</code>
                </td>
                <td className="wrap">{n.message}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      ) : null}
    </section>
  );
}

export default function QualityEventImport() {
  const { columns, raiseSites, changeSites, maxBytes } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const fileErrors = actionData?.fieldErrors.file;
  return (
    <>
      <PageHeader
        title="Import a QMS export"
        lead="Quality events from your quality management system's CSV export: raised, or brought up to date, all or nothing."
      >
        <Link to="/quality-events">Quality events</Link>
      </PageHeader>

      {actionData?.result ? <Result result={actionData.result} /> : null}

      <section className="card form-card" aria-labelledby="import-heading">
        <h2 id="import-heading">Import a file</h2>
        <p className="muted small">
          All or nothing: a file with any problem imports nothing and every problem is listed with its row and column. A QMS id imported before is not raised
          again: a changed status or disposition is applied as a status change, the same row changes nothing. You may raise quality events at{" "}
          {raiseSites.join(", ") || "no site"}
          {changeSites.length ? `; change their status at ${changeSites.join(", ")}` : "; you may not change their status"}.
        </p>
        <Form method="post" encType="multipart/form-data" noValidate>
          <div className="field">
            <label htmlFor="import-file">CSV file</label>
            <input
              id="import-file"
              name="file"
              type="file"
              accept=".csv,text/csv"
              required
              aria-invalid={fileErrors ? true : undefined}
              aria-describedby={fileErrors ? "import-file-error" : "import-file-hint"}
            />
            <p id="import-file-hint" className="muted small">
              UTF-8 CSV, up to {formatBytes(maxBytes)} and {formatCount(QMS_CSV_MAX_ROWS)} quality events.
            </p>
            <ErrorList id="import-file-error" errors={fileErrors} />
          </div>
          <button type="submit" disabled={navigation.state === "submitting"}>
            Import
          </button>
        </Form>
      </section>

      <section className="card" aria-labelledby="format-heading">
        <h2 id="format-heading">File format</h2>
        <p className="muted small">
          UTF-8 CSV (RFC 4180 quoting; a byte order mark is allowed), comma-separated, a header row naming the columns in any order. Words are read whatever
          their case, spaces, hyphens and underscores.
        </p>
        <DataTable id="format-columns" caption="Columns">
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Required</th>
              <th scope="col">Content</th>
            </tr>
          </thead>
          <tbody>
            {columns.map((c) => (
              <tr key={c.name}>
                <th scope="row">
                  <code>{c.name}</code>
                </th>
                <td>{c.required ? "yes" : "no"}</td>
                <td className="wrap">{c.description}</td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </section>
    </>
  );
}
