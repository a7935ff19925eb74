/**
 * nexus-log-analyzer: Sonatype Nexus Repository logs in, structured incidents out.
 * The whole public API; see docs/api.md.
 */
export {
  Analyzer,
  DEFAULTS,
  type AnalyzerOptions,
  type AnalyzerSnapshot,
  type AnalyzerStats,
  type ExtractedRecord,
  type PushMeta,
  type ReadingPlan,
} from './analyzer';
export { CheckpointError } from './snapshot-validation';
export type { SourceCounters } from './events/event-sink';
export type { AnyEvent, AuditEvent, Evidence, InputKind, LogEvent, NexusEvent, OutboundEvent, RequestEvent } from './events/log-event';
export type { EngineCounters, EngineState } from './incidents/engine';
export { INCIDENT_SCHEMA_VERSION, SEVERITIES, atLeast } from './incidents/incident';
export type { Category, CloseReason, Diagnosis, DistinctValues, Fact, Incident, Lifecycle, Reference, Severity, Subject } from './incidents/incident';
export { RuleError } from './rules/rule';
export type {
  AnyRule,
  AuditReads,
  CauseLink,
  Enrichment,
  Finding,
  FindingDiagnosis,
  GroupView,
  HttpLogReads,
  Level,
  Literal,
  NexusReads,
  ParkedGroup,
  ReadSpec,
  Rule,
  SubjectType,
} from './rules/rule';
export { allBuiltinRules, builtinRuleIds, builtinRules, type BuiltinRuleOptions } from './rules/builtin/index';
export {
  DOCKER_MANIFEST_MISSING_LAYERS,
  dockerManifestMissingLayers,
  isDockerPushIncident,
  type DockerManifestRuleOptions,
  type DockerPushFields,
  type LayerCheck,
  type PushClient,
  type PushRequest,
} from './rules/builtin/docker-manifest-missing-layers';
export { formatImageRef } from './rules/builtin/docker-messages';
/** A failed Docker push: the common fields and the push's own (`isDockerPushIncident` narrows to it). */
export type DockerPushIncident = import('./incidents/incident').Incident & import('./rules/builtin/docker-manifest-missing-layers').DockerPushFields;
export { PROXY_CONDITIONAL_GET_IGNORED } from './rules/builtin/proxy-conditional-get-ignored';
export { createAnalyzer, AnalyzerStream, type AnalyzerStreamOptions } from './api/create-analyzer';
export { analyzeFiles, type AnalyzeFilesOptions } from './api/analyze-files';
export { InputError } from './source/input-error';
export { followFile, type FollowOptions, type FollowReady, type FollowWarning } from './source/follow-file';
export type { SupportZipInfo } from './source/support-zip';
export { declarativeRule, fillTemplate, RuleSpecError, type DeclarativeRuleSpec, type EventPattern, type RuleKind } from './rules/declarative';
export { loadRuleFile } from './rules/load-rules';
