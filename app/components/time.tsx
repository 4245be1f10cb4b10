import { formatUtc } from "./format";

/** A point in time, shown and machine-readable as ISO 8601 UTC. */
export function UtcTime({ value }: { value: Date | string }) {
  const text = formatUtc(value);
  return <time dateTime={text}>{text}</time>;
}

/** An interval end that may be open ("—"), e.g. effective-to of the rule in force. */
export function UtcTimeOrOpen({ value, open = "open" }: { value: Date | string | null; open?: string }) {
  return value === null ? <span className="muted">{open}</span> : <UtcTime value={value} />;
}
