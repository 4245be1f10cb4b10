import { useEffect, useRef, type KeyboardEvent, type ReactNode } from "react";
import { Form, Link, NavLink, useLocation } from "@remix-run/react";
import type { Action, SubjectType } from "../../policies/ability";
import { ROLE_LABELS, type Role } from "../../policies/ability";
import { useAbility, useSignedInUser } from "./ability";

interface NavigationEntry {
  to: string;
  label: string;
  end: boolean;
  needs: [Action, SubjectType];
}

/**
 * Each entry shows only to users whose ability allows its permission (the server checks again).
 */
const NAVIGATION: NavigationEntry[] = [
  { to: "/", label: "Dashboard", end: true, needs: ["read", "Material"] },
  { to: "/materials", label: "Materials", end: false, needs: ["read", "Material"] },
  { to: "/sites", label: "Sites", end: false, needs: ["read", "Site"] },
  { to: "/label-templates", label: "Label templates", end: false, needs: ["read", "Site"] },
  { to: "/rule-sets", label: "Rule sets", end: false, needs: ["read", "RuleSetVersion"] },
  { to: "/genealogy", label: "Genealogy", end: false, needs: ["read", "TraceItem"] },
  { to: "/imports/epcis", label: "EPCIS import", end: false, needs: ["create", "TraceItem"] },
  { to: "/change-requests", label: "Change requests", end: false, needs: ["read", "ChangeRequest"] },
  { to: "/quality-events", label: "Quality", end: false, needs: ["read", "QualityEvent"] },
  { to: "/releases", label: "Releases", end: false, needs: ["release", "ChangeRequest"] },
  { to: "/reconciliation", label: "Reconciliation", end: false, needs: ["read", "ExternalMaster"] },
  { to: "/traceability", label: "Traceability", end: false, needs: ["read", "RuleSetVersion"] },
  { to: "/external-masters", label: "ERP / PLM", end: false, needs: ["read", "ExternalMaster"] },
];

/**
 * Administration and oversight, grouped under one menu so the primary navigation stays on one
 * line at 1366 px for every role (an administrator sees all of them).
 */
const ADMINISTRATION: NavigationEntry[] = [
  { to: "/audit", label: "Audit trail", end: false, needs: ["read", "AuditTrail"] },
  { to: "/users", label: "Users", end: false, needs: ["read", "User"] },
  { to: "/runtime-clients", label: "Runtime clients", end: false, needs: ["read", "User"] },
  { to: "/keys", label: "Keys", end: false, needs: ["read", "User"] },
];

const isCurrent = (pathname: string, entry: NavigationEntry) =>
  entry.end ? pathname === entry.to : pathname === entry.to || pathname.startsWith(`${entry.to}/`);

/**
 * A disclosure (<details>): opens with Enter or Space on its summary and works without
 * JavaScript; Escape closes it and returns focus to the summary. It closes on navigation (it is
 * keyed by the path), and its summary shows as current when one of its pages is.
 */
function NavigationMenu({ label, entries }: { label: string; entries: NavigationEntry[] }) {
  const { pathname } = useLocation();
  const ref = useRef<HTMLDetailsElement>(null);
  const current = entries.some((entry) => isCurrent(pathname, entry));
  // A press anywhere outside closes it, as a menu does (without JavaScript its summary does).
  useEffect(() => {
    const close = (event: PointerEvent) => {
      if (ref.current?.open && !ref.current.contains(event.target as Node)) ref.current.open = false;
    };
    document.addEventListener("pointerdown", close);
    return () => document.removeEventListener("pointerdown", close);
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLDetailsElement>) => {
    if (event.key !== "Escape" || !ref.current?.open) return;
    ref.current.open = false;
    ref.current.querySelector("summary")?.focus();
  };
  return (
    <details className="nav-menu" key={pathname} ref={ref} onKeyDown={onKeyDown}>
      <summary className={current ? "current" : undefined}>{label}</summary>
      <ul>
        {entries.map((item) => (
          <li key={item.to}>
            <NavLink to={item.to} end={item.end} prefetch="intent">
              {item.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </details>
  );
}

function UserMenu() {
  const user = useSignedInUser();
  if (!user) return null;
  const roles = user.grants.map((g) => `${ROLE_LABELS[g.role as Role] ?? g.role}${g.site ? ` (${g.site})` : ""}`).join(", ");
  return (
    <div className="user-menu">
      <span>
        <strong>{user.displayName}</strong> <span className="muted">{roles}</span>
      </span>
      <Link to="/inbox" className="inbox-link" aria-label={`Inbox, ${user.unread} unread`}>
        Inbox{" "}
        {user.unread > 0 ? (
          <span className="inbox-count" aria-hidden="true">
            {user.unread}
          </span>
        ) : null}
      </Link>
      <Link to="/account/password">Change password</Link>
      <Form method="post" action="/sign-out">
        <button type="submit" className="link-button">
          Sign out
        </button>
      </Form>
    </div>
  );
}

/** The frame around every page: skip link, top bar with the primary navigation, main region. */
export function AppShell({ children }: { children: ReactNode }) {
  const ability = useAbility();
  const user = useSignedInUser();
  const allowed = (item: NavigationEntry) => ability.can(item.needs[0], item.needs[1]);
  // A single allowed entry (a reviewer's audit trail) is a link of its own, not a menu of one.
  const administration = ADMINISTRATION.filter(allowed);
  const navigation = [...NAVIGATION.filter(allowed), ...(administration.length === 1 ? administration : [])];
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <Link to="/" className="brand">
          C-981
        </Link>
        <span className="brand-tagline">Material tracking governance</span>
        {user ? (
          <nav aria-label="Primary" className="primary-nav">
            <ul>
              {navigation.map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to} end={item.end} prefetch="intent">
                    {item.label}
                  </NavLink>
                </li>
              ))}
              {administration.length > 1 ? (
                <li>
                  <NavigationMenu label="Administration" entries={administration} />
                </li>
              ) : null}
            </ul>
          </nav>
        ) : null}
        <UserMenu />
      </header>
      <main id="main" tabIndex={-1} className="page">
        {user?.passwordChange ? (
          <p className="notice notice-warn password-change-due">
            {user.passwordChange === "expired" ? "Your password is older than the maximum age." : "Your password was set by an administrator."} You cannot sign
            anything until you <Link to="/account/password">change your password</Link>, nor administer, draft or import: until then you can browse.
          </p>
        ) : null}
        {children}
      </main>
    </>
  );
}

/** A page's heading with optional context (breadcrumb-like lead) and actions. */
export function PageHeader({ title, lead, children }: { title: ReactNode; lead?: ReactNode; children?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {lead ? <p className="lead">{lead}</p> : null}
      </div>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}
