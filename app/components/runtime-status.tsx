import type { ReactNode } from "react";
import { Badge } from "./badge";

/**
 * Pieces of the runtime clients and keys screens: key ids (RFC 7638 thumbprints) and a runtime's
 * per-site status. The status word is always in the text; the tone only decorates it.
 */

/** A key id: short on screen, whole for copying and assistive technology (like Digest). */
export function KeyId({ kid, full = false }: { kid: string; full?: boolean }) {
  if (full) return <code className="digest">{kid}</code>;
  return (
    <code className="digest" title={kid}>
      <span aria-hidden="true">{kid.slice(0, 12)}…</span>
      <span className="visually-hidden">{kid}</span>
    </code>
  );
}

/** The keys a runtime last said it trusts; one that is retired or unknown here is named as such. */
export function TrustedKeys({ keys }: { keys: readonly { kid: string; state: "active" | "retired" | "unknown" }[] }) {
  if (keys.length === 0) return <Badge tone="bad">trusts no key</Badge>;
  return (
    <ul className="plain-list">
      {keys.map((k) => (
        <li key={k.kid}>
          <KeyId kid={k.kid} /> {k.state === "active" ? null : <Badge tone={k.state === "retired" ? "warn" : "bad"}>{k.state}</Badge>}
        </li>
      ))}
    </ul>
  );
}

const FLAG_TONE = {
  current: "good",
  behind: "bad",
  ahead: "info",
  "no report": "neutral",
  "no version in force": "neutral",
} as const;

/** How a runtime's reported version at a site compares with the version in force there. */
export function SiteFlag({ flag, children }: { flag: keyof typeof FLAG_TONE; children?: ReactNode }) {
  return (
    <Badge tone={FLAG_TONE[flag]}>
      {flag === "behind" ? "STALE: behind" : flag}
      {children}
    </Badge>
  );
}
