/**
 * The demo plant's required traceability (ADR 035): what its quality system promises, as written by its
 * quality engineers. Risk class + regulated flag give the defaults; the RAW family and SUB-1005 have their
 * own. The references are the demo plant's own (fictional) risk assessments and the clauses they rest on.
 */
import type { TraceabilityRequirement } from "../domain/traceability-requirement";

export const DEMO_TRACEABILITY_POLICY: readonly TraceabilityRequirement[] = [
  {
    scope: "risk_class",
    riskClass: "high",
    regulated: true,
    minimumTracking: "serial",
    containerRequired: false,
    requiredScan: "identify",
    justification:
      "Regulated devices and safety-critical subassemblies of the highest risk class: a field action must name the affected units, so every unit is traceable by serial and identified when it is consumed.",
    references: ["RA-DEMO-001", "21 CFR 820.65", "21 CFR 830 (UDI)", "ISO 13485:2016 7.5.9.2"],
  },
  {
    scope: "risk_class",
    riskClass: "high",
    regulated: false,
    minimumTracking: "lot",
    containerRequired: false,
    requiredScan: "identify",
    justification:
      "High-risk parts without a regulatory flag: a failure is contained by lot (one build batch), and the lot is identified at consumption so the genealogy holds it.",
    references: ["RA-DEMO-002", "ISO 13485:2016 7.5.9.1"],
  },
  {
    scope: "risk_class",
    riskClass: "medium",
    regulated: true,
    minimumTracking: "lot",
    containerRequired: false,
    requiredScan: "identify",
    justification: "Regulated medium-risk parts: lot traceability with the lot identified at consumption.",
    references: ["RA-DEMO-003", "ISO 13485:2016 7.5.9.1"],
  },
  {
    scope: "risk_class",
    riskClass: "medium",
    regulated: false,
    minimumTracking: "lot",
    containerRequired: false,
    requiredScan: "verify",
    justification:
      "Medium-risk parts: lot traceability; verifying the material at consumption is enough because the lot in use is known from the line's issue record.",
    references: ["RA-DEMO-004", "ISO 13485:2016 7.5.9.1"],
  },
  {
    scope: "risk_class",
    riskClass: "low",
    regulated: true,
    minimumTracking: "lot",
    containerRequired: false,
    requiredScan: "verify",
    justification: "Regulated low-risk parts: lot traceability; the material is verified at consumption.",
    references: ["RA-DEMO-005", "ISO 13485:2016 7.5.9.1"],
  },
  {
    scope: "risk_class",
    riskClass: "low",
    regulated: false,
    minimumTracking: "none",
    containerRequired: false,
    requiredScan: "none",
    justification:
      "Low-risk consumables and packaging: no unit or lot traceability is required; the risk assessment found no failure mode a lot would contain. Receiving inspection covers them.",
    references: ["RA-DEMO-006", "ISO 13485:2016 7.5.8"],
  },
  {
    scope: "family",
    family: "RAW",
    minimumTracking: "lot",
    containerRequired: true,
    requiredScan: "identify",
    justification:
      "Raw material is certified per heat or lot (certificate of conformance); the supplier's container carries that lot, so containers are tracked and the lot is identified where it is consumed.",
    references: ["RA-DEMO-010", "ISO 13485:2016 7.4.3", "EN 10204 3.1"],
  },
  {
    scope: "material",
    partNumber: "SUB-1005",
    minimumTracking: "serial",
    containerRequired: false,
    requiredScan: "identify",
    justification:
      "Pump drive: field complaints traced to individual drives (CAPA-DEMO-17); each drive is serialized and identified at consumption so a recall names the pumps that hold it.",
    references: ["RA-DEMO-017", "CAPA-DEMO-17", "21 CFR 820.65"],
  },
];
