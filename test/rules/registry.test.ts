/**
 * The catalogue as a whole: every built-in rule has its page, and no rule's parsing can be made
 * slow by a long message. For each nexus.log read spec of each rule, a ~100 KB message made of its
 * own literals and the separators its parsers look for (quotes, brackets, colons, ` - `, paths)
 * goes through that rule; a super-linear parser would take minutes on it, and the test's timeout
 * (generous, for a loaded CI machine) catches that without timing anything itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Analyzer } from '../../src/analyzer';
import { builtinRules } from '../../src/rules/builtin';
import type { AnyRule, NexusReads } from '../../src/rules/rule';
import { ROOT } from '../support/helpers';
import { adversarial, line } from '../support/rule-lines';

const RULES = builtinRules();

/** Pieces that make hand-written parsers and regexes work hardest, around a literal. */
const NOISE = [": '", ' - ', "[x] (a, b) {k=v, name='", '/a/b/ at "q": \t, will check remote '];

function literalsOf(spec: NexusReads): string[] {
  return spec.literals.map((literal) => (typeof literal === 'string' ? literal : literal.text));
}

function nexusSpecs(rule: AnyRule): NexusReads[] {
  return rule.reads.filter((spec): spec is NexusReads => !('input' in spec) || spec.input === undefined || spec.input === 'nexus' || spec.input === 'task');
}

describe('the built-in catalogue', () => {
  it('has unique ids, and a page per rule that names it', () => {
    expect(new Set(RULES.map((rule) => rule.id)).size).toBe(RULES.length);
    for (const rule of RULES) {
      const page = path.join(ROOT, 'docs', 'rules', rule.docs ?? `${rule.id}.md`);
      expect([rule.id, existsSync(page)]).toEqual([rule.id, true]);
      const text = readFileSync(page, 'utf8');
      expect(text.startsWith('# ')).toBe(true);
      expect(text).toContain(rule.id);
    }
  });

  describe.each(RULES.map((rule) => [rule.id, rule] as const))('%s on long adversarial messages', (_id, rule) => {
    it('reads each of its specs in linear time (a message of ~100 KB per literal and separator)', () => {
      for (const spec of nexusSpecs(rule)) {
        const level = spec.levels[0] ?? 'WARN';
        const logger = spec.loggers?.[0] !== undefined ? `org.sonatype.nexus.${spec.loggers[0]}` : 'org.sonatype.nexus.Any';
        for (const literal of literalsOf(spec)) {
          for (const noise of NOISE) {
            const message = `${literal}${adversarial(`${literal}${noise}`, 100_000)}`;
            const lines = [line(0, level, logger, message), ...(spec.continuation === true ? [`java.lang.IllegalStateException: ${adversarial(`${noise}${literal}`, 30_000)}`] : [])];
            const analyzer = new Analyzer({ rules: [rule] });
            analyzer.write(`${lines.join('\n')}\n`);
            analyzer.end();
          }
        }
      }
    }, 120_000);
  });
});
