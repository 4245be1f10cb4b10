import { isRouteErrorResponse, Link } from "@remix-run/react";
import { ROLE_LABELS, type Role } from "../../policies/ability";
import type { Needed } from "../../policies/refusal";

interface Explained {
  status: number;
  title: string;
  message: string;
  /** What a refused permission needed (app/utils/errors.server.ts forbidden). */
  needed?: Needed;
}

/** A refusal's JSON body: `{ error: "forbidden", message, needed }`. */
function refusalBody(data: unknown): { message: string; needed: Needed } | null {
  if (typeof data !== "object" || data === null) return null;
  const { message, needed } = data as { message?: unknown; needed?: unknown };
  if (typeof message !== "string" || typeof needed !== "object" || needed === null) return null;
  const n = needed as Partial<Needed>;
  if (!Array.isArray(n.roles) || !Array.isArray(n.sites) || typeof n.action !== "string" || typeof n.subject !== "string") return null;
  return { message, needed: needed as Needed };
}

function explain(error: unknown): Explained {
  if (isRouteErrorResponse(error)) {
    // A loader's own message names what was asked for; the router's internal ones ("No route
    // matches URL …") are for developers, not for the page.
    const internal = (error as { internal?: boolean }).internal === true;
    // The guards' bare "Not found" (app/utils/auth.server.ts requireRecord) says no more than the title.
    const detail =
      !internal && typeof error.data === "string" && error.data.length > 0 && error.data.length < 300 && error.data !== "Not found" ? error.data : null;
    if (error.status === 404) {
      return { status: 404, title: "Not found", message: detail ?? "There is nothing at this address." };
    }
    const refusal = error.status === 403 ? refusalBody(error.data) : null;
    if (refusal) return { status: 403, title: "Not allowed", message: refusal.message, needed: refusal.needed };
    if (error.status === 403) {
      return { status: 403, title: "Not allowed", message: detail ?? "You do not have permission to see this page." };
    }
    if (error.status >= 400 && error.status < 500) {
      return { status: error.status, title: error.statusText || "Request refused", message: detail ?? "The request could not be handled." };
    }
    return { status: error.status, title: "Something went wrong", message: "The server could not complete the request." };
  }
  return { status: 500, title: "Something went wrong", message: "The server could not complete the request." };
}

/**
 * 404 / 403 / 500 pages. Internal error details are never rendered (they may name tables or
 * data); in development the console and terminal have the stack.
 */
export function ErrorPage({ error }: { error: unknown }) {
  const { status, title, message, needed } = explain(error);
  return (
    <section className="error-page" aria-labelledby="error-title">
      <p className="error-status">Error {status}</p>
      <h1 id="error-title">{title}</h1>
      <p>{message}</p>
      {needed && needed.roles.length > 0 ? (
        <dl className="properties error-needed" aria-label="What this needs">
          <div>
            <dt>{needed.roles.length === 1 ? "Role" : "Any of the roles"}</dt>
            <dd>{needed.roles.map((r) => ROLE_LABELS[r as Role] ?? r).join(", ")}</dd>
          </div>
          <div>
            <dt>{needed.sites.length === 1 ? "Site" : "Sites"}</dt>
            <dd>{needed.allSitesOnly ? "a grant for all sites" : needed.sites.length > 0 ? needed.sites.join(", ") : "any site"}</dd>
          </div>
          <div>
            <dt>Permission</dt>
            <dd>
              <code>
                {needed.action} {needed.subject}
              </code>
            </dd>
          </div>
        </dl>
      ) : null}
      {needed && needed.roles.length > 0 ? <p>An administrator grants roles, on the Users page.</p> : null}
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </section>
  );
}
