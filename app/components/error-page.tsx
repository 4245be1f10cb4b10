import { isRouteErrorResponse, Link } from "@remix-run/react";

interface Explained {
  status: number;
  title: string;
  message: string;
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
  const { status, title, message } = explain(error);
  return (
    <section className="error-page" aria-labelledby="error-title">
      <p className="error-status">Error {status}</p>
      <h1 id="error-title">{title}</h1>
      <p>{message}</p>
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </section>
  );
}
