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
  return write(resolve(value, ""));
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

/**
 * The objects being written (a cycle check): a list while shallow (the common case, cheapest),
 * and a set as well once deep, so a deep value costs no quadratic search.
 */
class Ancestors {
  private readonly list: object[] = [];
  private set: Set<object> | null = null;
  has(object: object): boolean {
    return this.set ? this.set.has(object) : this.list.includes(object);
  }
  push(object: object): void {
    this.list.push(object);
    if (this.set) this.set.add(object);
    else if (this.list.length > 32) this.set = new Set(this.list);
  }
  pop(): void {
    const object = this.list.pop()!;
    this.set?.delete(object);
  }
}

/** An object or array being written: its members (sorted keys) or elements, and the next one. */
interface Open {
  object: object;
  /** Sorted member names; null for an array. */
  keys: string[] | null;
  length: number;
  next: number;
  first: boolean;
  /** Whether the path stack holds this container's current member. */
  inMember: boolean;
}

/**
 * Iterative, not recursive: a value nested 100,000 deep is written (or refused by its caller's
 * limits) without exhausting the call stack (ADR 016).
 */
function write(input: unknown): string {
  const stack: PathStack = [];
  const ancestors = new Ancestors();
  const open: Open[] = [];
  let out = "";
  let value = input;
  for (;;) {
    // Write `value` (already through toJSON): a primitive whole, a container's opening bracket.
    let written = false;
    while (!written) {
      switch (typeof value) {
        case "string":
          // ES JSON.stringify (with well-formed lone-surrogate escaping, Node >= 12)
          // produces exactly the RFC 8785 §3.2.2.2 string form.
          out += JSON.stringify(value);
          written = true;
          continue;
        case "number":
          if (!Number.isFinite(value)) fail(stack, `${value} is not a JSON number`);
          // RFC 8785 §3.2.2.3 mandates the ECMAScript Number-to-String algorithm;
          // JSON.stringify also maps -0 to "0" as the RFC requires.
          out += JSON.stringify(value);
          written = true;
          continue;
        case "boolean":
          out += value ? "true" : "false";
          written = true;
          continue;
        case "undefined":
          return fail(stack, "undefined is only allowed as an (omitted) object member");
        case "bigint":
          return fail(stack, "bigint has no exact JSON number representation; encode it as a string");
        case "function":
          return fail(stack, "functions are not JSON values");
        case "symbol":
          return fail(stack, "symbols are not JSON values");
      }
      if (value === null) {
        out += "null";
        written = true;
        continue;
      }
      const object = value as object;
      // Boxed primitives are unwrapped by JSON.stringify; keep parity.
      if (object instanceof Number || object instanceof String || object instanceof Boolean) {
        value = object.valueOf();
        continue;
      }
      // JSON.stringify renders these as "{}", which would silently lose data.
      if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet) {
        fail(stack, `${object.constructor.name} is not a JSON value; convert it to an object or array`);
      }
      if (ancestors.has(object)) fail(stack, "circular reference");
      ancestors.push(object);
      if (Array.isArray(object)) {
        out += "[";
        open.push({ object, keys: null, length: object.length, next: 0, first: true, inMember: false });
      } else {
        out += "{";
        // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
        const keys = Object.keys(object).sort();
        open.push({ object, keys, length: keys.length, next: 0, first: true, inMember: false });
      }
      written = true;
    }
    // Move to the next member or element to write, closing the containers that are complete.
    for (;;) {
      const top = open.at(-1);
      if (!top) return out;
      if (top.inMember) {
        stack.pop();
        top.inMember = false;
      }
      if (top.keys === null) {
        if (top.next < top.length) {
          const index = top.next++;
          // Indexed, not map(): holes must fail like undefined.
          if (index) out += ",";
          stack.push(index);
          top.inMember = true;
          value = resolve((top.object as unknown[])[index], String(index));
          break;
        }
        out += "]";
      } else {
        let member: unknown;
        let key: string | undefined;
        while (top.next < top.length) {
          key = top.keys[top.next++]!;
          member = resolve((top.object as Record<string, unknown>)[key], key);
          if (member !== undefined) break;
          key = undefined;
        }
        if (key !== undefined) {
          out += `${top.first ? "" : ","}${JSON.stringify(key)}:`;
          top.first = false;
          stack.push(key);
          top.inMember = true;
          value = member;
          break;
        }
        out += "}";
      }
      open.pop();
      ancestors.pop();
    }
  }
}
