import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { KeyId } from "~/components/runtime-status";
import { UtcTime, UtcTimeOrOpen } from "~/components/time";
import { signingKeyOverview } from "~/queries/keys.server";
import { requirePermission } from "~/services/signed-in.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "Signing keys · C-981" }];

/** Served by server/main.ts ahead of Remix: a document link, not a route of this app. */
const JWKS_PATH = "/.well-known/jwks.json";

export async function loader({ request }: LoaderFunctionArgs) {
  await requirePermission(request, "read", "User");
  return signingKeyOverview(await getDb());
}

export default function Keys() {
  const { keys, activeCount } = useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader title="Signing keys" lead="Ed25519 keys that sign every rule-set version. Runtimes verify with the public keys and pin the ones they trust.">
        <a href={JWKS_PATH}>Public keys (JWKS)</a>
        <Link to="/runtime-clients">Runtime clients</Link>
      </PageHeader>

      <section aria-labelledby="key-operations-heading" className="card">
        <h2 id="key-operations-heading">Rotating and retiring</h2>
        <p>
          Keys are rotated and retired from the command line only, on a host holding the key directory: <code>npm run c981 -- keys:rotate</code> adds a key and
          renews every site&apos;s rule set signed by all active keys; <code>npm run c981 -- keys:retire &lt;kid&gt;</code> takes a key out of the{" "}
          <a href={JWKS_PATH}>JWKS</a> and renews every site signed by the remaining keys.
        </p>
        <p className="muted small">
          <code>keys:retire</code> refuses while a runtime&apos;s last report trusts no other active key (the warnings below), and always refuses the last
          active key. Private keys never enter the database.
        </p>
      </section>

      <DataTable id="signing-keys" caption="Keys" captionDetail={`${activeCount} active, ${keys.length - activeCount} retired; kid = RFC 7638 thumbprint`}>
        <thead>
          <tr>
            <th scope="col">Key id (kid)</th>
            <th scope="col">State</th>
            <th scope="col">Created</th>
            <th scope="col">Retired</th>
            <th scope="col">Trusted by (last reports)</th>
            <th scope="col">Retiring it would strand</th>
          </tr>
        </thead>
        <tbody>
          {keys.length === 0 ? <EmptyRow colSpan={6}>No signing keys: the server creates one on first start.</EmptyRow> : null}
          {keys.map((key) => (
            <tr key={key.kid} className={key.state === "retired" ? "row-inactive" : undefined}>
              <th scope="row">
                <KeyId kid={key.kid} full />
              </th>
              <td>{key.state === "active" ? <Badge tone="good">active</Badge> : <Badge tone="neutral">retired</Badge>}</td>
              <td>
                <UtcTime value={key.createdAt} />
              </td>
              <td>
                <UtcTimeOrOpen value={key.retiredAt} open="—" />
              </td>
              <td className="wrap">{key.trustedBy.length ? key.trustedBy.join(", ") : <span className="muted">no runtime</span>}</td>
              <td className="wrap">
                <StrandWarning kid={key.kid} state={key.state} stranded={key.stranded} onlyActive={activeCount === 1} />
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
    </>
  );
}

function StrandWarning({
  kid,
  state,
  stranded,
  onlyActive,
}: {
  kid: string;
  state: "active" | "retired";
  stranded: readonly { name: string; revoked: boolean }[];
  onlyActive: boolean;
}) {
  if (state === "retired") return <span className="muted">—</span>;
  return (
    <>
      {stranded.length > 0 ? (
        <div className="notice notice-warn key-warning" role="note" aria-label={`Warning for key ${kid}`}>
          <p>
            <strong>
              Retiring this key would strand {stranded.length} runtime {stranded.length === 1 ? "client" : "clients"}
            </strong>{" "}
            that trust no other active key:
          </p>
          <ul>
            {stranded.map((c) => (
              <li key={c.name}>
                {c.name}
                {c.revoked ? <span className="small"> (revoked; still counted by keys:retire)</span> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <span className="muted">no runtime</span>
      )}
      {onlyActive ? <p className="muted small key-note">The only active key: it cannot be retired before keys:rotate adds another.</p> : null}
    </>
  );
}
