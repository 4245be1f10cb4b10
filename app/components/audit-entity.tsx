import { Link } from "@remix-run/react";
import { USERNAME_PATTERN } from "~/schemas/users";
import { useAbility } from "./ability";

/** Where an audited entity can be looked at, when the portal has a page for it (and the reader may see it). */
function entityHref(entityType: string, entityId: string, canReadUsers: boolean, attempt: { seq: number; action: string } | undefined): string | null {
  if (entityType === "epcis_document" && attempt && (attempt.action === "epcis.import" || attempt.action === "epcis.import_refused")) {
    // An EPCIS import or refusal: its record is named by the audit row's seq (ADR 033).
    return `/imports/epcis/${attempt.seq}`;
  }
  if (entityType === "rule_set_version") {
    // entityId is `<site code>/<version>` (app/services/rule-sets.server.ts).
    const match = /^([A-Z0-9][A-Z0-9-]{1,15})\/([1-9][0-9]*)$/.exec(entityId);
    return match ? `/rule-sets/${match[1]}/${match[2]}` : null;
  }
  if (entityType === "user" && canReadUsers) {
    // Failed sign-ins name whatever was typed as the user name: link only what could be one.
    return USERNAME_PATTERN.test(entityId) ? `/users/${encodeURIComponent(entityId)}` : null;
  }
  return null;
}

export function AuditEntity({ entityType, entityId, attempt }: { entityType: string; entityId: string; attempt?: { seq: number; action: string } }) {
  const ability = useAbility();
  const href = entityHref(entityType, entityId, ability.can("read", "User"), ability.can("read", "TraceItem") ? attempt : undefined);
  return (
    <span className="audit-entity">
      <span className="muted">{entityType}</span> {href ? <Link to={href}>{entityId}</Link> : <code>{entityId}</code>}
    </span>
  );
}
