/**
 * GS1 Core Business Vocabulary (CBV 2.0) terms in one spelling (pure; ADR 014 *Identity*). EPCIS
 * 2.0 JSON lets a standard term be written as the bare word (`shipping`), as its CURIE
 * (`cbv:BizStep-shipping`) or as the Web URI it stands for
 * (`https://ref.gs1.org/cbv/BizStep-shipping`); all three are one term. A term of another
 * vocabulary (a company's own URI) is kept as written.
 */

const CBV_BASE = "https://ref.gs1.org/cbv/";

/** The CBV vocabularies an event names terms of, by the prefix of their URIs. */
export type CbvVocabulary = "BizStep" | "Disp" | "BTT" | "SDT";

const TERM = /^[A-Za-z0-9_]+$/;

/** The Web URI of a CBV term written in any of its three spellings; another value as written. */
export function cbvUri(value: string, vocabulary: CbvVocabulary): string {
  if (TERM.test(value)) return `${CBV_BASE}${vocabulary}-${value}`;
  const curie = `cbv:${vocabulary}-`;
  if (value.startsWith(curie) && TERM.test(value.slice(curie.length))) return `${CBV_BASE}${value.slice(4)}`;
  return value;
}

/** The bare CBV word of a term (`repairing`), or null when the value is not a term of that CBV vocabulary. */
export function cbvWord(value: unknown, vocabulary: CbvVocabulary): string | null {
  if (typeof value !== "string") return null;
  const uri = cbvUri(value, vocabulary);
  const prefix = `${CBV_BASE}${vocabulary}-`;
  if (!uri.startsWith(prefix)) return null;
  const word = uri.slice(prefix.length);
  return /^[a-z_]+$/.test(word) ? word : null;
}
