import { z } from "zod";
import { withFormFields } from "../utils/form-data";
import { fieldErrorsFromIssues, type FieldErrors } from "../utils/field-errors";
import { changeRequestContentSchema } from "./change-request";

/** Rows on the form; more are kept when an edited request already has more. */
export const CHANGE_ROWS = 3;
export const TASK_ROWS = 3;

type Row = Record<string, unknown>;
const isRow = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);
const blank = (v: unknown) => v === undefined || v === null || v === "" || (Array.isArray(v) && v.every((x) => x === ""));
/**
 * A change row with nothing but its kind filled in is ignored, whatever the kind: none of the
 * form's inputs has a default (selects start at "", checkboxes unchecked, so not submitted), and
 * the other kinds' inputs are disabled, so not submitted either. An alternates row naming a BOM
 * line but no alternates is not empty: it removes them all.
 */
const isEmptyChangeRow = (row: unknown) => !isRow(row) || Object.entries(row).every(([key, value]) => key === "kind" || blank(value));
const isEmptyTaskRow = (row: unknown) => !isRow(row) || (blank(row.description) && blank(row.evidenceUrl));

/** The regulatory-flags select sends "" (unchanged), "none" (clear them) or a comma-separated set. */
function attributeRowInput(row: Row): Row {
  const { regulatoryFlags, ...rest } = row;
  if (typeof regulatoryFlags !== "string" || regulatoryFlags === "") return rest;
  return { ...rest, regulatoryFlags: regulatoryFlags === "none" ? [] : regulatoryFlags.split(",") };
}

/**
 * changeRequestContentSchema for a form with a fixed number of change and task rows, in the
 * browser and in the action alike: empty rows are dropped before parsing, and a problem is
 * reported at the row's own index on the form (`changes.2.sites`), not its index among the filled
 * rows. The output keeps the mapping, so the service's field errors can be mapped back too.
 */
export const changeRequestFormSchema = withFormFields(
  z.unknown().transform((input, ctx) => {
    const raw = isRow(input) ? input : {};
    const changeInput = Array.isArray(raw.changes) ? (raw.changes as unknown[]) : [];
    const taskInput = Array.isArray(raw.revalidationTasks) ? (raw.revalidationTasks as unknown[]) : [];
    const changeRows = changeInput.flatMap((row, index) => (isEmptyChangeRow(row) ? [] : [index]));
    const taskRows = taskInput.flatMap((row, index) => (isEmptyTaskRow(row) ? [] : [index]));
    const parsed = changeRequestContentSchema.safeParse({
      ...raw,
      changes: changeRows.map((i) => {
        const row = changeInput[i] as Row;
        return row.kind === "attributes" ? attributeRowInput(row) : row;
      }),
      revalidationTasks: taskRows.map((i) => taskInput[i]),
    });
    if (parsed.success) return { content: parsed.data, changeRows, taskRows };
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: "custom", message: issue.message, path: formPath(issue.path, changeRows, taskRows) });
    }
    return z.NEVER;
  }),
  changeRequestContentSchema.extend({ rowVersion: z.unknown() }),
);

function formPath(path: readonly PropertyKey[], changeRows: readonly number[], taskRows: readonly number[]): (string | number)[] {
  const out = path.map((p) => (typeof p === "symbol" ? String(p) : p));
  const index = typeof out[1] === "number" ? out[1] : typeof out[1] === "string" && /^\d+$/.test(out[1]) ? Number(out[1]) : null;
  if (index !== null && out[0] === "changes") out[1] = changeRows[index] ?? index;
  if (index !== null && out[0] === "revalidationTasks") out[1] = taskRows[index] ?? index;
  return out;
}

/** The service's field errors (keys like `changes.0.sites`, indexes among the filled rows) at the form's rows. */
export function formErrorsOf(fields: Record<string, string[]>, changeRows: readonly number[], taskRows: readonly number[]): FieldErrors {
  const issues = Object.entries(fields).flatMap(([key, messages]) =>
    messages.map((message) => ({ path: formPath(key.split("."), changeRows, taskRows), message })),
  );
  return fieldErrorsFromIssues(issues);
}

const codeParam = z.string().trim().toUpperCase().max(64);
/**
 * The question the form asks while a tracking change is written (the resource route
 * `/change-requests/new/context`): a material, its sites, the chosen identifier formats.
 */
export const proposalContextQuerySchema = z.object({
  material: codeParam.optional().transform((v) => v || null),
  site: z.array(codeParam.min(1)).max(50, "At most 50 sites"),
  format: z.array(codeParam.min(1)).max(20, "At most 20 identifier formats"),
});

/** The query string of that route for one change row (the names the schema above reads). */
export function proposalContextSearch(row: { material: string; sites: readonly string[]; formats: readonly string[] }): string {
  const params = new URLSearchParams();
  if (row.material.trim()) params.set("material", row.material.trim());
  for (const site of row.sites) params.append("site", site);
  for (const format of row.formats) params.append("format", format);
  return params.toString();
}
