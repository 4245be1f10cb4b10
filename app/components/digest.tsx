import { shortDigest } from "./format";

/** A SHA-256 digest: short on screen, full for copy and assistive technology. */
export function Digest({ value, full = false }: { value: string | null; full?: boolean }) {
  if (value === null) return <span className="muted">none</span>;
  // Only a SHA-256 (64 hex digits) is shortened; any other source reference is shown whole.
  if (full || !/^[0-9a-f]{64}$/i.test(value)) return <code className="digest">{value}</code>;
  return (
    <code className="digest" title={value}>
      <span aria-hidden="true">{shortDigest(value)}…</span>
      <span className="visually-hidden">{value}</span>
    </code>
  );
}
