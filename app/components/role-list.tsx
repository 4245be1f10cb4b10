import { ROLE_LABELS, ROLES, type Role } from "../../policies/ability";

/** "Viewer at CLT", "Administrator at all sites". */
export function grantLabel(role: string, siteCode: string | null): string {
  return `${ROLE_LABELS[role as Role] ?? role} at ${siteCode ?? "all sites"}`;
}

/** A user's roles, each with its site scope. */
export function RoleList({ grants }: { grants: readonly { role: string; site: string | null }[] }) {
  if (grants.length === 0) return <span className="muted">no roles</span>;
  return (
    <ul className="inline-list">
      {grants.map((g) => (
        <li key={`${g.role}@${g.site ?? "*"}`}>
          {ROLE_LABELS[g.role as Role] ?? g.role} <span className="site-code">{g.site ?? "all sites"}</span>
        </li>
      ))}
    </ul>
  );
}

/** Role options for a select, in the order of the permissions table. */
export const ROLE_OPTIONS = ROLES.map((role) => ({ value: role, label: ROLE_LABELS[role] }));
