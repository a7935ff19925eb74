/** The built-in rule catalogue. Adding a rule: one file here, one page in docs/rules/. */
import { declarativeRule, type DeclarativeRuleSpec } from '../declarative';
import type { AnyRule } from '../rule';
import { blobstoreMissingBlob } from './blobstore-missing-blob';
import { dockerGcTaskFailed } from './docker-gc-task-failed';
import { dockerManifestMissingLayersRule } from './docker-manifest-missing-layers';
import { dockerManifestNpeProvenance } from './docker-manifest-npe-provenance';
import { proxyConditionalGetIgnoredRule } from './proxy-conditional-get-ignored';
import { proxyRemoteUnavailable } from './proxy-remote-unavailable';

/** Built-in rules written as data, in the same form users write theirs (docs/rules/custom-rules.md). */
export const BUILTIN_SPECS: readonly DeclarativeRuleSpec[] = [dockerManifestNpeProvenance, dockerGcTaskFailed, blobstoreMissingBlob];

/**
 * Built-in rules that are off unless asked for (`--rule <id>`): what they read is common enough
 * in some logs (proxy failures by the thousand, HTTP debug headers) that they would slow every
 * analysis down; docs/performance.md has the figures.
 */
export const OPTIONAL_RULES: Readonly<Record<string, () => AnyRule>> = {
  'proxy-remote-unavailable': () => declarativeRule(proxyRemoteUnavailable),
  'proxy-conditional-get-ignored': () => proxyConditionalGetIgnoredRule(),
};

export interface BuiltinRuleOptions {
  /** Correlation window in log time for rules that pair events. */
  windowMs?: number;
  /** Optional built-in rules to add, by id (see OPTIONAL_RULES). */
  optional?: readonly string[];
}

export function builtinRules(options: BuiltinRuleOptions = {}): AnyRule[] {
  const optional = (options.optional ?? []).map((id) => {
    const make = OPTIONAL_RULES[id];
    if (make === undefined) throw new RangeError(`no optional built-in rule '${id}' (there are: ${Object.keys(OPTIONAL_RULES).join(', ')})`);
    return make();
  });
  return [
    dockerManifestMissingLayersRule(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
    ...BUILTIN_SPECS.map((spec) => declarativeRule(spec)),
    ...optional,
  ];
}
