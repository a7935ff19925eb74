/** The built-in rule catalogue. Adding a rule: one file here, one page in docs/rules/. */
import type { AnyRule } from '../rule';
import { dockerManifestMissingLayersRule } from './docker-manifest-missing-layers';

export interface BuiltinRuleOptions {
  /** Correlation window in log time for rules that pair events. */
  windowMs?: number;
}

export function builtinRules(options: BuiltinRuleOptions = {}): AnyRule[] {
  return [dockerManifestMissingLayersRule(options.windowMs === undefined ? {} : { windowMs: options.windowMs })];
}
