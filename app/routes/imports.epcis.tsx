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
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { EPCIS_UPLOAD_MAX_BYTES, formatBytes } from "~/utils/body-limits";
import { importEpcisDocument, type EpcisImportResult } from "~/services/epcis-import.server";
import { releaseQuarantineNow } from "~/services/epcis-quarantine.server";
import { quarantineList } from "~/queries/epcis-quarantine.server";
import { fileSource } from "~/services/epcis-stream.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName, requireRecord } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { readEnv } from "~/utils/env.server";
import { invariantResponse, notFound, toResponse } from "~/utils/errors.server";
import { fieldErrorsFromIssues } from "~/utils/field-errors";
import { mayEverywhere, record } from "../../policies/ability";

export const meta: MetaFunction = () => [{ title: "EPCIS import · C-981" }];

/** Uploads are streamed to a temporary file, then read twice as a stream (check, then apply). */
const MAX_UPLOAD_BYTES = EPCIS_UPLOAD_MAX_BYTES;

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "TraceItem");
  const sites = signedIn.sites.filter((s) => signedIn.ability.can("create", record("TraceItem", { siteId: s.id }))).map((s) => s.code);
  const quarantine = await quarantineList(await getDb());
  return { sites, quarantine: quarantine.map((q) => ({ gtin: q.gtin, events: Number(q.events) })) };
}

type ActionResult =
  | { kind: "import"; result: EpcisImportResult }
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
    const site = signedIn.sites.find((s) => s.code === input.site.toUpperCase());
    if (!site) throw notFound();
    requireRecord(signedIn, "create", "TraceItem", { siteId: site.id });
    const result = await importEpcisDocument(db, actorName(signedIn), {
      fileName: input.fileName,
      siteCode: site.code,
      source: fileSource(filePath!),
      clockSkewSeconds: readEnv().C981_EPCIS_CLOCK_SKEW_SECONDS,
    });
    return data<ActionResult>({ kind: "import", result }, { status: result.ok ? 200 : 422 });
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

function Issues({ caption, issues }: { caption: string; issues: { eventIndex: number | null; path: string; message: string }[] }) {
  if (!issues.length) return null;
  return (
    <table className="data-table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Where (JSON path)</th>
          <th scope="col">Problem</th>
        </tr>
      </thead>
      <tbody>
        {issues.map((e, i) => (
          <tr key={i}>
            <td>{e.eventIndex ?? "header"}</td>
            <td>
              <code>{e.path || "/"}</code>
            </td>
            <td>{e.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Outcome({ outcome }: { outcome: ActionResult }) {
  if (outcome.kind === "invalid") return null;
  if (outcome.kind === "release") {
    return (
      <p role="status">
        GTIN {outcome.gtin}: {outcome.released} event(s) released into the genealogy, {outcome.stillQuarantined} still waiting for other materials.
      </p>
    );
  }
  const r = outcome.result;
  if (!r.ok) {
    return (
      <section aria-labelledby="refused">
        <h2 id="refused">Refused: nothing was stored</h2>
        <p role="alert">
          {r.fileName} (SHA-256 <code>{r.fileDigest}</code>) breaks the EPCIS 2.0 standard or conflicts with events already held: {r.errorCount} error(s)
          {r.errorCount > r.errors.length ? `, first ${r.errors.length} listed` : ""}.
        </p>
        <Issues caption="Errors" issues={r.errors} />
        <Issues caption="Warnings" issues={r.warnings} />
      </section>
    );
  }
  return (
    <section aria-labelledby="imported">
      <h2 id="imported">{r.unchangedDocument ? "Already imported: nothing changed" : "Imported"}</h2>
      <p role="status">
        {r.fileName} (SHA-256 <code>{r.fileDigest}</code>) at {r.site}
      </p>
      <dl className="facts">
        <dt>Events</dt>
        <dd>{r.events}</dd>
        <dt>Applied to the genealogy</dt>
        <dd>{r.applied}</dd>
        <dt>Quarantined (unknown GTIN)</dt>
        <dd>{r.quarantined}</dd>
        <dt>Superseded on arrival</dt>
        <dd>{r.supersededOnArrival}</dd>
        <dt>Earlier events declared erroneous</dt>
        <dd>{r.declared}</dd>
        <dt>Already held</dt>
        <dd>{r.unchanged}</dd>
        <dt>Trace items / edges created</dt>
        <dd>
          {r.itemsCreated} / {r.edgesCreated}
        </dd>
        <dt>Identifiers kept, not placed</dt>
        <dd>{r.notPlaced}</dd>
      </dl>
      {r.unknownGtins.length ? <p>Waiting for materials with GTIN {r.unknownGtins.join(", ")} (created only by a change request).</p> : null}
      {r.pendingCorrectiveEventIds.length ? <p>Corrective events not held yet: {r.pendingCorrectiveEventIds.join(", ")}</p> : null}
      <Issues caption="Warnings" issues={r.warnings} />
    </section>
  );
}

export default function EpcisImport() {
  const { sites, quarantine } = useLoaderData<typeof loader>();
  const outcome = useActionData<typeof action>() as ActionResult | undefined;
  const busy = useNavigation().state === "submitting";
  const errors = outcome?.kind === "invalid" ? outcome.errors : {};
  return (
    <>
      <PageHeader
        title="EPCIS import"
        lead="Take in EPCIS 2.0 genealogy (JSON / JSON-LD). A document that breaks the standard is refused whole, with every error located; importing never creates materials."
      />
      <Form method="post" encType="multipart/form-data" className="stack">
        <input type="hidden" name="intent" value="import" />
        <label>
          Site
          <select name="site" required defaultValue={sites[0]}>
            {sites.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        {errors.site ? <p className="field-error">{errors.site.join("; ")}</p> : null}
        <label>
          EPCIS document
          <input type="file" name="file" accept=".json,.jsonld,application/json,application/ld+json" required />
        </label>
        {errors.fileName ? <p className="field-error">{errors.fileName.join("; ")}</p> : null}
        <button type="submit" disabled={busy}>
          {busy ? "Importing…" : "Import"}
        </button>
      </Form>
      {outcome ? <Outcome outcome={outcome} /> : null}
      <section aria-labelledby="quarantine">
        <h2 id="quarantine">Quarantine</h2>
        {quarantine.length === 0 ? (
          <p>No events are waiting for materials.</p>
        ) : (
          <table className="data-table">
            <caption>Events waiting for a material with their GTIN (released automatically when a change request creates it)</caption>
            <thead>
              <tr>
                <th scope="col">GTIN</th>
                <th scope="col">Events</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {quarantine.map((q) => (
                <tr key={q.gtin}>
                  <td>{q.gtin}</td>
                  <td>{q.events}</td>
                  <td>
                    <Form method="post">
                      <input type="hidden" name="intent" value="release" />
                      <input type="hidden" name="gtin" value={q.gtin} />
                      <button type="submit">Release if the material exists</button>
                    </Form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
