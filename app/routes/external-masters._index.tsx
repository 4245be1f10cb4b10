import { SNAPSHOT_UPLOAD_MAX_BYTES } from "~/utils/body-limits";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, unstable_createMemoryUploadHandler, unstable_parseMultipartFormData, MaxPartSizeExceededError } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { useAbility } from "~/components/ability";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { SelectInput } from "~/components/form-fields";
import { ErrorList, FormError, type FieldErrors } from "~/components/forms";
import { UtcTime } from "~/components/time";
import { ERROR_LIST_CAP, EXTERNAL_SYSTEMS, SNAPSHOT_COLUMNS } from "~/domain/external-snapshot";
import { snapshotHistory } from "~/queries/reconciliation.server";
import { importExternalSnapshot, type ImportResult } from "~/services/external-import.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "ERP / PLM snapshots · C-981" }];

/** Uploads are held in memory up to this size, then streamed through the parser (docs/decisions/015). */
const MAX_FILE_BYTES = SNAPSHOT_UPLOAD_MAX_BYTES;
const uploadSchema = z.object({ system: z.enum(EXTERNAL_SYSTEMS, { error: "Choose ERP or PLM" }) });

export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "ExternalMaster");
  return { history: await snapshotHistory(await getDb()), columns: SNAPSHOT_COLUMNS };
}

type ActionData = { fieldErrors: FieldErrors; result: ImportResult | null };

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "ExternalMaster");
  const refuse = (fieldErrors: FieldErrors, status = 400) => data<ActionData>({ fieldErrors, result: null }, { status });
  if (!(request.headers.get("Content-Type") ?? "").startsWith("multipart/form-data")) return refuse({ file: ["Choose a CSV file to import"] });
  let formData: FormData;
  try {
    formData = await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: MAX_FILE_BYTES }));
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError)
      return refuse({ file: [`The file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; import it with the CLI (npm run c981 -- import:erp FILE)`] }, 413);
    throw error;
  }
  const parsed = uploadSchema.safeParse({ system: formData.get("system") ?? undefined });
  const file = formData.get("file");
  const fieldErrors: FieldErrors = {};
  if (!parsed.success) fieldErrors.system = parsed.error.issues.map((i) => i.message);
  if (!(file instanceof File) || file.size === 0) fieldErrors.file = ["Choose a CSV file to import (it must not be empty)"];
  if (!parsed.success || !(file instanceof File) || file.size === 0) return refuse(fieldErrors);
  const result = await importExternalSnapshot(await getDb(), actorName(signedIn), {
    system: parsed.data.system,
    fileName: file.name,
    source: () => file.stream() as unknown as AsyncIterable<Uint8Array>,
  });
  return data<ActionData>({ fieldErrors: {}, result }, { status: result.ok ? 200 : 400 });
}

