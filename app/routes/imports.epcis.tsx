import { epcisImportIntentSchema } from "~/schemas/epcis-import";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  data,
  unstable_composeUploadHandlers,
  unstable_createFileUploadHandler,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
  MaxPartSizeExceededError,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { Digest } from "~/components/digest";
import { CreatedItems, ImportFigures, IssueTable, QuarantinedGtin, quarantineAnchor, RefusalNotice } from "~/components/epcis-import";
import { SelectInput, StatusMessage } from "~/components/form-fields";
import { ErrorList } from "~/components/forms";
import { formatCount } from "~/components/format";
import { PagePagination } from "~/components/pagination";
import { UtcTime } from "~/components/time";
import { EPCIS_UPLOAD_MAX_BYTES, formatBytes } from "~/utils/body-limits";
import { importEpcisDocument, type EpcisImportResult } from "~/services/epcis-import.server";
import { releaseQuarantineNow } from "~/services/epcis-quarantine.server";
import { quarantineList } from "~/queries/epcis-quarantine.server";
import { epcisImportHistory, itemsCreatedByDocument, latestEpcisAttemptOf, type EpcisImportAttempt } from "~/queries/epcis-imports.server";
import { siteOptions } from "~/queries/sites.server";
import { fileSource } from "~/services/epcis-stream.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName, requireRecord, siteFilter, type SignedIn } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { readEnv } from "~/utils/env.server";
import { invariantResponse, toResponse } from "~/utils/errors.server";
import { fieldErrorsFromIssues } from "~/utils/field-errors";
import { mayEverywhere, record } from "../../policies/ability";

export const meta: MetaFunction = () => [{ title: "EPCIS import · C-981" }];

/** Uploads are streamed to a temporary file, then read twice as a stream (check, then apply). */
const MAX_UPLOAD_BYTES = EPCIS_UPLOAD_MAX_BYTES;

/** The history's page: a bad value shows the first page rather than failing. */
const historySearch = z.object({ page: z.coerce.number().int().min(1).max(1_000_000).catch(1) });

/** Created items listed with an import's result; the rest are on its record. */
const CREATED_ITEMS_SHOWN = 10;

/** The sites this user may import into: the site-bound right to create trace items (policies/ability.ts). */
function importSites(signedIn: SignedIn) {
  return signedIn.sites.filter((s) => signedIn.ability.can("create", record("TraceItem", { siteId: s.id })));
}

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "TraceItem");
  const { page } = historySearch.parse(Object.fromEntries(new URL(request.url).searchParams));
  const db = await getDb();
  const [quarantine, history, allSites] = await Promise.all([
    quarantineList(db),
    epcisImportHistory(db, { sites: siteFilter(signedIn), page }),
    siteOptions(db),
  ]);
  const names = new Map(allSites.map((s) => [s.code, s.name]));
  return {
    sites: importSites(signedIn).map((s) => ({ code: s.code, name: names.get(s.code) ?? s.code })),
    quarantine: quarantine.map((q) => ({ gtin: q.gtin, events: Number(q.events) })),
    history,
  };
}

