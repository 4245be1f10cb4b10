/**
 * Field (or row) → problems, the one shape every form, service and API refusal uses. Browser-safe.
 *
 * Built through a Map and `Object.fromEntries`, so an issue path such as `__proto__` becomes an own
 * property and never writes through a prototype (ADR 016).
 */
export type FieldErrors = Record<string, string[] | undefined>;

/** The issues of a zod error (or any list of path + message) as field errors; a path-less issue goes to `fallback`. */
export function fieldErrorsFromIssues(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  fallback = "form",
): Record<string, string[]> {
  const errors = new Map<string, string[]>();
  for (const issue of issues) {
    const key = issue.path.map(String).join(".") || fallback;
    errors.set(key, [...(errors.get(key) ?? []), issue.message]);
  }
  return Object.fromEntries(errors);
}
