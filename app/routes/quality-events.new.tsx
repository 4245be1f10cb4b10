import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { SelectInput, TextAreaField } from "~/components/form-fields";
import { Field, FormError, parseForm, useSchemaForm, type FieldErrors } from "~/components/forms";
import { kindLabel } from "~/components/quality-event";
import { QUALITY_EVENT_KINDS, QUALITY_EVENT_SEVERITIES, QUALITY_REFERENCE_KINDS } from "~/domain/quality-event";
import { QUALITY_EVENT_FORM_ROWS, qualityEventFormSchema } from "~/schemas/quality-event";
import { raiseQualityEvent } from "~/services/quality-events.server";
import { requirePermission } from "~/services/signed-in.server";
import { actorName } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";
import { actionError } from "~/utils/errors.server";
import { record } from "../../policies/ability";

export const meta: MetaFunction = () => [{ title: "Raise a quality event · Quality events · C-981" }];

const REFERENCE_KIND_LABELS: Record<(typeof QUALITY_REFERENCE_KINDS)[number], string> = {
  serial: "Serial",
  lot: "Lot",
  container: "Container (SSCC)",
  material: "Material",
};

/** A prefill from a link (the explorer's item page): one reference, the site; anything else is ignored. */
function prefillFrom(url: URL) {
  const text = (name: string, max: number) => {
    const value = url.searchParams.get(name)?.trim() ?? "";
    return value.length <= max ? value : "";
  };
  const kind = url.searchParams.get("reference");
  return {
    site: text("site", 16),
    reference: (QUALITY_REFERENCE_KINDS as readonly string[]).includes(kind ?? "")
      ? { kind: kind as (typeof QUALITY_REFERENCE_KINDS)[number], material: text("material", 64), identifier: text("identifier", 128) }
      : null,
  };
}

export async function loader({ request }: LoaderFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "QualityEvent");
  const raiseSites = signedIn.sites.filter((s) => signedIn.ability.can("create", record("QualityEvent", { siteId: s.id }))).map((s) => s.code);
  const prefill = prefillFrom(new URL(request.url));
  return { raiseSites, prefill: { ...prefill, site: raiseSites.includes(prefill.site.toUpperCase()) ? prefill.site.toUpperCase() : "" } };
}

export async function action({ request }: ActionFunctionArgs) {
  const signedIn = await requirePermission(request, "create", "QualityEvent");
  const form = parseForm(qualityEventFormSchema, await request.formData());
  if (!form.ok) return data({ fieldErrors: form.fieldErrors }, { status: 400 });
  const db = await getDb();
  let number: string;
  try {
    ({ number } = await raiseQualityEvent(db, { username: actorName(signedIn), ability: signedIn.ability }, form.data));
  } catch (error) {
    return actionError(error, (fieldErrors) => ({ fieldErrors }));
  }
  throw redirect(`/quality-events/${number}?done=raised`);
}

export default function RaiseQualityEvent() {
  const { raiseSites, prefill } = useLoaderData<typeof loader>();
  const actionData = useActionData<{ fieldErrors?: FieldErrors }>();
  const navigation = useNavigation();
  const { onSubmit, errors } = useSchemaForm(qualityEventFormSchema, actionData?.fieldErrors);
  const rows = Array.from({ length: QUALITY_EVENT_FORM_ROWS }, (_, i) => (i === 0 && prefill.reference ? prefill.reference : null));
  return (
    <>
      <PageHeader
        title="Raise a quality event"
        lead="A nonconformance, concession, rework order or customer complaint on the serials, lots, containers or materials it concerns. Each reference is looked up at the site and recorded with the rule in force for it now; the event then shows every finished good that may contain what it names."
      >
        <Link to="/quality-events">All quality events</Link>
      </PageHeader>
      <section className="card form-card" aria-labelledby="raise-heading">
        <h2 id="raise-heading">The event</h2>
        <FormError errors={errors.form} />
        <Form method="post" onSubmit={onSubmit} noValidate>
          <div className="form-grid">
            <SelectInput
              label="Site"
              name="site"
              defaultValue={prefill.site}
              errors={errors.site}
              options={[{ value: "", label: "Choose a site" }, ...raiseSites.map((s) => ({ value: s, label: s }))]}
              hint="Only the sites where you may raise quality events."
            />
            <SelectInput
              label="Kind"
              name="kind"
              defaultValue=""
              errors={errors.kind}
              options={[{ value: "", label: "Choose a kind" }, ...QUALITY_EVENT_KINDS.map((k) => ({ value: k, label: kindLabel(k) }))]}
            />
            <SelectInput
              label="Severity"
              name="severity"
              defaultValue=""
              errors={errors.severity}
              options={[{ value: "", label: "Choose a severity" }, ...QUALITY_EVENT_SEVERITIES.map((s) => ({ value: s, label: s }))]}
            />
          </div>
          <Field label="Title" name="title" errors={errors.title} maxLength={200} autoComplete="off" />
          <TextAreaField label="Description" name="description" errors={errors.description} rows={4} maxLength={5000} />

          <fieldset>
            <legend>What it concerns</legend>
            <p className="hint">
              A serial or lot by its material's part number and identifier; a container by its SSCC alone; a material by its part number alone. Leave the last
              rows empty when you need fewer.
            </p>
            <FormError errors={errors.references} />
            {rows.map((row, i) => (
              <fieldset className="form-grid" key={`reference-${i + 1}`}>
                <legend className="visually-hidden">Reference {i + 1}</legend>
                <SelectInput
                  label={`Reference ${i + 1}: kind`}
                  name={`references[${i}].kind`}
                  defaultValue={row?.kind ?? "serial"}
                  errors={errors[`references.${i}.kind`]}
                  options={QUALITY_REFERENCE_KINDS.map((k) => ({ value: k, label: REFERENCE_KIND_LABELS[k] }))}
                />
                <Field
                  label={`Reference ${i + 1}: material`}
                  name={`references[${i}].material`}
                  defaultValue={row?.material ?? ""}
                  errors={errors[`references.${i}.material`]}
                  autoComplete="off"
                />
                <Field
                  label={`Reference ${i + 1}: identifier`}
                  name={`references[${i}].identifier`}
                  defaultValue={row?.identifier ?? ""}
                  errors={errors[`references.${i}.identifier`]}
                  autoComplete="off"
                />
              </fieldset>
            ))}
          </fieldset>
          <button type="submit" disabled={navigation.state === "submitting"}>
            Raise the event
          </button>
        </Form>
      </section>
    </>
  );
}
