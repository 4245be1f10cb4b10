/**
 * @c981/identifiers — what a printed identifier reads as, shared by the portal and the runtime
 * client (ADR 040): GS1 element strings, raw scans and Digital Link URIs (ADR 012), site pattern
 * formats, the look-alike decision (ADR 013), and scan decisions against a verified rule set.
 * Pure: no I/O, no clock; depends on zod only.
 *
 * The portal imports the modules by path (`packages/identifiers/src/look-alike`), so a browser
 * bundle that needs only the pattern grammar does not load the GS1 dictionary; this barrel is the
 * package's entry point for other packages (the runtime client).
 */
export * from "./gs1";
export * from "./identifies";
export * from "./identifier-format";
export * from "./format-overlap";
export * from "./look-alike";
export * from "./scan-decision";
export * from "./scan-request";
