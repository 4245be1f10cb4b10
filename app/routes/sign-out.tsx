import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { signOut } from "~/services/sessions.server";
import { clearSessionCookie, sessionIdFrom } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

export async function action({ request }: ActionFunctionArgs) {
  const sessionId = sessionIdFrom(request);
  if (sessionId) await signOut(await getDb(), sessionId);
  throw redirect("/sign-in", { headers: { "Set-Cookie": clearSessionCookie(request) } });
}

export async function loader() {
  throw redirect("/");
}