export default function ExternalMasters() {
  const { history, columns } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const ability = useAbility();
  const navigation = useNavigation();
  const result = actionData?.result ?? null;
  return (
    <>
      <PageHeader
        title="ERP / PLM snapshots"
        lead="The ERP material master and the PLM serialization flags, imported as CSV snapshots and reconciled with C-981's rules."
      >
        <Link to="/reconciliation">Reconciliation report</Link>
      </PageHeader>

      {result?.ok ? (
        <div className="notice" role="status">
          <p>
            <strong>
              Imported {result.system.toUpperCase()} snapshot #{result.snapshotId}
            </strong>{" "}
            from {result.fileName}: {result.rows.toLocaleString("en")} rows, digest <Digest value={result.digest} />. It replaces the previous{" "}
            {result.system.toUpperCase()} view ({result.replaced.rows.toLocaleString("en")} records
            {result.replaced.snapshotId ? `, snapshot #${result.replaced.snapshotId}` : ", from the seed"}).
          </p>
          {result.unknownCount > 0 ? (
            <>
              <p>
                {result.unknownCount.toLocaleString("en")} part number(s) are unknown to C-981: imported and listed in the{" "}
                <Link to="/reconciliation">reconciliation report</Link>; importing never creates materials (a change request does).
              </p>
              <ul className="compact-list">
                {result.unknown.map((u) => (
                  <li key={`${u.line}`}>
                    line {u.line}: {u.partNumber}
                    {u.site ? ` at ${u.site}` : ""}
                  </li>
                ))}
                {result.unknownCount > result.unknown.length ? <li>… and {result.unknownCount - result.unknown.length} more</li> : null}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}

      {result && !result.ok ? (
        <section className="form-error" role="alert" aria-labelledby="import-refused-heading">
          <h2 id="import-refused-heading">
            Refused: {result.fileName} ({result.system.toUpperCase()}) — nothing was imported
          </h2>
          <p>
            {result.errorCount.toLocaleString("en")} error(s) in {result.rows.toLocaleString("en")} row(s)
            {result.errorCount > result.errors.length ? `; the first ${result.errors.length} are listed` : ""}. Correct the file and import it again.
          </p>
          <DataTable id="import-errors" caption="Errors" captionDetail={`line and field of each (the header is line 1; at most ${ERROR_LIST_CAP} listed)`}>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Field</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {result.errors.map((e, i) => (
                <tr key={i}>
                  <td>{e.line}</td>
                  <td>
                    <code>{e.field}</code>
                  </td>
                  <td className="wrap">{e.message}</td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        </section>
      ) : null}

      {ability.can("create", "ExternalMaster") ? (
        <section className="card form-card" aria-labelledby="import-heading">
          <h2 id="import-heading">Import a snapshot</h2>
          <p className="muted small">
            All or nothing: a file with any error imports nothing and every error is listed with its line and field. A good file becomes the system&apos;s
            current view; earlier snapshots are kept.
          </p>
          <Form method="post" encType="multipart/form-data" noValidate>
            <FormError errors={actionData?.fieldErrors.form} />
            <SelectInput
              label="System"
              name="system"
              id="import-system"
              required
              defaultValue=""
              errors={actionData?.fieldErrors.system}
              options={[
                { value: "", label: "Choose…" },
                { value: "erp", label: "ERP material master" },
                { value: "plm", label: "PLM serialization flags" },
              ]}
            />
            <div className="field">
              <label htmlFor="import-file">CSV file</label>
              <input
                id="import-file"
                name="file"
                type="file"
                accept=".csv,text/csv"
                required
                aria-invalid={actionData?.fieldErrors.file ? true : undefined}
                aria-describedby={actionData?.fieldErrors.file ? "import-file-error" : undefined}
              />
              <ErrorList id="import-file-error" errors={actionData?.fieldErrors.file} />
            </div>
            <button type="submit" disabled={navigation.state === "submitting"}>
              Import
            </button>
          </Form>
        </section>
      ) : null}

      <section className="card" aria-labelledby="formats-heading">
        <h2 id="formats-heading">File formats</h2>
        <p className="muted small">
          UTF-8 CSV (RFC 4180 quoting; a byte-order mark is allowed), comma-separated, a header row naming the columns in any order.
        </p>
        {EXTERNAL_SYSTEMS.map((system) => (
          <DataTable key={system} id={`format-${system}`} caption={system === "erp" ? "ERP material master" : "PLM serialization flags"}>
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">Required</th>
                <th scope="col">Content</th>
              </tr>
            </thead>
            <tbody>
              {columns[system].map((c) => (
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
        ))}
      </section>

      <DataTable id="snapshot-history" caption="Snapshots" captionDetail="newest first; the newest of each system is its current view">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">System</th>
            <th scope="col">File</th>
            <th scope="col">Rows</th>
            <th scope="col">Unknown to C-981</th>
            <th scope="col">Digest</th>
            <th scope="col">Imported by</th>
            <th scope="col">At</th>
          </tr>
        </thead>
        <tbody>
          {history.length === 0 ? <EmptyRow colSpan={8}>No snapshot imported yet: the records come from the seed.</EmptyRow> : null}
          {history.map((s, i) => (
            <tr key={s.id}>
              <td>{s.id}</td>
              <td>
                {s.system.toUpperCase()} {history.findIndex((x) => x.system === s.system) === i ? <Badge tone="good">current</Badge> : null}
              </td>
              <td className="wrap">{s.fileName}</td>
              <td>{s.rowCount.toLocaleString("en")}</td>
              <td>{s.unknownCount.toLocaleString("en")}</td>
              <td>
                <Digest value={s.digest} />
              </td>
              <td>{s.importedBy}</td>
              <td>
                <UtcTime value={s.importedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </>
  );
}
