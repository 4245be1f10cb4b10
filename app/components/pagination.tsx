import { Link, useSearchParams } from "@remix-run/react";
import { formatCount } from "./format";

function withParam(searchParams: URLSearchParams, name: string, value: string | null): string {
  const next = new URLSearchParams(searchParams);
  if (value === null) next.delete(name);
  else next.set(name, value);
  const search = next.toString();
  return search ? `?${search}` : "?";
}

/** Numbered pages (offset pagination) that keep the current filters and sort. */
export function PagePagination({ page, pageCount, total, label }: { page: number; pageCount: number; total: number; label: string }) {
  const [searchParams] = useSearchParams();
  const href = (p: number) => withParam(searchParams, "page", p === 1 ? null : String(p));
  return (
    <nav className="pagination" aria-label={label}>
      <span className="pagination-status">
        Page {formatCount(page)} of {formatCount(pageCount)} · {formatCount(total)} in all
      </span>
      <span className="pagination-links">
        {page > 1 ? <Link to={href(1)}>First</Link> : <span aria-disabled="true">First</span>}
        {page > 1 ? (
          <Link to={href(page - 1)} rel="prev">
            Previous
          </Link>
        ) : (
          <span aria-disabled="true">Previous</span>
        )}
        {page < pageCount ? (
          <Link to={href(page + 1)} rel="next">
            Next
          </Link>
        ) : (
          <span aria-disabled="true">Next</span>
        )}
        {page < pageCount ? <Link to={href(pageCount)}>Last</Link> : <span aria-disabled="true">Last</span>}
      </span>
    </nav>
  );
}

/**
 * Keyset pagination over a descending sequence: `before` names the first seq not shown.
 * `newer` null = already at the newest page; `{}` = the newest page is one step up.
 */
export function KeysetPagination({
  older,
  newer,
  param = "before",
  label,
}: {
  older: { before: number } | null;
  newer: { before?: number } | null;
  param?: string;
  label: string;
}) {
  const [searchParams] = useSearchParams();
  return (
    <nav className="pagination" aria-label={label}>
      <span className="pagination-links">
        {newer ? <Link to={withParam(searchParams, param, null)}>Newest</Link> : <span aria-disabled="true">Newest</span>}
        {newer ? (
          <Link to={withParam(searchParams, param, newer.before === undefined ? null : String(newer.before))} rel="prev">
            Newer
          </Link>
        ) : (
          <span aria-disabled="true">Newer</span>
        )}
        {older ? (
          <Link to={withParam(searchParams, param, String(older.before))} rel="next">
            Older
          </Link>
        ) : (
          <span aria-disabled="true">Older</span>
        )}
      </span>
    </nav>
  );
}
