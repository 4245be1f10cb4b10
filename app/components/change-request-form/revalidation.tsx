import type { ChangeRequestContent } from "~/schemas/change-request";
import { CheckboxField } from "../form-fields";
import { ErrorList, Field, type FieldErrors } from "../forms";

/** Whether revalidation is required, and its tasks (one per row; empty rows are ignored). */
export function Revalidation({ initial, errors, taskCount }: { initial: ChangeRequestContent | null; errors: FieldErrors; taskCount: number }) {
  return (
    <section aria-labelledby="cr-revalidation-heading" className="card form-card">
      <h2 id="cr-revalidation-heading">Revalidation</h2>
      <CheckboxField
        label="Revalidation required"
        name="revalidationRequired"
        id="cr-revalidation-required"
        defaultChecked={initial?.revalidationRequired ?? false}
        errors={errors.revalidationRequired}
      />
      <fieldset className="grant-rows">
        <legend>Revalidation tasks</legend>
        <p className="muted small">One task per row; empty rows are ignored. Evidence is linked when the task is closed.</p>
        <ErrorList id="cr-tasks-error" errors={errors.revalidationTasks} />
        {Array.from({ length: taskCount }, (_, i) => {
          const task = initial?.revalidationTasks[i];
          return (
            <div className="grant-row" key={i}>
              <Field
                label={`Task ${i + 1}`}
                name={`revalidationTasks[${i}].description`}
                id={`cr-task-${i}-description`}
                type="text"
                maxLength={500}
                defaultValue={task?.description ?? ""}
                errors={errors[`revalidationTasks.${i}.description`]}
              />
              <Field
                label={`Evidence link for task ${i + 1}`}
                name={`revalidationTasks[${i}].evidenceUrl`}
                id={`cr-task-${i}-evidence`}
                type="url"
                maxLength={2000}
                placeholder="https://…"
                defaultValue={task?.evidenceUrl ?? ""}
                errors={errors[`revalidationTasks.${i}.evidenceUrl`]}
              />
            </div>
          );
        })}
      </fieldset>
    </section>
  );
}
