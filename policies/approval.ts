/**
 * Which reviewers a change request needs, as data (shown on every change request as
 * "needs: quality ✓, regulatory pending"), and the separation-of-duties rules for signing.
 * Pure and isomorphic, like ability.ts. No role is exempt: administrators sign like anyone else.
 */
import type { ChangeFacts, TrackingEffect } from "../app/domain/change-request-content";
import type { ReviewerRole, Role } from "../app/domain/roles";

export type { ReviewerRole } from "../app/domain/roles";

// The facts live in the domain (ADR 022); re-exported for the policy's callers.
export type { ChangeFacts, TrackingEffect };

export interface ApprovalRule {
  role: ReviewerRole;
  /** When the rule applies; the reason shown to the reviewers. */
  appliesTo: (change: ChangeFacts) => boolean;
  reason: string;
}

export const APPROVAL_RULES: readonly ApprovalRule[] = [
  { role: "quality_reviewer", appliesTo: () => true, reason: "every tracking change needs a quality reviewer" },
  {
    role: "regulatory_reviewer",
    appliesTo: (c) => c.trackingEffect === "downgrade",
    reason: "a downgrade (serial→lot, serial→none, lot→none) loses traceability",
  },
  { role: "regulatory_reviewer", appliesTo: (c) => c.riskClass === "high" && !c.requirement, reason: "a material of the highest risk class" },
  {
    role: "regulatory_reviewer",
    appliesTo: (c) => c.requirement?.lowers === true,
    reason: "lowers required traceability (less tracking, a container no longer required or a weaker scan at consumption)",
  },
];

export interface RequiredApproval {
  role: ReviewerRole;
  reasons: string[];
}

/** Why a request carrying deviations from required traceability needs the regulatory reviewer (ADR 036). */
export const DEVIATION_REASON = "deviation from required traceability";

/**
 * The roles a change request needs, each with why; in a stable order (quality, then regulatory).
 * `deviations` names the (material, site) pairs of the request's deviations ("SUB-1005 at EIN"):
 * each needs the regulatory reviewer, whose approval also attests them.
 */
export function requiredApprovals(changes: readonly ChangeFacts[], deviations: readonly string[] = []): RequiredApproval[] {
  const byRole = new Map<ReviewerRole, Set<string>>();
  if (deviations.length) byRole.set("regulatory_reviewer", new Set(deviations.map((d) => `${DEVIATION_REASON}: ${d}`)));
  for (const change of changes) {
    for (const rule of APPROVAL_RULES) {
      if (rule.appliesTo(change)) {
        const reasons = byRole.get(rule.role) ?? new Set<string>();
        reasons.add(rule.role === "quality_reviewer" ? rule.reason : `${change.partNumber}: ${rule.reason}`);
        byRole.set(rule.role, reasons);
      }
    }
  }
  if (changes.length === 0) byRole.set("quality_reviewer", new Set([APPROVAL_RULES[0]!.reason]));
  return (["quality_reviewer", "regulatory_reviewer"] as const).filter((role) => byRole.has(role)).map((role) => ({ role, reasons: [...byRole.get(role)!] }));
}

export interface GivenApproval {
  signerId: number;
  role: ReviewerRole;
}

/** Why a signer may not sign in this role, or null when they may. */
export function separationOfDutiesProblem(params: {
  signerId: number;
  authorId: number;
  role: ReviewerRole;
  signerRoles: readonly Role[];
  required: readonly RequiredApproval[];
  given: readonly GivenApproval[];
}): string | null {
  if (params.signerId === params.authorId) return "The author of a change request never signs it.";
  if (!params.signerRoles.includes(params.role)) return `You do not hold the role ${params.role.replace("_", " ")}.`;
  if (!params.required.some((r) => r.role === params.role)) return `This change request does not need a ${params.role.replace("_", " ")}.`;
  if (params.given.some((g) => g.role === params.role)) return `The ${params.role.replace("_", " ")} approval has already been given.`;
  if (params.given.some((g) => g.signerId === params.signerId)) return "One person never fills two required roles on one change request.";
  return null;
}

export function allApprovalsGiven(required: readonly RequiredApproval[], given: readonly GivenApproval[]): boolean {
  return required.every((r) => given.some((g) => g.role === r.role));
}

/** What a regulatory reviewer's approval attests besides its meaning when the request carries deviations (ADR 036). */
export const DEVIATION_ATTESTATION = "traceability_deviation";
export const DEVIATION_ATTESTATION_TEXT = "approve deviation from required traceability";

/** The attestations an approval in `role` must carry: the deviation attestation for a regulatory reviewer of a request with deviations. */
export function requiredAttestations(params: { meaning: string; role: ReviewerRole; carriesDeviations: boolean }): string[] {
  return params.meaning === "approved" && params.role === "regulatory_reviewer" && params.carriesDeviations ? [DEVIATION_ATTESTATION] : [];
}
