/**
 * `--rules <file>`: declarative rules from a JSON or YAML file (one rule, or a list), or code
 * rules from a JavaScript module (CommonJS: `module.exports = rule` or a list, or
 * `exports.rules`), checked before anything is read; errors name the file and the rule.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../source/input-error';
import { declarativeRule, RuleSpecError } from './declarative';
import type { AnyRule } from './rule';

/** Rules files are read whole: real ones are a few KB; a cap keeps a wrong path (/dev/zero, a log) from taking the memory. */
export const MAX_RULES_FILE_BYTES = 4 * 1024 * 1024;

export function loadRuleFile(file: string): AnyRule[] {
  if (/\.c?js$/i.test(file)) return loadRuleModule(file);
  let text: string;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) throw new InputError(file, 'the rules must be a regular file');
    if (stats.size > MAX_RULES_FILE_BYTES) throw new InputError(file, `the rules file is ${stats.size} bytes, more than the ${MAX_RULES_FILE_BYTES} a rules file may have: is it the right file?`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(file, `cannot read the rules: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let data: unknown;
  try {
    // yaml is loaded only for YAML files: it weighs on every start-up otherwise.
    data = /\.ya?ml$/i.test(file) ? (require('yaml') as typeof import('yaml')).parse(text) : JSON.parse(text);
  } catch (error) {
    throw new InputError(file, `not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message.split('\n')[0]}`);
  }
  const specs = Array.isArray(data) ? data : [data];
  try {
    return specs.map((spec) => declarativeRule(spec));
  } catch (error) {
    if (error instanceof RuleSpecError) throw new InputError(file, error.message);
    throw error;
  }
}

/** A JavaScript module of rules written against the Rule interface (docs/rules/writing-a-rule.md). */
function loadRuleModule(file: string): AnyRule[] {
  let exported: unknown;
  try {
    exported = require(path.resolve(file)) as unknown;
  } catch (error) {
    throw new InputError(file, `cannot load the rules module: ${firstLineOf(error)}`);
  }
  try {
    return checkedModuleRules(file, exported);
  } catch (error) {
    if (error instanceof InputError) throw error;
    // A getter of the module that throws (`get id() { throw ... }`): the module's fault, named as such.
    throw new InputError(file, `cannot read the rules module: ${firstLineOf(error)}`);
  }
}

/** The first line of whatever was thrown: an Error's message, or the value itself (`throw null`, `throw 'text'`). */
function firstLineOf(thrown: unknown): string {
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  return text.split('\n')[0] ?? text;
}

function checkedModuleRules(file: string, exported: unknown): AnyRule[] {
  const value = (exported as { rules?: unknown; default?: unknown } | null)?.rules ?? (exported as { default?: unknown } | null)?.default ?? exported;
  const rules = Array.isArray(value) ? value : [value];
  rules.forEach((rule, index) => {
    const r = rule as Partial<AnyRule> | null;
    const name = typeof r?.id === 'string' ? `rule ${r.id}` : `rule #${index + 1}`;
    const missing = (['id', 'title', 'severity', 'category', 'reads', 'windowMs', 'match', 'key', 'open', 'add', 'describe'] as const).filter((field) => r?.[field] === undefined);
    if (missing.length > 0) throw new InputError(file, `${name}: missing ${missing.join(', ')} (the Rule interface: docs/rules/writing-a-rule.md)`);
    if (!Array.isArray(r?.reads) || r.reads.length === 0) throw new InputError(file, `${name}: reads must list at least one read spec`);
  });
  return rules as AnyRule[];
}