type ActionResult =
  | { kind: "import"; result: EpcisImportResult; recordId: number | null; created: Awaited<ReturnType<typeof itemsCreatedByDocument>> | null }
  | { kind: "release"; gtin: string; released: number; stillQuarantined: number }
  | { kind: "invalid"; errors: Record<string, string[]> };

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "TraceItem");
  const multipart = (request.headers.get("Content-Type") ?? "").startsWith("multipart/form-data");
  const dir = multipart ? await fs.mkdtemp(path.join(os.tmpdir(), "c981-epcis-upload-")) : null;
  try {
    // The file goes to disk under a fixed name (never the client's); its name is kept for the record.
    let uploadedName = "";
    const formData = dir
      ? await unstable_parseMultipartFormData(
          request,
          unstable_composeUploadHandlers(
            unstable_createFileUploadHandler({
              directory: dir,
              maxPartSize: MAX_UPLOAD_BYTES,
              filter: ({ name }) => name === "file",
              file: ({ filename }) => {
                uploadedName = path.basename(filename).slice(0, 200);
                return "upload.json";
              },
            }),
            unstable_createMemoryUploadHandler({ maxPartSize: 10_000 }),
          ),
        )
      : await request.formData();
    const file = formData.get("file");
    const filePath = file && typeof file === "object" && "getFilePath" in file ? (file as { getFilePath(): string }).getFilePath() : null;
    const parsed = epcisImportIntentSchema.safeParse({
      intent: formData.get("intent") ?? "import",
      site: formData.get("site") ?? "",
      fileName: filePath ? uploadedName || "upload.json" : "",
      gtin: formData.get("gtin") ?? "",
    });
    if (!parsed.success) return data<ActionResult>({ kind: "invalid", errors: fieldErrorsFromIssues(parsed.error.issues) }, { status: 400 });
    const db = await getDb();
    const input = parsed.data;
    if (input.intent === "release") {
      // The release of a GTIN's quarantine reaches every site where its events wait.
      const everywhere = mayEverywhere(signedIn.grants, "create", "TraceItem");
      invariantResponse(everywhere, "Releasing a quarantine reaches every site: it needs the right to import at all sites.", 403);
      const result = await releaseQuarantineNow(db, input.gtin, actorName(signedIn));
      return data<ActionResult>({ kind: "release", gtin: input.gtin, ...result });
    }
    // Only a site offered by the form: any other is a field error, as an empty choice is.
    const site = importSites(signedIn).find((s) => s.code === input.site.toUpperCase());
    if (!site)
      return data<ActionResult>(
        { kind: "invalid", errors: { site: [`You may not import into ${input.site}: choose one of the sites listed`] } },
        { status: 400 },
      );
    requireRecord(signedIn, "create", "TraceItem", { siteId: site.id });
    const result = await importEpcisDocument(db, actorName(signedIn), {
      fileName: input.fileName,
      siteCode: site.code,
      source: fileSource(filePath!),
      clockSkewSeconds: readEnv().C981_EPCIS_CLOCK_SKEW_SECONDS,
    });
    const recordId = await latestEpcisAttemptOf(db, result.fileDigest, result.ok ? "imported" : "refused");
    const created = result.ok ? await itemsCreatedByDocument(db, { fileDigest: result.fileDigest, siteCode: site.code, limit: CREATED_ITEMS_SHOWN }) : null;
    return data<ActionResult>({ kind: "import", result, recordId, created }, { status: result.ok ? 200 : 422 });
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) {
      return data<ActionResult>(
        {
          kind: "invalid",
          errors: {
            fileName: [`The file is larger than ${formatBytes(MAX_UPLOAD_BYTES)}; import it with the CLI (npm run c981 -- import:epcis FILE --site SITE)`],
          },
        },
        { status: 413 },
      );
    }
    // A service's refusal as JSON with its status; anything else is thrown on.
    throw toResponse(error);
  } finally {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }
}

