import type { ReactNode } from "react";
import { Link, useSearchParams } from "@remix-run/react";

/**
 * A captioned table in a horizontally scrollable region (keyboard-focusable, so wide tables can
 * be scrolled without a mouse). Rows and header cells are written by the caller.
 */
export function DataTable({ id, caption, captionDetail, children }: { id: string; caption: ReactNode; captionDetail?: ReactNode; children: ReactNode }) {
  const captionId = `${id}-caption`;
  return (
    <section className="table-scroll" aria-labelledby={captionId} tabIndex={0}>
      <table className="data-table" id={id}>
        <caption id={captionId}>
          {caption}
          {captionDetail ? <span className="caption-detail"> {captionDetail}</span> : null}
        </caption>
        {children}
      </table>
    </section>
  );
}

/** A row saying there is nothing to show, spanning the table. */
export function EmptyRow({ colSpan, children = "Nothing to show." }: { colSpan: number; children?: ReactNode }) {
  return (
    <tr>
      <td colSpan={colSpan} className="empty">
        {children}
      </td>
    </tr>
  );
}

/**
 * A column header that sorts the server-side query: a link that keeps the other search params,
 * toggles the direction, and goes back to page 1. `aria-sort` tells screen readers the order.
 */
export function SortHeader({
  label,
  sortKey,
  current,
  dir,
  sortParam = "sort",
  dirParam = "dir",
}: {
  label: string;
  sortKey: string;
  current: string;
  dir: "asc" | "desc";
  sortParam?: string;
  dirParam?: string;
}) {
  const [searchParams] = useSearchParams();
  const active = current === sortKey;
  const next = new URLSearchParams(searchParams);
  next.set(sortParam, sortKey);
  next.set(dirParam, active && dir === "asc" ? "desc" : "asc");
  next.delete("page");
  return (
    <th scope="col" aria-sort={active ? (dir === "asc" ? "ascending" : "descending") : undefined}>
      <Link to={{ search: `?${next}` }} className="sort-link">
        {label}
        <span aria-hidden="true" className="sort-indicator">
          {active ? (dir === "asc" ? " ▲" : " ▼") : ""}
        </span>
        {active ? null : <span className="visually-hidden"> (sort)</span>}
      </Link>
    </th>
  );
}
