/**
 * Any URL no other route matches: a plain 404 for the root error boundary, instead of the
 * router's internal "No route matches" error (which the server would log with a stack).
 */
export async function loader() {
  throw new Response(null, { status: 404, statusText: "Not Found" });
}

export default function NotFound() {
  return null;
}
