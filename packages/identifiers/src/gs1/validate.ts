/**
 * Validation of GS1 element strings against the syntax dictionary: each
 * value's components (length, character set, linters), then the rules across
 * elements — mandatory pairings (`req`), exclusions (`ex`) and repeated AIs.
 *
 * Every error message starts with the AI it concerns and names the rule, e.g.
 * `AI (01): check digit should be 2, got 3` or `AI (21) requires (01) or (03) or (8006)`.
 */
import { runLinter, checkComponentType, type Gs1Rule, type ReferenceLists } from "./linters";
import { aiMatchesPattern, type AiEntry, type Gs1SyntaxDictionary } from "./syntax-dictionary";

export interface Gs1Element {
  ai: string;
  value: string;
}

export interface Gs1Issue {
  /** The AI concerned; null for input-level problems (bad URI, unknown symbology…). */
  ai: string | null;
  rule: Gs1Rule;
  /** The dictionary linter that raised it, when one did. */
  linter?: string;
  message: string;
}

/** A dictionary check that could not be done (or only partly): reported, never passed silently. */
export interface Gs1NotPerformed {
  ai: string;
  linter: string;
  reason: string;
}

export interface Gs1Validation {
  errors: Gs1Issue[];
  notPerformed: Gs1NotPerformed[];
}