function ImportResult({ outcome }: { outcome: Extract<ActionResult, { kind: "import" }> }) {
  const r = outcome.result;
  const recordHref = outcome.recordId === null ? null : `/imports/epcis/${outcome.recordId}`;
  if (!r.ok) {
    return (
      <section className="card" aria-labelledby="result-heading">
        <h2 id="result-heading">Refused: nothing was imported</h2>
        <RefusalNotice>
          <p>
            <strong>{r.fileName}</strong> was refused whole: it breaks the EPCIS 2.0 standard or conflicts with events already held. {formatCount(r.errorCount)}{" "}
            error(s){r.errorCount > r.errors.length ? `, the first ${formatCount(r.errors.length)} listed` : ""}, each located below. No event, trace item or
            edge was stored.
          </p>
        </RefusalNotice>
        <p className="muted small">
          SHA-256 <Digest value={r.fileDigest} />
          {recordHref ? (
            <>
              {" "}
              · <Link to={recordHref}>Record of this refusal</Link>
            </>
          ) : null}
        </p>
        <IssueTable id="refusal-errors" caption="Errors" issues={r.errors} total={r.errorCount} />
        <IssueTable id="refusal-warnings" caption="Warnings" issues={r.warnings} />
      </section>
    );
  }
  const created = outcome.created ?? { items: [], total: 0 };
  return (
    <section className="card" aria-labelledby="result-heading">
      <h2 id="result-heading">{r.unchangedDocument ? "Already imported: nothing changed" : `Imported into ${r.site}`}</h2>
      <StatusMessage>
        {r.fileName}: {formatCount(r.events)} event(s) read, {formatCount(r.itemsCreated)} trace item(s) and {formatCount(r.edgesCreated)} edge(s) created
        {r.quarantined ? `, ${formatCount(r.quarantined)} event(s) quarantined` : ""}.
      </StatusMessage>
      <p className="muted small">
        SHA-256 <Digest value={r.fileDigest} />
        {recordHref ? (
          <>
            {" "}
            · <Link to={recordHref}>{r.unchangedDocument ? "Record of its earlier import" : "Record of this import"}</Link>
          </>
        ) : null}
      </p>
      <ImportFigures
        figures={[
          { label: "Events read", value: r.events },
          { label: "Applied to the genealogy", value: r.applied },
          { label: "Trace items created", value: r.itemsCreated },
          { label: "Edges created", value: r.edgesCreated },
          { label: "Quarantined (unknown GTIN)", value: r.quarantined },
          { label: "Already held (skipped)", value: r.unchanged },
          { label: "Declared erroneous", value: r.declared + r.supersededOnArrival },
          { label: "Identifiers not placed", value: r.notPlaced },
        ]}
      />
      <h3>{r.unchangedDocument ? "Trace items its earlier import created" : "Trace items created"}</h3>
      <CreatedItems
        items={created.items}
        total={created.total}
        more={recordHref ? <Link to={recordHref}>all of them on the record of this import</Link> : <Link to="/genealogy">search the genealogy</Link>}
      />
      {r.unknownGtins.length ? (
        <>
          <h3>Quarantined GTINs</h3>
          <p>
            Events waiting for a material with GTIN{" "}
            {r.unknownGtins.map((g, i) => (
              <span key={g}>
                {i > 0 ? ", " : null}
                <QuarantinedGtin gtin={g} onScreen />
              </span>
            ))}
            : materials are created only by a change request, which releases them.
          </p>
        </>
      ) : null}
      {r.pendingCorrectiveEventIds.length ? <p>Corrective events not held yet: {r.pendingCorrectiveEventIds.join(", ")}</p> : null}
      <IssueTable id="import-warnings" caption="Warnings" issues={r.warnings} />
    </section>
  );
}

function AttemptResult({ attempt }: { attempt: EpcisImportAttempt }) {
  if (attempt.outcome === "refused") {
    return (
      <>
        <Badge tone="bad">refused</Badge> {attempt.errorCount === null ? "" : `${formatCount(attempt.errorCount)} error(s)`}
      </>
    );
  }
  const part = (n: number | null, what: string) => (n === null ? null : `${formatCount(n)} ${what}`);
  return (
    <>
      <Badge tone="good">imported</Badge>{" "}
      {[part(attempt.events, "events"), part(attempt.itemsCreated, "items"), part(attempt.quarantined, "quarantined")].filter(Boolean).join(" · ")}
    </>
  );
}

