/**
 * Where a user may act on a change request. A change request names its sites; a record check
 * passes when one of them is in scope, so what must hold at all of them is checked site by site
 * here. Pure and isomorphic, like ability.ts: routes decide with it, the server's
 * requireEverySite (app/utils/auth.server.ts) refuses whatever slips through.
 */
import { record, type Action, type AppAbility } from "./ability";

/** `action` on change requests at this one site. */
export function mayAtSite(ability: AppAbility, action: Action, siteId: number): boolean {
  return ability.can(action, record("ChangeRequest", { siteIds: [siteId] }));
}

/** `action` on a change request at every one of its sites (the boolean form of requireEverySite). */
export function mayAtEverySite(ability: AppAbility, action: Action, siteIds: readonly number[]): boolean {
  return ability.can(action, "ChangeRequest") && siteIds.every((siteId) => mayAtSite(ability, action, siteId));
}

/** Who may run an impact analysis: those who may propose a change request there, or sign it, at every site of it. */
export function mayAnalyse(ability: AppAbility, siteIds: readonly number[]): boolean {
  return mayAtEverySite(ability, "create", siteIds) || mayAtEverySite(ability, "sign", siteIds);
}

/** Only the author edits (or submits, revises, rebases, withdraws) what they proposed: no exemption, not even for administrators. */
export function isAuthorOf(userId: number, changeRequest: { authorId: number }): boolean {
  return changeRequest.authorId === userId;
}

/**
 * The proposed changes at sites the user may not propose (`create`) or edit (`update`) changes at,
 * as errors on the form rows naming them: an attribute change applies at every site, so it needs
 * the role at all of them; a tracking or alternates change, at its sites; a new material touches
 * no site by itself. `sites.byChange[i]` are the site ids of `changes[i]`, `changeRows[i]` its row
 * on the form.
 */
export function sitePermissionProblems(
  ability: AppAbility,
  action: Extract<Action, "create" | "update">,
  changes: readonly { kind: string }[],
  sites: { byChange: readonly (readonly number[])[]; codeOf: Readonly<Record<number, string>> },
  changeRows: readonly number[],
): Record<string, string[]> {
  const problems = new Map<string, string[]>();
  sites.byChange.forEach((siteIds, i) => {
    const refused = siteIds.filter((siteId) => !mayAtSite(ability, action, siteId));
    if (refused.length === 0) return;
    const row = changeRows[i] ?? i;
    if (changes[i]?.kind === "attributes") {
      problems.set(`changes.${row}.material`, ["Attribute changes apply at every site: you may propose them only with a role at all sites"]);
    } else if (changes[i]?.kind === "traceability_requirement") {
      problems.set(`changes.${row}.scope`, ["Required traceability applies plant-wide: you may propose it only with a role at all sites"]);
    } else {
      problems.set(`changes.${row}.sites`, [`You may not propose changes at ${refused.map((id) => sites.codeOf[id] ?? id).join(", ")}`]);
    }
  });
  return Object.fromEntries(problems);
}