/** The number of code points (`[...value].length`) without building an array. */
function codePoints(value: string): number {
  let n = value.length;
  for (let i = 0; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const characters = (n: number) => `${n} character${n === 1 ? "" : "s"}`;

const describeLength = (entry: AiEntry) => (entry.minLength === entry.maxLength ? `exactly ${entry.maxLength}` : `${entry.minLength} to ${entry.maxLength}`);

/** Validates one AI value against its dictionary entry: length, components, character sets, linters. */
export function validateValue(entry: AiEntry, value: string, lists: ReferenceLists = {}): Gs1Validation {
  const errors: Gs1Issue[] = [];
  const notPerformed: Gs1NotPerformed[] = [];
  const ai = entry.ai;
  const length = codePoints(value);
  if (length === 0) {
    errors.push({ ai, rule: "length", message: `AI (${ai}): value is empty; ${describeLength(entry)} characters required` });
    return { errors, notPerformed };
  }
  if (length > entry.maxLength) {
    errors.push({ ai, rule: "length", message: `AI (${ai}): ${length} characters exceeds maximum ${entry.maxLength}` });
    return { errors, notPerformed };
  }
  if (length < entry.minLength) {
    errors.push({
      ai,
      rule: "length",
      message:
        entry.minLength === entry.maxLength
          ? `AI (${ai}): ${characters(length)}; exactly ${entry.minLength} required`
          : `AI (${ai}): ${characters(length)} is below minimum ${entry.minLength}`,
    });
    return { errors, notPerformed };
  }

  let pos = 0;
  const multi = entry.components.length > 1;
  for (const [index, component] of entry.components.entries()) {
    const remaining = value.length - pos;
    if (remaining === 0) {
      if (component.optional) break;
      errors.push({ ai, rule: "length", message: `AI (${ai}): component ${index + 1} is missing` });
      break;
    }
    const take = component.min === component.max ? component.max : remaining;
    const where = multi ? ` (component ${index + 1})` : "";
    if (take > remaining) {
      errors.push({
        ai,
        rule: "length",
        message: `AI (${ai})${where}: needs ${characters(component.max)}, only ${remaining} left`,
      });
      break;
    }
    if (take > component.max) {
      errors.push({ ai, rule: "length", message: `AI (${ai})${where}: ${take} characters exceeds maximum ${component.max}` });
      break;
    }
    const data = value.slice(pos, pos + take);
    pos += take;
    const typeCheck = checkComponentType(component.type, data);
    if (typeCheck.status === "fail") {
      errors.push({ ai, rule: typeCheck.rule, message: `AI (${ai})${where}: ${typeCheck.detail}` });
      continue; // content linters assume a well-typed component
    }
    for (const linter of component.linters) {
      const result = runLinter(linter, data, lists);
      if (result.status === "fail") {
        errors.push({ ai, rule: result.rule, linter, message: `AI (${ai})${where}: ${result.detail}` });
        break; // GS1's engine stops at a component's first failing linter
      }
      if (result.status === "not-performed") notPerformed.push({ ai, linter, reason: result.reason });
      else if (result.partial) notPerformed.push({ ai, linter, reason: result.partial });
    }
  }
  return { errors, notPerformed };
}

const showAlternative = (alternative: readonly string[]) => alternative.map((p) => `(${p})`).join("+");

/**
 * Validates a set of elements read from one carrier (or from all carriers on
 * one item, as the dictionary recommends for `req` and `ex`).
 */
export function validateElements(dictionary: Gs1SyntaxDictionary, elements: readonly Gs1Element[], lists: ReferenceLists = {}): Gs1Validation {
  const errors: Gs1Issue[] = [];
  const notPerformed: Gs1NotPerformed[] = [];
  const valuesByAi = new Map<string, string[]>();
  const known: AiEntry[] = [];

  for (const { ai, value } of elements) {
    const entry = dictionary.entries.get(ai);
    if (!entry) {
      errors.push({ ai, rule: "unknown-ai", message: `AI (${ai}) is not in the GS1 syntax dictionary` });
      continue;
    }
    const values = valuesByAi.get(ai);
    if (values) {
      if (!values.includes(value)) values.push(value);
      continue; // an identical repeat adds nothing; a different one is reported below
    }
    valuesByAi.set(ai, [value]);
    known.push(entry);
    const outcome = validateValue(entry, value, lists);
    errors.push(...outcome.errors);
    notPerformed.push(...outcome.notPerformed);
  }

  for (const [ai, values] of valuesByAi) {
    if (values.length > 1) {
      errors.push({
        ai,
        rule: "repeated",
        message: `AI (${ai}) appears more than once with different values (${values.map((v) => JSON.stringify(v)).join(", ")})`,
      });
    }
  }

  errors.push(
    ...checkAiRules(
      dictionary,
      known.map((entry) => entry.ai),
    ),
  );
  errors.push(...checkDigitalSignatureKeys(dictionary, valuesByAi));
  return { errors, notPerformed };
}

/** Keys whose serial component is optional in the dictionary but required next to (8030). */
const DIGSIG_SERIAL_KEYS = ["253", "255", "8003"] as const;

/**
 * GS1 General Specifications, AI (8030): a digital signature is over an individually identified
 * object, so a GDTI (253), GCN (255) or GRAI (8003) used with it must carry its optional serial
 * component. The dictionary cannot say so (its `req` names AIs, not components); GS1's engine
 * checks it separately (`validateDigSigRequiresSerialisedKey`, ai.c): the key's value is longer
 * than its mandatory components.
 */
function checkDigitalSignatureKeys(dictionary: Gs1SyntaxDictionary, valuesByAi: ReadonlyMap<string, readonly string[]>): Gs1Issue[] {
  if (!valuesByAi.has("8030")) return [];
  const errors: Gs1Issue[] = [];
  for (const ai of DIGSIG_SERIAL_KEYS) {
    const entry = dictionary.entries.get(ai);
    const values = valuesByAi.get(ai);
    if (!entry || !values) continue;
    if (values.some((value) => [...value].length === entry.minLength)) {
      errors.push({
        ai,
        rule: "digsig-serial",
        message: `AI (${ai}): the serial component must be present when (${ai}) is used with a digital signature (8030)`,
      });
    }
  }
  return errors;
}

/**
 * The rules between AIs — mandatory pairings (`req`) and exclusions (`ex`) — for a set of AIs
 * known to the dictionary. Values play no part, so this also checks a label format's AI list.
 */
function checkAiRules(dictionary: Gs1SyntaxDictionary, ais: readonly string[]): readonly Gs1Issue[] {
  // A pure function of the dictionary and the AIs: remembered per dictionary for the combinations
  // seen (scans repeat a handful of them), at most AI_RULES_MEMO of them.
  let memo = aiRulesMemo.get(dictionary);
  if (!memo) aiRulesMemo.set(dictionary, (memo = new Map()));
  const key = ais.join(",");
  let errors = memo.get(key);
  if (!errors) {
    errors = Object.freeze(computeAiRules(dictionary, ais).map((issue) => Object.freeze(issue)));
    if (memo.size >= AI_RULES_MEMO) memo.clear();
    memo.set(key, errors);
  }
  return errors;
}

const AI_RULES_MEMO = 4096;
const aiRulesMemo = new WeakMap<Gs1SyntaxDictionary, Map<string, readonly Gs1Issue[]>>();

function computeAiRules(dictionary: Gs1SyntaxDictionary, ais: readonly string[]): Gs1Issue[] {
  const errors: Gs1Issue[] = [];
  const known = [...new Set(ais)].map((ai) => dictionary.entries.get(ai)).filter((e): e is AiEntry => e !== undefined);
  const present = known.map((entry) => entry.ai);
  const isPresent = (pattern: string) => present.some((ai) => aiMatchesPattern(ai, pattern));

  for (const entry of known) {
    for (const alternatives of entry.requires) {
      if (!alternatives.some((alternative) => alternative.every(isPresent))) {
        errors.push({
          ai: entry.ai,
          rule: "requires",
          message: `AI (${entry.ai}) requires ${alternatives.map(showAlternative).join(" or ")}`,
        });
      }
    }
  }

  const reported = new Set<string>();
  for (const entry of known) {
    for (const pattern of entry.excludes) {
      // "An AI is not exclusive of itself even if it matches a pattern."
      for (const other of present) {
        if (other === entry.ai || !aiMatchesPattern(other, pattern)) continue;
        const pair = [entry.ai, other].sort().join("|");
        if (reported.has(pair)) continue;
        reported.add(pair);
        errors.push({
          ai: entry.ai,
          rule: "excludes",
          message: `AI (${entry.ai}) must not be used together with (${other}) (exclusion ex=${pattern})`,
        });
      }
    }
  }
  return errors;
}

/**
 * Checks a list of AIs, such as an identifier format's `ais`, against the dictionary: every AI
 * known, none repeated, and the `req`/`ex` rules satisfied by the list itself.
 */
export function validateAiList(dictionary: Gs1SyntaxDictionary, ais: readonly string[]): Gs1Issue[] {
  const errors: Gs1Issue[] = [];
  const seen = new Set<string>();
  for (const ai of ais) {
    if (!dictionary.entries.has(ai)) errors.push({ ai, rule: "unknown-ai", message: `AI (${ai}) is not in the GS1 syntax dictionary` });
    else if (seen.has(ai)) errors.push({ ai, rule: "repeated", message: `AI (${ai}) is listed more than once` });
    seen.add(ai);
  }
  return [...errors, ...checkAiRules(dictionary, ais)];
}
