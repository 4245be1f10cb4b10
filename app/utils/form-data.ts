/**
 * Form fields → the object a zod schema parses, in the browser and on the server alike, built so
 * that no field name can reach an object's prototype (ADR 016):
 * - every object is made without a prototype (`Object.create(null)`), so nothing is inherited and
 *   nothing can be written through `__proto__`;
 * - a name with a `__proto__`, `constructor` or `prototype` segment is refused outright, as are
 *   names that are too long or too deep, array indexes above a bound and names that contradict
 *   each other (`a=1` and `a.b=2`);
 * - a name the schema does not know is refused (the schema's object shapes, through unions,
 *   arrays, pipes and defaults, are the list of names a form may send).
 * Values are never interpreted here; zod does that.
 */
import type { z } from "zod";

export const FORM_FIELD_LIMITS = {
  /** Fields in one form (a change request with 200 changes sends about 2,500). */
  fields: 10_000,
  /** Characters of one field name. */
  nameLength: 200,
  /** Segments of one field name (`changes[0].sites` has three). */
  depth: 6,
  /** Highest array index (`changes[999]`). */
  index: 999,
} as const;

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/** A form whose field names cannot be turned into an object; `field` is the offending name. */
export class FormShapeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "FormShapeError";
  }
}

type FormNode = Record<string, unknown>;
const node = (): FormNode => Object.create(null) as FormNode;
const isIndex = (segment: string) => /^\d+$/.test(segment);

/** Printable form of a hostile name in an error message (never the whole of a huge one). */
export function displayName(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}

/** `grants[0].role` → ["grants", "0", "role"]; throws FormShapeError for a name it refuses. */
export function fieldPath(name: string): string[] {
  if (name.length > FORM_FIELD_LIMITS.nameLength)
    throw new FormShapeError(name, `The field name "${displayName(name)}" is longer than ${FORM_FIELD_LIMITS.nameLength} characters.`);
  const path = name.split(/[.[\]]+/).filter(Boolean);
  if (path.length === 0) throw new FormShapeError(name, `The field name "${displayName(name)}" is empty.`);
  if (path.length > FORM_FIELD_LIMITS.depth)
    throw new FormShapeError(name, `The field name "${displayName(name)}" is nested deeper than ${FORM_FIELD_LIMITS.depth} levels.`);
  for (const segment of path) {
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new FormShapeError(name, `The field name "${displayName(name)}" is not allowed.`);
    if (isIndex(segment) && (segment.length > 4 || Number(segment) > FORM_FIELD_LIMITS.index)) {
      throw new FormShapeError(name, `The field name "${displayName(name)}" has an index above ${FORM_FIELD_LIMITS.index}.`);
    }
  }
  return path;
}

/**
 * FormData (or its entries) → an object without prototypes. Names like `grants[0].role` build
 * arrays of objects; a repeated name (checkboxes, multi-selects) collects its values into an
 * array. Files are skipped (uploads are read by their own routes). Throws FormShapeError.
 */
export function formToObject(entries: Iterable<[string, FormDataEntryValue]>): Record<string, unknown> {
  const out = node();
  let count = 0;
  for (const [name, value] of entries) {
    if (++count > FORM_FIELD_LIMITS.fields) throw new FormShapeError("form", `The form has more than ${FORM_FIELD_LIMITS.fields} fields.`);
    if (typeof value !== "string") continue;
    const path = fieldPath(name);
    let container: FormNode | unknown[] = out;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      if (Array.isArray(container) !== isIndex(key))
        throw new FormShapeError(name, `The field name "${displayName(name)}" contradicts another field of the form.`);
      const slots = container as unknown as FormNode;
      const present = Object.hasOwn(slots, key) ? slots[key] : undefined;
      if (i === path.length - 1) {
        if (present !== undefined && typeof present !== "string" && !(Array.isArray(present) && present.every((v) => typeof v === "string"))) {
          throw new FormShapeError(name, `The field name "${displayName(name)}" contradicts another field of the form.`);
        }
        slots[key] = present === undefined ? value : [present, value].flat();
      } else {
        const wantArray = isIndex(path[i + 1]!);
        if (present === undefined) {
          slots[key] = wantArray ? [] : node();
        } else if (typeof present !== "object" || present === null || Array.isArray(present) !== wantArray) {
          throw new FormShapeError(name, `The field name "${displayName(name)}" contradicts another field of the form.`);
        }
        container = slots[key] as FormNode | unknown[];
      }
    }
  }
  return out;
}

