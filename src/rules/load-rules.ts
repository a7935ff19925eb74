/**
 * `--rules <file>`: declarative rules from a JSON or YAML file (one rule, or a list), checked
 * before anything is read; errors name the file and the rule.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../source/input-error';
import { declarativeRule, RuleSpecError } from './declarative';
import type { AnyRule } from './rule';

export function loadRuleFile(file: string): AnyRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
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
