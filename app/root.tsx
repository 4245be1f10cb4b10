import type { ReactNode } from "react";
import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteError } from "@remix-run/react";
import { AppShell } from "~/components/app-shell";
import type { RootData } from "~/components/ability";
import { ErrorPage } from "~/components/error-page";
import { useNonce } from "~/components/nonce";
import appStylesHref from "~/styles/app.css?url";
import { z } from "zod";

// zod 4 probes for `new Function` (eval) to speed up parsing; the Content-Security-Policy forbids
// eval, so the probe would be a CSP violation on every page. Parse without it.
z.config({ jitless: true });
import { getSignedIn } from "~/services/signed-in.server";
import { timeZoneOf } from "~/utils/time-zone.server";
import { TIME_ZONE_COOKIE } from "~/domain/time-zone";
import { unreadCount } from "~/queries/notifications.server";
import { getDb } from "~/utils/db.server";

/**
 * The browser tells the server its time zone in a cookie (epic-stack's "client hints"), so the
 * server renders times in it and hydration sees the same text (ADR 031). No reload: the page that
 * sets it first still shows UTC; the next request (the sign-in itself) carries it.
 */
const TIME_ZONE_SCRIPT = `try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;if(z&&document.cookie.indexOf("${TIME_ZONE_COOKIE}="+encodeURIComponent(z))<0)document.cookie="${TIME_ZONE_COOKIE}="+encodeURIComponent(z)+"; path=/; max-age=31536000; SameSite=Lax"}catch(e){}`;

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: appStylesHref },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export const meta: MetaFunction = ({ error }) => [{ title: error ? "Error · C-981" : "C-981" }];

/** Who is signed in and what they may do — for the navigation only; routes check on the server. */
export async function loader({ request }: LoaderFunctionArgs): Promise<RootData> {
  const signedIn = await getSignedIn(request);
  const timeZone = timeZoneOf(request);
  if (!signedIn) return { user: null, abilityRules: [], timeZone };
  const codeById = new Map(signedIn.sites.map((s) => [s.id, s.code]));
  return {
    user: {
      username: signedIn.user.username,
      displayName: signedIn.user.displayName,
      grants: signedIn.grants.map((g) => ({ role: g.role, site: g.siteId === null ? null : (codeById.get(g.siteId) ?? null) })),
      passwordChange: signedIn.user.passwordChange,
      unread: await unreadCount(await getDb(), signedIn.user.id),
    },
    abilityRules: signedIn.ability.rules,
    timeZone,
  };
}

/** The document and app shell, shared by every page and by the error pages. */
export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a fixed script with the CSP nonce, no user input */}
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: TIME_ZONE_SCRIPT }} />
      </head>
      <body>
        <AppShell>{children}</AppShell>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  return <ErrorPage error={useRouteError()} />;
}
