/**
 * A canonical serialisation of the compact genealogy index (ADR 044): what the index says, not how
 * its lookup tables happen to be numbered — per item its facts by value (material and site by code
 * string, quantity as printed), per item its out-row and in-row in their order (other end, kind, edge
 * id, time), the items per (material, site) in key order, and the flow-cycle candidates. Two
 * indexes with equal serialisations answer every question alike; an incrementally maintained
 * index is compared with a fresh rebuild this way. Pure; for tests and checks, not for hot paths.
 */
import type { CompactGenealogy } from "./compact";
import { EDGE_KINDS, ITEM_KINDS, ITEM_STATUSES } from "./graph";

export function canonicalGenealogy(g: CompactGenealogy): string {
  const d = g.details;
  const lines: string[] = [`items<${g.present.length}`, `identifier-bytes ${g.identifierBytes.length}`];
  for (let id = 0; id < g.present.length; id++) {
    if (g.present[id] !== 1) continue;
    const at = g.createdAtOf(id);
    lines.push(
      [
        "item",
        id,
        ITEM_KINDS[g.kind[id]!],
        ITEM_STATUSES[g.status[id]!],
        g.partNumberOf(id),
        g.siteOf(id),
        JSON.stringify(g.identifierOf(id)),
        `[${g.identifierStart[id]},${g.identifierStart[id + 1]})`,
        Number.isNaN(at) ? "NaN" : String(at),
        g.quantityOf(id),
        d.onCycleCandidate[id] === 1 ? "cycle?" : "-",
      ].join(" "),
    );
    for (let e = g.outStart[id]!, end = g.outStart[id + 1]!; e < end; e++)
      lines.push(`  out ${g.outTarget[e]} ${EDGE_KINDS[g.outKind[e]!]} #${d.outEdgeId[e]} ${d.outOccurredAt[e]}`);
    for (let e = g.inStart[id]!, end = g.inStart[id + 1]!; e < end; e++) lines.push(`  in ${g.inSource[e]} ${EDGE_KINDS[g.inKind[e]!]} #${d.inEdgeId[e]}`);
  }
  // Rows of ids without an item (the builder keeps edges whatever their ends).
  for (let id = 0; id < g.present.length; id++) {
    if (g.present[id] === 1) continue;
    if (g.outStart[id + 1]! > g.outStart[id]! || g.inStart[id + 1]! > g.inStart[id]!) lines.push(`rows of absent item ${id}`);
  }
  lines.push(`edges ${g.outTarget.length} ${g.inSource.length}`);
  const groups: string[] = [];
  for (let m = 0; m < g.partNumbers.length; m++) {
    for (let s = 0; s < g.siteCodes.length; s++) {
      const ids = g.itemsOf(g.partNumbers[m]!, g.siteCodes[s]!);
      if (ids.length) groups.push(`group ${JSON.stringify([g.partNumbers[m], g.siteCodes[s]])} ${ids.join(",")}`);
    }
  }
  lines.push(...groups.sort());
  return lines.join("\n");
}

/** Whether two indexes say the same (equal canonical serialisations). */
export function sameGenealogy(a: CompactGenealogy, b: CompactGenealogy): boolean {
  return canonicalGenealogy(a) === canonicalGenealogy(b);
}
