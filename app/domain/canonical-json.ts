/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Canonical bytes are what we hash and sign, so two semantically equal
 * documents must serialize identically, and anything JSON cannot represent
 * faithfully must fail loudly instead of being silently dropped or coerced
 * the way JSON.stringify does.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function canonicalize(value: unknown): string {
  return write(resolve(value, ""), [], []);
}

export function canonicalBytes(value: unknown): Uint8Array {
  // canonicalize() escapes lone surrogates, so the text is always well-formed
  // and TextEncoder never substitutes U+FFFD.
  return new TextEncoder().encode(canonicalize(value));
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The path of the value being written is kept as a stack of member keys and array indexes, and
 * spelled out (`$.a[0]["b-c"]`) only when something fails: canonicalizing is on hot paths (every
 * imported EPCIS event is hashed), and building a path string per member cost more than the rest.
 */
type PathStack = (string | number)[];

function pathOf(stack: PathStack): string {
  let path = "$";
  for (const key of stack) {
    if (typeof key === "number") path += `[${key}]`;
    else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
}

function fail(stack: PathStack, problem: string): never {
  throw new Error(`Cannot canonicalize ${pathOf(stack)}: ${problem}`);
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

/** `ancestors` holds the objects being written (a cycle check); it is as deep as the value, so a list is enough. */
function write(value: unknown, stack: PathStack, ancestors: object[]): string {
  switch (typeof value) {
    case "string":
      // ES JSON.stringify (with well-formed lone-surrogate escaping, Node >= 12)
      // produces exactly the RFC 8785 §3.2.2.2 string form.
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) fail(stack, `${value} is not a JSON number`);
      // RFC 8785 §3.2.2.3 mandates the ECMAScript Number-to-String algorithm;
      // JSON.stringify also maps -0 to "0" as the RFC requires.
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return fail(stack, "undefined is only allowed as an (omitted) object member");
    case "bigint":
      return fail(stack, "bigint has no exact JSON number representation; encode it as a string");
    case "function":
      return fail(stack, "functions are not JSON values");
    case "symbol":
      return fail(stack, "symbols are not JSON values");
    case "object":
      break;
  }

  if (value === null) return "null";
  const object = value as object;

  // Boxed primitives are unwrapped by JSON.stringify; keep parity.
  if (object instanceof Number || object instanceof String || object instanceof Boolean) {
    return write(object.valueOf(), stack, ancestors);
  }
  // JSON.stringify renders these as "{}", which would silently lose data.
  if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet) {
    fail(stack, `${object.constructor.name} is not a JSON value; convert it to an object or array`);
  }
  if (ancestors.includes(object)) fail(stack, "circular reference");

  ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      // Indexed loop rather than map(): map skips holes, which must fail like undefined.
      let out = "[";
      for (let index = 0; index < object.length; index++) {
        stack.push(index);
        out += (index ? "," : "") + write(resolve((object as unknown[])[index], String(index)), stack, ancestors);
        stack.pop();
      }
      return out + "]";
    }

    const record = object as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    let out = "{";
    let first = true;
    for (const key of keys) {
      const member = resolve(record[key], key);
      if (member === undefined) continue;
      stack.push(key);
      out += `${first ? "" : ","}${JSON.stringify(key)}:${write(member, stack, ancestors)}`;
      stack.pop();
      first = false;
    }
    return out + "}";
  } finally {
    ancestors.pop();
  }
}
