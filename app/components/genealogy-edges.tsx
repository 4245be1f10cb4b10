import { Link } from "@remix-run/react";
import { DataTable, EmptyRow } from "./data-table";
import { formatQuantity } from "./format";
import { UtcTime } from "./time";

export interface GenealogyEdgeView {
  id: number;
  eventRef: string;
  kind: string;
  quantity: string;
  unit: string;
  occurredAt: Date;
  workOrderNumber: string | null;
  provenanceKind: string;
  itemId: number;
  itemIdentifier: string;
  itemKind: string;
  itemStatus: string;
  itemPartNumber: string;
}

/** One direction of an item's direct genealogy, each neighbour linked to its own page. */
export function GenealogyEdges({
  id,
  caption,
  itemHeader,
  edges,
  truncated,
  withheld = 0,
  selfId,
}: {
  id: string;
  caption: string;
  itemHeader: string;
  edges: readonly GenealogyEdgeView[];
  /** The limit, when there were more edges than shown. */
  truncated: number | null;
  /** Links to items (or events) at sites the reader cannot see: counted, not shown. */
  withheld?: number;
  selfId: number;
}) {
  const shown = truncated !== null ? `first ${truncated} shown` : `${edges.length} ${edges.length === 1 ? "edge" : "edges"}`;
  return (
    <DataTable
      id={id}
      caption={caption}
      captionDetail={
        withheld > 0 ? (
          <>
            {shown} ·{" "}
            <strong className="withheld">
              {withheld} {withheld === 1 ? "link" : "links"} at sites you cannot see
            </strong>{" "}
            (not shown)
          </>
        ) : (
          shown
        )
      }
    >
      <thead>
        <tr>
          <th scope="col">{itemHeader}</th>
          <th scope="col">Material</th>
          <th scope="col">Item kind</th>
          <th scope="col">Item status</th>
          <th scope="col">Flow</th>
          <th scope="col" className="num">
            Quantity
          </th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Work order</th>
          <th scope="col">Event</th>
        </tr>
      </thead>
      <tbody>
        {edges.length === 0 ? (
          <EmptyRow colSpan={9}>{withheld > 0 ? "None at sites you can see." : "None recorded."}</EmptyRow>
        ) : null}
        {edges.map((edge) => (
          <tr key={edge.id}>
            <th scope="row">
              {edge.itemId === selfId ? (
                <>
                  <code>{edge.itemIdentifier}</code> <span className="muted">(this item)</span>
                </>
              ) : (
                <Link to={`/genealogy/${edge.itemId}`}>
                  <code>{edge.itemIdentifier}</code>
                </Link>
              )}
            </th>
            <td>
              <Link to={`/materials/${encodeURIComponent(edge.itemPartNumber)}`}>{edge.itemPartNumber}</Link>
            </td>
            <td>{edge.itemKind}</td>
            <td>{edge.itemStatus}</td>
            <td>{edge.kind}</td>
            <td className="num">
              {formatQuantity(edge.quantity)} {edge.unit}
            </td>
            <td>
              <UtcTime value={edge.occurredAt} />
            </td>
            <td>{edge.workOrderNumber ?? <span className="muted">—</span>}</td>
            <td>
              <code className="small">{edge.eventRef}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </DataTable>
  );
}