/**
 * The field paths a schema accepts, as a tree: object shapes by key, arrays by "*" (any index),
 * unions as the union of their options. `true` marks a leaf (or a value the schema takes whole).
 */
type PathTree = { [key: string]: PathTree } | true;

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

const treeCache = new WeakMap<z.ZodType, PathTree | null>();

function merge(a: PathTree | null, b: PathTree | null): PathTree | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a === true || b === true) return a === true ? b : a;
  const out: { [key: string]: PathTree } = Object.create(null);
  for (const [k, v] of Object.entries(a)) out[k] = v;
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k] ?? null, v) ?? true;
  return out;
}

/** null: the schema says nothing about structure here (a transform): accept what comes. */
function pathTree(schema: z.ZodType, seen = new Set<z.ZodType>()): PathTree | null {
  if (treeCache.has(schema)) return treeCache.get(schema)!;
  if (seen.has(schema)) return true;
  seen.add(schema);
  const def = defOf(schema);
  let tree: PathTree | null;
  switch (def.type) {
    case "object": {
      const out: { [key: string]: PathTree } = Object.create(null);
      for (const [key, child] of Object.entries(def.shape ?? {})) out[key] = pathTree(child, seen) ?? true;
      tree = out;
      break;
    }
    case "union":
      tree = (def.options ?? []).reduce<PathTree | null>((acc, option) => merge(acc, pathTree(option, seen)), null);
      break;
    case "intersection":
      tree = merge(pathTree(def.left!, seen), pathTree(def.right!, seen));
      break;
    case "array": {
      const out: { [key: string]: PathTree } = Object.create(null);
      out["*"] = pathTree(def.element!, seen) ?? true;
      tree = out;
      break;
    }
    case "pipe":
      // z.preprocess(fn, schema) is pipe(transform, schema): the structure is the output's.
      tree = merge(defOf(def.in!).type === "transform" ? null : pathTree(def.in!, seen), pathTree(def.out!, seen));
      break;
    case "lazy":
      tree = pathTree(def.getter!(), seen);
      break;
    case "transform":
      tree = null;
      break;
    default:
      tree = def.innerType ? pathTree(def.innerType, seen) : true;
  }
  treeCache.set(schema, tree);
  return tree;
}

const declaredFields = new WeakMap<z.ZodType, z.ZodType>();

/**
 * For a schema that takes its input whole and shapes it itself (`z.unknown().transform(…)`), the
 * schema whose object shapes list the field names its form may send.
 */
export function withFormFields<S extends z.ZodType>(schema: S, fields: z.ZodType): S {
  declaredFields.set(schema, fields);
  return schema;
}

/**
 * The first field name the schema does not know, or null. A value the schema takes whole (a
 * string field sent twice, say) is not an unknown name: zod judges the value.
 */
export function unknownField(schema: z.ZodType, names: Iterable<string>): string | null {
  const root = pathTree(declaredFields.get(schema) ?? schema);
  if (root === null || root === true) return null;
  for (const name of names) {
    let tree: PathTree = root;
    for (const segment of fieldPath(name)) {
      if (tree === true) break;
      const next: PathTree | undefined = Object.hasOwn(tree, segment) ? tree[segment] : isIndex(segment) && Object.hasOwn(tree, "*") ? tree["*"] : undefined;
      if (next === undefined) return name;
      tree = next;
    }
  }
  return null;
}
