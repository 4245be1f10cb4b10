export { RuntimeClient, RULE_SET_FILE, STATE_FILE, type ClientEvent, type Failure, type OnExpiry, type RuntimeClientOptions } from "./client";
export {
  ruleSetDocumentSchema,
  ruleSetDocumentV1Schema,
  ruleSetDocumentV2Schema,
  RULE_SET_JWS_TYPE,
  RULE_SET_TYPE,
  type RuleSetDocument,
  type RuleSetDocumentV1,
  type RuleSetDocumentV2,
} from "./document";
export { DEFAULT_MAX_BYTES, RuleSetRefused, trustStoreFrom, verifyRuleSet, type RefusalCode, type TrustStore, type VerifiedRuleSet } from "./verify";
export { MAX_REFUSAL_SAMPLES, ScanJournal, scanRequestSchema, ScanUnavailable, type ScanJournalOptions, type ScanReport, type ScanRequest } from "./scan";
