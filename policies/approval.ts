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
  { role: "regulatory_reviewer", appliesTo: (c) => c.riskClass === "high", reason: "a material of the highest risk class" },
];

export interface RequiredApproval {
  role: ReviewerRole;
  reasons: string[];
}

/** The roles a change request needs, each with why; in a stable order (quality, then regulatory). */
export function requiredApprovals(changes: readonly ChangeFacts[]): RequiredApproval[] {
  const byRole = new Map<ReviewerRole, Set<string>>();
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
