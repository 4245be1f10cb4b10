/**
 * Whether two identifier formats can read the same label. Its own module so that neither
 * identifier-format.ts (the pattern automata) nor look-alike.ts (the GS1 witness search, which uses
 * those automata) imports the other both ways (ADR 022: no import cycles).
 */
import { patternOverlap, type FormatOverlap, type IdentifierFormat } from "./identifier-format";
import { decideFormatsOverlap } from "./look-alike";

/**
 * Whether some string reads as both formats, with a witness. Pattern pairs are decided exactly
 * (identifier-format.ts); pairs involving GS1 by the witness search in `look-alike.ts` (ADR 013),
 * which answers "undecided" only when its search bound is reached.
 */
export function formatsOverlap(a: IdentifierFormat, b: IdentifierFormat): FormatOverlap {
  if (a.kind === "pattern" && b.kind === "pattern") return patternOverlap(a.segments, b.segments);
  return decideFormatsOverlap(a, b);
}
