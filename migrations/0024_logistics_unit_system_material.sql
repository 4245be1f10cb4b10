ALTER TABLE "materials" ADD COLUMN "system_role" text;--> statement-breakpoint
CREATE UNIQUE INDEX "materials_system_role" ON "materials" USING btree ("system_role");--> statement-breakpoint
ALTER TABLE "materials" ADD CONSTRAINT "materials_system_role_known" CHECK ("materials"."system_role" IS NULL OR ("materials"."system_role" = 'logistics_unit' AND "materials"."gtin" IS NULL));--> statement-breakpoint
-- ===== Hand-written (ADR 014, "Containers"): the logistics-unit system material. An EPCIS import
-- ===== places every container (SSCC) under it instead of under the first trade item it holds.
-- ===== It is no tracked product: no GTIN, no tracking rule, never created by a change request;
-- ===== the catalogue and the ERP/PLM reconciliation leave it out (materials.system_role). This
-- ===== migration is its change record. Idempotent; refuses to take over a product that already
-- ===== uses the part number.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM materials WHERE part_number = 'C981-LOGISTICS-UNIT' AND system_role IS DISTINCT FROM 'logistics_unit') THEN
    RAISE EXCEPTION 'C-981: a material with part number C981-LOGISTICS-UNIT already exists and is no system material; rename it through a change request before migrating (ADR 014)';
  END IF;
  INSERT INTO material_families (code, name) VALUES ('C981-SYSTEM', 'C-981 system materials (no tracked product)')
    ON CONFLICT (code) DO NOTHING;
  INSERT INTO materials (part_number, gtin, description, unit_of_measure, risk_class, family_id, system_role)
    SELECT 'C981-LOGISTICS-UNIT', NULL, 'Logistics unit (SSCC container): holds what its genealogy edges say, no material of its own', 'EA', 'low', f.id, 'logistics_unit'
    FROM material_families f WHERE f.code = 'C981-SYSTEM'
    ON CONFLICT (system_role) DO NOTHING;
END;
$$;
-- ===== End of hand-written block.
