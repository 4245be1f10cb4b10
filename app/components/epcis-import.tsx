import type { ReactNode } from "react";
import { Link } from "@remix-run/react";
import { DataTable } from "./data-table";
import { formatCount } from "./format";

/** A located problem of an EPCIS document (app/domain/epcis/validate.ts EpcisIssue, as serialized). */
export interface IssueView {
  eventIndex: number | null;
  path: string;
  message: string;
  location?: { byte: number; line: number; column: number };
}

/** The quarantine list's row of a GTIN on the import screen. */
export function quarantineAnchor(gtin: string): string {
  return `quarantine-${gtin}`;
}

/** A GTIN whose events wait in quarantine, linked to its row in the quarantine list. */
export function QuarantinedGtin({ gtin, onScreen = false }: { gtin: string; onScreen?: boolean }) {
  const href = `${onScreen ? "" : "/imports/epcis"}#${quarantineAnchor(gtin)}`;
  return (
    <a href={href}>
      <code>{gtin}</code>
    </a>
  );
}

/** Where a problem is: the event, the JSON pointer and, for a problem in the bytes, line and column. */
export function IssueTable({ id, caption, issues, total }: { id: string; caption: string; issues: readonly IssueView[]; total?: number | null }) {
  if (!issues.length) return null;
  const detail = total != null && total > issues.length ? `first ${formatCount(issues.length)} of ${formatCount(total)}` : `${formatCount(issues.length)}`;
  return (
    <DataTable id={id} caption={caption} captionDetail={detail}>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Where (JSON pointer)</th>
          <th scope="col">Line, column</th>
          <th scope="col">Problem</th>
        </tr>
      </thead>
      <tbody>
        {issues.map((e, i) => (
          <tr key={i}>
            <td>{e.eventIndex === null ? "header" : `event ${e.eventIndex}`}</td>
            <td>
              <code>{e.path || "/"}</code>
            </td>
            <td>{e.location ? `line ${e.location.line}, column ${e.location.column}` : <span className="muted">—</span>}</td>
            <td className="wrap">{e.message}</td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}

/** A refusal, styled and announced as an error: nothing of the document was stored. */
export function RefusalNotice({ children }: { children: ReactNode }) {
  return (
    <div className="form-error" role="alert">
      {children}
    </div>
  );
}

/** Figures of an import as a row of stat tiles. */
export function ImportFigures({ figures }: { figures: { label: string; value: number | null; detail?: ReactNode }[] }) {
  return (
    <dl className="stat-grid">
      {figures.map((f) => (
        <div className="stat" key={f.label}>
          <dt>{f.label}</dt>
          <dd>{f.value === null ? "—" : formatCount(f.value)}</dd>
          {f.detail ? <dd className="muted small stat-detail">{f.detail}</dd> : null}
        </div>
      ))}
    </dl>
  );
}

/** Created items, each linked to its genealogy page, with how many more there are. */
export function CreatedItems({
  items,
  total,
  more,
}: {
  items: readonly { id: number; kind: string; identifier: string; partNumber: string; siteCode: string }[];
  total: number;
  more?: ReactNode;
}) {
  if (total === 0) return <p className="muted">No trace items were created.</p>;
  return (
    <>
      <ul className="created-items">
        {items.map((item) => (
          <li key={item.id}>
            <Link to={`/genealogy/${item.id}`}>
              <code>{item.identifier}</code>
            </Link>{" "}
            <span className="muted small">
              {item.kind} of {item.partNumber} at {item.siteCode}
            </span>
          </li>
        ))}
      </ul>
      {total > items.length ? (
        <p>
          … and {formatCount(total - items.length)} more{more ? <>: {more}</> : null}.
        </p>
      ) : null}
    </>
  );
}
