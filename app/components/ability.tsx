import { useRouteLoaderData } from "@remix-run/react";
import { useMemo } from "react";
import { abilityFromRules, type AbilityRules, type AppAbility } from "../../policies/ability";

export interface RootData {
  user: {
    username: string;
    displayName: string;
    grants: { role: string; site: string | null }[];
    /** Set when the password must be changed before signing anything (ADR 020). */
    passwordChange: "set_by_administrator" | "expired" | null;
    /** Unread notifications in the inbox (ADR 032). */
    unread: number;
  } | null;
  abilityRules: AbilityRules;
  /** The reader's IANA time zone (the browser's, from the c981_tz cookie; "UTC" until known — ADR 031). */
  timeZone: string;
}

/**
 * The signed-in user's ability, rebuilt in the browser from the rules the root loader sent. Used
 * only to show or hide: every loader and action checks on the server.
 */
export function useAbility(): AppAbility {
  const data = useRouteLoaderData<RootData>("root");
  return useMemo(() => abilityFromRules(data?.abilityRules ?? []), [data?.abilityRules]);
}

export function useSignedInUser(): RootData["user"] {
  return useRouteLoaderData<RootData>("root")?.user ?? null;
}
