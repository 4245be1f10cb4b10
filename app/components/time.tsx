import { createContext, useContext } from "react";
import { useRouteLoaderData } from "@remix-run/react";
import type { RootData } from "./ability";
import { formatInTimeZone, formatUtc } from "./format";

/**
 * How times are shown below this point: in the reader's time zone (the default, from the root
 * loader), or as ISO 8601 UTC — the printable record keeps UTC, as signed (ADR 031).
 */
const TimeShownContext = createContext<"reader" | "utc">("reader");
export const RecordTimes = ({ children }: { children: React.ReactNode }) => <TimeShownContext.Provider value="utc">{children}</TimeShownContext.Provider>;

/** The reader's time zone as the server rendered with it (the root loader's; UTC when unknown). */
export function useTimeZone(): string {
  return useRouteLoaderData<RootData>("root")?.timeZone ?? "UTC";
}

/**
 * A point in time: shown in the reader's time zone to the second ("2026-12-07 18:05:09 UTC+1"),
 * with the exact ISO 8601 UTC instant as `dateTime` and on hover (title). Server and browser
 * format with the same zone (the root loader's), so hydration sees the same text. Inside
 * `RecordTimes` (the printable record) it stays ISO 8601 UTC.
 */
export function UtcTime({ value }: { value: Date | string }) {
  const shown = useContext(TimeShownContext);
  const timeZone = useTimeZone();
  const iso = formatUtc(value);
  if (shown === "utc") return <time dateTime={iso}>{iso}</time>;
  return (
    <time dateTime={iso} title={iso}>
      {formatInTimeZone(value, timeZone)}
    </time>
  );
}

/** An interval end that may be open ("—"), e.g. effective-to of the rule in force. */
export function UtcTimeOrOpen({ value, open = "open" }: { value: Date | string | null; open?: string }) {
  return value === null ? <span className="muted">{open}</span> : <UtcTime value={value} />;
}
