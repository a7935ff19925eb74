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
} from './analyzer';
export type { ExtractorOptions, ExtractorState, SourceCounters } from './events/event-extractor';
export type { EngineCounters, EngineState } from './rules/engine';
export type { LogEvent } from './events/log-event';
export type { CloseReason, Diagnosis, Evidence, Incident, Lifecycle, Reference, Severity } from './incidents/incident';
export { INCIDENT_SCHEMA_VERSION } from './incidents/incident';
export type { CorrelationRule, GroupSpan } from './rules/rule';
export { BUILTIN_SPECS, builtinRules, OPTIONAL_RULES, type BuiltinRuleOptions } from './rules/builtin/index';
export {
  DOCKER_MANIFEST_MISSING_LAYERS,
  dockerManifestMissingLayersRule,
  isDockerPushIncident,
  type DockerManifestRuleOptions,
  type DockerPushIncident,
  type PushRequest,
} from './rules/builtin/docker-manifest-missing-layers';
export { formatImageRef } from './rules/builtin/docker-messages';
export { createAnalyzer, AnalyzerStream, type AnalyzerStreamOptions } from './api/create-analyzer';
export { analyzeFiles, type AnalyzeFilesOptions } from './api/analyze-files';
export { InputError } from './source/input-error';
export { followFile, type FollowOptions } from './source/follow-file';
export {
  declarativeRule,
  fillTemplate,
  RuleSpecError,
  type DeclarativeIncident,
  type DeclarativeRuleSpec,
  type EventPattern,
  type RuleKind,
} from './rules/declarative';
export { loadRuleFile } from './rules/load-rules';
export type { LayerCheck, PushClient } from './rules/builtin/docker-manifest-missing-layers';
export {
  PROXY_CONDITIONAL_GET_IGNORED,
  proxyConditionalGetIgnoredRule,
  type ConditionalGetIncident,
} from './rules/builtin/proxy-conditional-get-ignored';
