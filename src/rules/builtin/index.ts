/** The built-in rule catalogue. Adding a rule: one file here, one page in docs/rules/. */
import { declarativeRule, type DeclarativeRuleSpec } from '../declarative';
import type { AnyRule } from '../rule';
import { blobstoreMissingBlob } from './blobstore-missing-blob';
import { dockerGcTaskFailed } from './docker-gc-task-failed';
import { dockerManifestMissingLayersRule } from './docker-manifest-missing-layers';
import { dockerManifestNpeProvenance } from './docker-manifest-npe-provenance';
import { proxyRemoteUnavailable } from './proxy-remote-unavailable';

/** Built-in rules written as data, in the same form users write theirs (docs/rules/custom-rules.md). */
export const BUILTIN_SPECS: readonly DeclarativeRuleSpec[] = [dockerManifestNpeProvenance, dockerGcTaskFailed, blobstoreMissingBlob, proxyRemoteUnavailable];

export interface BuiltinRuleOptions {
  /** Correlation window in log time for rules that pair events. */
  windowMs?: number;
}

export function builtinRules(options: BuiltinRuleOptions = {}): AnyRule[] {
  return [
    dockerManifestMissingLayersRule(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
    ...BUILTIN_SPECS.map((spec) => declarativeRule(spec)),
  ];
}
