import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { DataTable, EmptyRow } from "~/components/data-table";
import { TextField } from "~/components/filter-fields";
import { formatQuantity } from "~/components/format";
import { PagePagination } from "~/components/pagination";
import { QualityEventBadges, type QualityEventMarkView } from "~/components/quality-event-markers";
import { UtcTime } from "~/components/time";
import type { SearchTerm } from "~/domain/trace-item-search";
import { qualityEventReach, searchTraceItems } from "~/queries/genealogy.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

/** A bad or oversized query searches for nothing rather than failing. */
const searchSchema = z.object({
  q: z
    .string()
    .trim()
    .max(200)
    .refine((q) => !q.includes("\u0000"))
    .catch(""),
  /** The page of identifiers that start with the text (a page past the last shows the last). */
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

export const meta: MetaFunction = () => [{ title: "Genealogy · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "TraceItem");
  const { q, page } = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  if (!q) return { q, result: null };
  const db = await getDb();
  const sites = siteFilter(signedIn);
  const [result, marks] = await Promise.all([searchTraceItems(db, { q, page, sites }), qualityEventReach(db, { sites })]);
  // Each match with the open quality events that reference or reach it (ADR 037).
  const marked = <T extends { id: number }>(rows: T[]) => rows.map((r) => ({ ...r, qualityEvents: marks.onItem(r.id) }));
  return { q, result: { ...result, exact: marked(result.exact), prefix: marked(result.prefix) } };
}

interface MatchView {
  id: number;
  identifier: string;
  kind: string;
  status: string;
  quantity: string;
  unit: string;
  createdAt: Date | string;
  partNumber: string;
  materialDescription: string;
  siteCode: string;
  qualityEvents: QualityEventMarkView[];
}

function Matches({
  id,
  caption,
  rows,
  more,
  limit,
  withheld,
  withheldLimit,
  empty,
  paging,
}: {
  id: string;
  caption: string;
  rows: readonly MatchView[];
  more: boolean;
  limit: number;
  withheld: number;
  withheldLimit: number;
  empty: string;
  /** Set for a paged list: its caption counts them all. */
  paging?: { page: number; pageCount: number; total: number };
}) {
  return (
    <DataTable
      id={id}
      caption={caption}
      captionDetail={
        <>
          {paging
            ? `${paging.total} ${paging.total === 1 ? "item" : "items"}${paging.pageCount > 1 ? `, page ${paging.page} of ${paging.pageCount}` : ""}`
            : more
              ? `first ${limit} shown`
              : `${rows.length} ${rows.length === 1 ? "item" : "items"}`}
          {withheld > 0 ? (
            <>
              {" "}
              ·{" "}
              <strong className="withheld">
                {withheld >= withheldLimit ? `${withheld} or more` : withheld} {withheld === 1 ? "match" : "matches"} at sites you cannot see
              </strong>{" "}
              (not shown)
            </>
          ) : null}
        </>
      }
    >
      <thead>
        <tr>
          <th scope="col">Identifier</th>
          <th scope="col">Kind</th>
          <th scope="col">Material</th>
          <th scope="col">Description</th>
          <th scope="col">Site</th>
          <th scope="col" className="num">
            Quantity
          </th>
          <th scope="col">Status</th>
          <th scope="col">Created or first event</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? <EmptyRow colSpan={8}>{empty}</EmptyRow> : null}
        {rows.map((r) => (
          <tr key={r.id}>
            <th scope="row">
              <Link to={`/genealogy/${r.id}`} aria-label={`${r.identifier} (${r.kind} of ${r.partNumber} at ${r.siteCode})`}>
                <code>{r.identifier}</code>
              </Link>{" "}
              <QualityEventBadges events={r.qualityEvents} />
            </th>
            <td>{r.kind}</td>
            <td>
              <Link to={`/materials/${encodeURIComponent(r.partNumber)}`}>{r.partNumber}</Link>
            </td>
            <td className="wrap">{r.materialDescription}</td>
            <td>{r.siteCode}</td>
            <td className="num">
              {formatQuantity(r.quantity)} {r.unit}
            </td>
            <td>{r.status}</td>
            <td>
              <UtcTime value={r.createdAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

const FORM_NAMES = { urn: "EPC URN", "digital-link": "GS1 Digital Link", "element-string": "GS1 element string" } as const;

/** How a GS1-form term was read: the keys it matched by, or why it was matched as an identifier only. */
function SearchTermNote({ term }: { term: SearchTerm }) {
  if (term.form === "identifier") return null;
  if (term.problem !== null || term.keys.length === 0) {
    return (
      <p className="section-note" role="status">
        Not read as a {FORM_NAMES[term.form]}: {term.problem}. Matched as an identifier only.
      </p>
    );
  }
  return (
    <p className="section-note" role="status">
      Read as a {FORM_NAMES[term.form]}:{" "}
      {term.keys.map((k, i) => (
        <span key={`${k.level}|${k.identifier}`}>
          {i > 0 ? "; " : null}
          {k.level === "container" ? (
            <>
              container SSCC <code>{k.identifier}</code>
            </>
          ) : (
            <>
              GTIN <code>{k.gtin}</code>, {k.level === "class" ? "class" : k.level} <code>{k.identifier}</code>
            </>
          )}
        </span>
      ))}
      .
    </p>
  );
}

export default function GenealogySearch() {
  const { q, result } = useLoaderData<typeof loader>();
  const location = useLocation();
  return (
    <>
      <PageHeader
        title="Genealogy"
        lead="Find a serial, lot or container by its identifier, then trace it backward (what went into it) and forward (where it went) through every tier."
      />
      <Form method="get" className="filters" key={location.search} role="search" aria-label="Find a trace item">
        <TextField
          name="q"
          label="Identifier"
          defaultValue={q}
          maxLength={200}
          hint="Exact identifier, EPC URN, GS1 Digital Link or element string such as (01)…(21)…; from 3 characters, identifiers that start with it are listed too"
        />
        <div className="filter-actions">
          <button type="submit">Search</button>
          {q ? <Link to="/genealogy">Clear</Link> : null}
        </div>
      </Form>
      {result ? (
        <>
          <SearchTermNote term={result.term} />
          <Matches
            id="exact-matches"
            caption={`Items identified as ${q}`}
            rows={result.exact}
            more={result.moreExact}
            limit={result.exactLimit}
            withheld={result.exactWithheld}
            withheldLimit={result.withheldCountLimit}
            empty={result.exactWithheld > 0 ? "None at sites you can see." : "No item has this identifier."}
          />
          {[...q].length < result.prefixMinLength ? null : (
            <>
              <Matches
                id="prefix-matches"
                caption={`Identifiers starting with ${q}`}
                rows={result.prefix}
                more={result.morePrefix}
                limit={result.prefixLimit}
                withheld={0}
                withheldLimit={result.withheldCountLimit}
                empty="None at sites you can see."
                paging={{ page: result.prefixPage, pageCount: result.prefixPageCount, total: result.prefixTotal }}
              />
              {result.prefixPageCount > 1 ? (
                <PagePagination
                  page={result.prefixPage}
                  pageCount={result.prefixPageCount}
                  total={result.prefixTotal}
                  label="Pages of identifiers starting with the text"
                />
              ) : null}
            </>
          )}
        </>
      ) : (
        <p className="section-note">
          Enter an identifier — a serial number, a lot or batch number, or a container (SSCC or tote) code — or an EPC URN, a GS1 Digital Link or an element
          string such as (01)…(21)….
        </p>
      )}
    </>
  );
}