function History({ history }: { history: ReturnType<typeof useLoaderData<typeof loader>>["history"] }) {
  return (
    <>
      <DataTable id="epcis-history" caption="Import history" captionDetail={`${formatCount(history.total)} attempt(s), refused ones included, newest first`}>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">File</th>
            <th scope="col">SHA-256</th>
            <th scope="col">Site</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {history.attempts.length === 0 ? <EmptyRow colSpan={6}>No EPCIS document has been imported or refused yet.</EmptyRow> : null}
          {history.attempts.map((a) => (
            <tr key={a.id}>
              <td>
                <UtcTime value={a.at} />
              </td>
              <td>{a.actor}</td>
              <th scope="row">
                <Link to={`/imports/epcis/${a.id}`} aria-label={`${a.fileName} (${a.outcome}, record ${a.id})`}>
                  {a.fileName}
                </Link>
              </th>
              <td>
                <Digest value={a.fileDigest} />
              </td>
              <td>{a.site}</td>
              <td className="wrap">
                <AttemptResult attempt={a} />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {history.pageCount > 1 ? <PagePagination page={history.page} pageCount={history.pageCount} total={history.total} label="Import history pages" /> : null}
    </>
  );
}

export default function EpcisImport() {
  const { sites, quarantine, history } = useLoaderData<typeof loader>();
  const outcome = useActionData<typeof action>() as ActionResult | undefined;
  const busy = useNavigation().state === "submitting";
  const errors = outcome?.kind === "invalid" ? outcome.errors : {};
  return (
    <>
      <PageHeader
        title="EPCIS import"
        lead="Take in EPCIS 2.0 genealogy (JSON / JSON-LD) at one site. A document that breaks the standard is refused whole, with every error located; importing never creates materials."
      >
        <Link to="/genealogy">Genealogy</Link>
      </PageHeader>

      <section className="card" aria-labelledby="import-heading">
        <h2 id="import-heading">Import a document</h2>
        {sites.length === 0 ? (
          <p>You may not import into any site.</p>
        ) : (
          <Form method="post" encType="multipart/form-data" noValidate className="form-grid">
            <input type="hidden" name="intent" value="import" />
            <SelectInput
              label="Site"
              name="site"
              id="epcis-site"
              required
              defaultValue=""
              hint="Every trace item and edge of the document is placed at this site."
              errors={errors.site}
              options={[{ value: "", label: "Choose a site" }, ...sites.map((s) => ({ value: s.code, label: `${s.code} — ${s.name}` }))]}
            />
            <div className="field">
              <label htmlFor="epcis-file">EPCIS document</label>
              <input
                id="epcis-file"
                type="file"
                name="file"
                accept=".json,.jsonld,application/json,application/ld+json"
                required
                aria-invalid={errors.fileName?.length ? true : undefined}
                aria-describedby={["epcis-file-hint", errors.fileName?.length ? "epcis-file-error" : ""].filter(Boolean).join(" ")}
              />
              <small id="epcis-file-hint" className="hint">
                JSON or JSON-LD, up to {formatBytes(MAX_UPLOAD_BYTES)}.
              </small>
              <ErrorList id="epcis-file-error" errors={errors.fileName} />
            </div>
            <button type="submit" disabled={busy}>
              {busy ? "Importing…" : "Import"}
            </button>
          </Form>
        )}
      </section>

      {outcome?.kind === "import" ? <ImportResult outcome={outcome} /> : null}
      {outcome?.kind === "release" ? (
        <StatusMessage>
          GTIN {outcome.gtin}: {formatCount(outcome.released)} event(s) released into the genealogy, {formatCount(outcome.stillQuarantined)} still waiting for
          other materials.
        </StatusMessage>
      ) : null}

      <History history={history} />

      <section aria-labelledby="quarantine">
        <h2 id="quarantine">Quarantine</h2>
        {errors.gtin ? <ErrorList id="quarantine-error" errors={errors.gtin} /> : null}
        <DataTable
          id="quarantine-list"
          caption="Events waiting for a material with their GTIN"
          captionDetail="released automatically when a change request creates it"
        >
          <thead>
            <tr>
              <th scope="col">GTIN</th>
              <th scope="col">Events</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {quarantine.length === 0 ? <EmptyRow colSpan={3}>No events are waiting for materials.</EmptyRow> : null}
            {quarantine.map((q) => (
              <tr key={q.gtin} id={quarantineAnchor(q.gtin)}>
                <th scope="row">
                  <code>{q.gtin}</code>
                </th>
                <td>{formatCount(q.events)}</td>
                <td>
                  <Form method="post">
                    <input type="hidden" name="intent" value="release" />
                    <input type="hidden" name="gtin" value={q.gtin} />
                    {/* The name starts with the visible words (WCAG 2.5.3 Label in Name); the GTIN tells the rows apart. */}
                    <button type="submit">
                      Release if the material exists<span className="visually-hidden">: GTIN {q.gtin}</span>
                    </button>
                  </Form>
                </td>
              </tr>
            ))}
          </tbody>
        </DataTable>
      </section>
    </>
  );
}
