import type { FormatChoice } from "~/domain/format-choice";
import type { ProposedChange } from "~/schemas/change-request";
import type { FieldErrors } from "../forms";

export type Kind = ProposedChange["kind"];
/** The form's inputs of each kind of change (the names under `changes[N]`). */
export const KIND_FIELDS: Record<Kind, readonly string[]> = {
  tracking: ["material", "family", "sites", "trackingMode", "containerTracking", "identifierFormatCodes", "consumptionScan"],
  attributes: ["material", "riskClass", "regulatoryFlags", "family", "gtin"],
  alternates: ["material", "component", "sites", "alternates"],
  new_material: ["partNumber", "description", "unitOfMeasure", "family", "riskClass", "regulatoryFlags", "gtin"],
  traceability_requirement: [
    "scope",
    "material",
    "family",
    "riskClass",
    "regulated",
    "minimumTracking",
    "containerRequired",
    "requiredScan",
    "justification",
    "references",
  ],
};
export const KIND_OPTIONS: readonly { value: Kind; label: string }[] = [
  { value: "tracking", label: "Tracking rule (at sites)" },
  { value: "attributes", label: "Material attributes (all sites)" },
  { value: "alternates", label: "BOM line alternates (at sites)" },
  { value: "new_material", label: "New material" },
  { value: "traceability_requirement", label: "Required traceability (plant-wide)" },
];
export function isKind(value: unknown): value is Kind {
  return typeof value === "string" && Object.hasOwn(KIND_FIELDS, value);
}

export interface ChangeRequestFormOptions {
  sites: readonly { code: string; name: string }[];
  families: readonly { code: string; name: string }[];
  materials: readonly { partNumber: string; description: string; riskClass: string }[];
  formats: readonly FormatChoice[];
}

/** The errors of a field of a change row, given only for the inputs of the row's selected kind (names are shared between kinds). */
export type KindErrors = (field: string, of: Kind) => FieldErrors[string];
