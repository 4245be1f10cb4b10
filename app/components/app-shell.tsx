import type { ReactNode } from "react";
import { Link, NavLink } from "@remix-run/react";

const NAVIGATION = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/materials", label: "Materials", end: false },
  { to: "/sites", label: "Sites", end: false },
  { to: "/rule-sets", label: "Rule sets", end: false },
  { to: "/audit", label: "Audit trail", end: false },
] as const;

/** The frame around every page: skip link, top bar with the primary navigation, main region. */
export function AppShell({ children }: { children: ReactNode }) {
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
        <nav aria-label="Primary" className="primary-nav">
          <ul>
            {NAVIGATION.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end} prefetch="intent">
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} className="page">
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
