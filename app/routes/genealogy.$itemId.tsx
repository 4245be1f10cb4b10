import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { Digest } from "~/components/digest";
import { formatQuantity } from "~/components/format";
import { GenealogyEdges } from "~/components/genealogy-edges";
import { UtcTime } from "~/components/time";
import { traceItemGenealogy, traceItemSite } from "~/queries/screens.server";
import { requirePermission, requireRecord, siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

const paramsSchema = z.object({ itemId: z.string().regex(/^[1-9][0-9]{0,14}$/).transform(Number) });

/** The very answer requireRecord gives for another site's item: the two cannot be told apart. */
const notFound = () => new Response("Not found", { status: 404, statusText: "Not Found" });

export async function loader({ request, params }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "read", "TraceItem");
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw notFound();
  const db = await getDb();
  const found = await traceItemSite(db, { itemId: parsed.data.itemId });
  if (!found) throw notFound();
  // The record-level check comes before the item is read; its links are then scoped in the query.
  requireRecord(signedIn, "read", "TraceItem", { siteId: found.siteId });
  const genealogy = await traceItemGenealogy(db, { itemId: parsed.data.itemId, sites: siteFilter(signedIn) });
  if (!genealogy) throw notFound();
  return genealogy;
}

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.item.identifier} · Genealogy · C-981` : "Trace item not found · C-981" },
];

export default function Genealogy() {
  const { item, inputs, outputs, moreInputs, moreOutputs, inputsWithheld, outputsWithheld, edgeLimit } =
    useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader
        title={
          <>
            <span className="muted">{item.kind}</span> <code>{item.identifier}</code>
          </>
        }
        lead={
          <>
            <Link to={`/materials/${encodeURIComponent(item.partNumber)}`}>{item.partNumber}</Link> —{" "}
            {item.materialDescription}
          </>
        }
      />
      <section aria-labelledby="item-heading" className="card">
        <h2 id="item-heading">Trace item</h2>
        <dl className="properties">
          <div>
            <dt>Identifier</dt>
            <dd>
              <code>{item.identifier}</code>
            </dd>
          </div>
          <div>
            <dt>Kind</dt>
            <dd>{item.kind}</dd>
          </div>
          <div>
            <dt>Material</dt>
            <dd>
              <Link to={`/materials/${encodeURIComponent(item.partNumber)}`}>{item.partNumber}</Link>
            </dd>
          </div>
          <div>
            <dt>Site</dt>
            <dd>{item.siteCode}</dd>
          </div>
          <div>
            <dt>Quantity</dt>
            <dd>
              {formatQuantity(item.quantity)} {item.unit}
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <Badge tone={item.status === "scrapped" ? "bad" : "neutral"}>{item.status}</Badge>
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <UtcTime value={item.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Provenance</dt>
            <dd>{item.provenanceKind}</dd>
          </div>
          {item.provenanceFileDigest ? (
            <div className="wide">
              <dt>Source file digest</dt>
              <dd>
                <Digest value={item.provenanceFileDigest} full />
              </dd>
            </div>
          ) : null}
          {item.provenanceEventId ? (
            <div className="wide">
              <dt>Source event id</dt>
              <dd>
                <code>{item.provenanceEventId}</code>
              </dd>
            </div>
          ) : null}
        </dl>
      </section>

      <GenealogyEdges
        id="inputs"
        caption="Inputs: what went into this item"
        itemHeader="Input item"
        edges={inputs}
        truncated={moreInputs ? edgeLimit : null}
        withheld={inputsWithheld}
        selfId={item.id}
      />
      <GenealogyEdges
        id="outputs"
        caption="Outputs: what this item went into"
        itemHeader="Output item"
        edges={outputs}
        truncated={moreOutputs ? edgeLimit : null}
        withheld={outputsWithheld}
        selfId={item.id}
      />
    </>
  );
}
