/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Canonical bytes are what we hash and sign, so two semantically equal
 * documents must serialize identically, and anything JSON cannot represent
 * faithfully must fail loudly instead of being silently dropped or coerced
 * the way JSON.stringify does.
 */

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export function canonicalize(value: unknown): string {
  return write(resolve(value, ""), "$", new Set());
}

export function canonicalBytes(value: unknown): Uint8Array {
  // canonicalize() escapes lone surrogates, so the text is always well-formed
  // and TextEncoder never substitutes U+FFFD.
  return new TextEncoder().encode(canonicalize(value));
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function memberPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function fail(path: string, problem: string): never {
  throw new Error(`Cannot canonicalize ${path}: ${problem}`);
}

/**
 * Applies toJSON once, as JSON.stringify does (its result is not re-checked),
 * passing the member key or array index so key-dependent toJSON behaves the
 * same here as in ordinary JSON.
 */
function resolve(value: unknown, key: string): unknown {
  if (typeof value === "object" && value !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return toJSON.call(value, key) as unknown;
  }
  return value;
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      // ES JSON.stringify (with well-formed lone-surrogate escaping, Node >= 12)
      // produces exactly the RFC 8785 §3.2.2.2 string form.
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
      // RFC 8785 §3.2.2.3 mandates the ECMAScript Number-to-String algorithm;
      // JSON.stringify also maps -0 to "0" as the RFC requires.
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return fail(path, "undefined is only allowed as an (omitted) object member");
    case "bigint":
      return fail(path, "bigint has no exact JSON number representation; encode it as a string");
    case "function":
      return fail(path, "functions are not JSON values");
    case "symbol":
      return fail(path, "symbols are not JSON values");
    case "object":
      break;
  }

  if (value === null) return "null";
  const object = value as object;

  // Boxed primitives are unwrapped by JSON.stringify; keep parity.
  if (object instanceof Number || object instanceof String || object instanceof Boolean) {
    return write(object.valueOf(), path, ancestors);
  }
  // JSON.stringify renders these as "{}", which would silently lose data.
  if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet) {
    fail(path, `${object.constructor.name} is not a JSON value; convert it to an object or array`);
  }
  if (ancestors.has(object)) fail(path, "circular reference");

  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      // Indexed loop rather than map(): map skips holes, which must fail like undefined.
      const items: string[] = [];
      for (let index = 0; index < object.length; index++) {
        items.push(write(resolve((object as unknown[])[index], String(index)), `${path}[${index}]`, ancestors));
      }
      return `[${items.join(",")}]`;
    }

    const record = object as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const key of keys) {
      const member = resolve(record[key], key);
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}:${write(member, memberPath(path, key), ancestors)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    ancestors.delete(object);
  }
}
