/** What an identifier format identifies: one unit, one batch, or one container (handling unit). */
export const IDENTIFIES = ["serial", "lot", "container"] as const;
export type Identifies = (typeof IDENTIFIES)[number];
