/**
 * GS1 identifiers: parse and validate element strings, raw scans and Digital
 * Link URIs against the GS1 Barcode Syntax Dictionary, and classify what they
 * identify (instance, class, container). Pure: the dictionary text is a
 * generated module (`data/dictionary.ts`), parsed once when this module loads;
 * no call reads files, the network or the clock. See ADR 012.
 *
 *   parseGs1("]d2010950600013435210ABC123")      // raw scan
 *   parseGs1("(01)09506000134352(21)SER1")       // bracketed
 *   parseGs1("https://id.gs1.org/01/09506000134352/10/ABC123?17=261231")
 */
import { GS1_SYNTAX_DICTIONARY_TEXT } from "./data/dictionary";
import { classifyElements } from "./classify";
import { parseAny, parseBracketed, parseDigitalLink, parseScan, type Gs1ParseOptions, type Gs1Result } from "./parse";
import { parseSyntaxDictionary, type Gs1SyntaxDictionary } from "./syntax-dictionary";
import { validateAiList, validateElements as validateWith, type Gs1Element, type Gs1Issue, type Gs1Validation } from "./validate";
import type { ReferenceLists } from "./linters";

export { classifyElements };
export type { Gs1Classification, IdentifierKind } from "./classify";
export type { Gs1Rule, ReferenceLists } from "./linters";
export { CSET39, CSET64, CSET82, gs1CheckCharacterPair, gs1CheckDigit } from "./linters";
export type { DigitalLinkParts, Gs1ParseOptions, Gs1ReadElement, Gs1Reading, Gs1Result, Gs1Syntax } from "./parse";
export { GS, toElementString } from "./parse";
export type { AiComponent, AiEntry, ComponentType, Gs1SyntaxDictionary } from "./syntax-dictionary";
export { parseSyntaxDictionary } from "./syntax-dictionary";
export type { Gs1Element, Gs1Issue, Gs1NotPerformed, Gs1Validation } from "./validate";

/** The vendored dictionary, parsed once. */
export const gs1Dictionary: Gs1SyntaxDictionary = parseSyntaxDictionary(GS1_SYNTAX_DICTIONARY_TEXT);

/** Reads any form: `(`… bracketed, `http(s)://`… Digital Link, anything else a raw scan. */
export function parseGs1(input: string, options?: Gs1ParseOptions): Gs1Result {
  return parseAny(gs1Dictionary, input, options);
}

export function parseGs1Bracketed(input: string, options?: Gs1ParseOptions): Gs1Result {
  return parseBracketed(gs1Dictionary, input, options);
}

export function parseGs1Scan(input: string, options?: Gs1ParseOptions): Gs1Result {
  return parseScan(gs1Dictionary, input, options);
}

export function parseGs1DigitalLink(input: string, options?: Gs1ParseOptions): Gs1Result {
  return parseDigitalLink(gs1Dictionary, input, options);
}

/** Validates elements gathered from one item (possibly from several carriers). */
export function validateGs1Elements(elements: readonly Gs1Element[], referenceLists?: ReferenceLists): Gs1Validation {
  return validateWith(gs1Dictionary, elements, referenceLists);
}

/**
 * Checks an AI list such as an identifier format's `ais` (`["01", "21"]`): known AIs, no repeats,
 * and the dictionary's `req`/`ex` rules met by the list itself (`["21"]` → requires (01) or …).
 */
export function validateGs1AiList(ais: readonly string[]): Gs1Issue[] {
  return validateAiList(gs1Dictionary, ais);
}
