import { Link } from "@remix-run/react";
import { UtcTime } from "./time";

export type LiveAtView =
  | { site: string; state: "pending" }
  | { site: string; state: "live" | "scheduled"; version: number; effectiveFrom: Date | string; releasedAt: Date | string | null };

/** "Live at: EIN (v3, since …), CLT pending" — where a change request is released, site by site. */
export function LiveAt({ sites }: { sites: readonly LiveAtView[] }) {
  if (sites.length === 0) return null;
  return (
    <p className="live-at">
      <strong>Live at:</strong>{" "}
      {sites.map((s, i) => (
        <span key={s.site}>
          {i > 0 ? ", " : null}
          {s.state === "pending" ? (
            <>
              {s.site} <span className="muted">pending</span>
            </>
          ) : (
            <>
              {s.site} (<Link to={`/rule-sets/${s.site}/${s.version}`}>v{s.version}</Link>, {s.state === "live" ? "since" : "scheduled from"}{" "}
              <UtcTime value={s.effectiveFrom} />)
            </>
          )}
        </span>
      ))}
    </p>
  );
}
