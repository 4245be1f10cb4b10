import { Link } from "@remix-run/react";

/** Where an audited entity can be looked at, when the portal has a page for it. */
function entityHref(entityType: string, entityId: string): string | null {
  if (entityType === "rule_set_version") {
    // entityId is `<site code>/<version>` (app/services/rule-sets.server.ts).
    const match = /^([A-Z0-9][A-Z0-9-]{1,15})\/([1-9][0-9]*)$/.exec(entityId);
    return match ? `/rule-sets/${match[1]}/${match[2]}` : null;
  }
  return null;
}

export function AuditEntity({ entityType, entityId }: { entityType: string; entityId: string }) {
  const href = entityHref(entityType, entityId);
  return (
    <span className="audit-entity">
      <span className="muted">{entityType}</span> {href ? <Link to={href}>{entityId}</Link> : <code>{entityId}</code>}
    </span>
  );
}
