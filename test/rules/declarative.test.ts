/** Declarative rules: the kinds, templates, validation, and the built-in rules written that way. */
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';

/** A declarative incident: the envelope plus the rule's key and captured fields. */
type DeclarativeIncident = Incident & { key: string; fields: Record<string, string> };
import { declarativeRule, fillTemplate, RuleSpecError, type DeclarativeRuleSpec } from '../../src/rules/declarative';
import { analyze } from '../support/helpers';

const at = (s: string): string => `2025-01-01 10:00:${s}+0000`;
const header = (time: string, level: string, message: string, thread = 't1', logger = 'org.x.Y'): string =>
  `${at(time)} ${level.padEnd(5)} [${thread}]  *SYSTEM ${logger} - ${message}`;

function spec(overrides: Partial<DeclarativeRuleSpec>): DeclarativeRuleSpec {
  return {
    id: 'test-rule',
    title: 'test',
    severity: 'warning',
    kind: 'single',
    prefilter: ['job'],
    match: { message: '^job (?<name>\\w+) failed' },
    summary: 'job {name} failed {count} time(s) on {thread}',
    diagnosis: { cause: 'job-failed', explanation: 'job {name} failed', confidence: 'low', remediation: ['rerun {name}'] },
    ...overrides,
  };
}

function run(rule: DeclarativeRuleSpec, lines: string[]): DeclarativeIncident[] {
  return analyze(lines.join('\n'), { rules: [declarativeRule(rule)] }) as DeclarativeIncident[];
}

describe('declarative rules', () => {
  it('single: every matching event is an incident, templates filled from groups and the event', () => {
    const out = run(spec({}), [header('00,000', 'WARN', 'job a failed'), header('01,000', 'WARN', 'job b failed'), header('02,000', 'WARN', 'job c ok')]);
    expect(out.map((i) => [i.summary, i.fields, i.diagnosis.remediation])).toEqual([
      ['job a failed 1 time(s) on t1', { name: 'a' }, ['rerun a']],
      ['job b failed 1 time(s) on t1', { name: 'b' }, ['rerun b']],
    ]);
  });

  it('threshold: counts per key within the window; below the threshold is no incident', () => {
    const rule = spec({ kind: 'threshold', threshold: 2, key: '{name}', windowMs: 5_000 });
    const out = run(rule, [
      header('00,000', 'WARN', 'job a failed'),
      header('01,000', 'WARN', 'job a failed'),
      header('02,000', 'WARN', 'job b failed'),
      header('03,000', 'WARN', 'job a failed'),
    ]);
    expect(out.map((i) => [i.key, i.count])).toEqual([['a', 3]]);
    expect(out[0]?.summary).toBe('job a failed 3 time(s) on t1');
  });

  it('pair: the end event completes the group; a group whose end never came is reported too', () => {
    const rule = spec({ kind: 'pair', prefilter: ['job'], match: { message: '^job (?<name>\\w+) started' }, end: { message: '^job (?<name>\\w+) crashed' }, key: '{name}', windowMs: 5_000 });
    const out = run(rule, [header('00,000', 'INFO', 'job a started'), header('01,000', 'ERROR', 'job a crashed'), header('02,000', 'INFO', 'job b started')]);
    expect(out.map((i) => [i.key, i.closeReason, i.evidence.length])).toEqual([
      ['a', 'matched', 2],
      ['b', 'end-of-input', 1],
    ]);
  });

  it('absence: an incident only when the end does not come within the window', () => {
    const rule = spec({ kind: 'absence', match: { message: '^job (?<name>\\w+) started' }, end: { message: '^job (?<name>\\w+) done' }, key: '{name}', windowMs: 5_000 });
    const analyzer = new Analyzer({ rules: [declarativeRule(rule)] });
    const out = [
      ...analyzer.write([header('00,000', 'INFO', 'job a started'), header('01,000', 'INFO', 'job a done'), header('02,000', 'INFO', 'job b started'), header('30,000', 'INFO', 'job c done'), ''].join('\n')),
      ...analyzer.end(),
    ] as DeclarativeIncident[];
    expect(out.map((i) => [i.key, i.closeReason])).toEqual([['b', 'window']]);
    expect(analyzer.stats.discarded).toBe(2); // a (its end came) and the lone end of c
  });

  it('filters by level, logger and continuation lines', () => {
    const rule = spec({ match: { message: '^job (?<name>\\w+) failed', level: 'ERROR', logger: 'Jobs$', continuation: 'Caused by: (?<root>\\S+)' } });
    const out = run(rule, [
      header('00,000', 'WARN', 'job a failed', 't1', 'org.Jobs'),
      header('01,000', 'ERROR', 'job b failed', 't1', 'org.Other'),
      header('02,000', 'ERROR', 'job c failed', 't1', 'org.Jobs'),
      header('03,000', 'ERROR', 'job d failed', 't1', 'org.Jobs'),
      'Caused by: java.io.IOException',
    ]);
    expect(out.map((i) => i.fields)).toEqual([{ name: 'd', root: 'java.io.IOException' }]);
  });

  it('templates take the first of {a|b} that has a value, and ? for none', () => {
    expect(fillTemplate('{a|b}-{c}', { b: 'B' })).toBe('B-?');
  });

  it('explains a spec it cannot use, naming the rule and the field', () => {
    expect(() => declarativeRule({ ...spec({}), kind: 'sometimes' as never })).toThrow(new RuleSpecError('rule test-rule: kind must be one of single, threshold, pair, absence'));
    expect(() => declarativeRule(spec({ prefilter: [] }))).toThrow(/literals \(or prefilter\) must list at least one/);
    expect(() => declarativeRule(spec({ match: { message: '(' } }))).toThrow(/match.message is not a regex this analyzer runs/);
    expect(() => declarativeRule(spec({ levels: ['LOUD'] }))).toThrow(/levels must list levels/);
    expect(() => declarativeRule(spec({ kind: 'pair' }))).toThrow(/kind pair needs an end pattern/);
    expect(() => declarativeRule(spec({ id: 'Bad Id' }))).toThrow(/id must be kebab-case/);
  });
});

describe('declarative rules cannot hang the analyzer', () => {
  it('runs catastrophic patterns in linear time (RE2): (a+)+$ on a long line of a\'s', () => {
    const rule = spec({ prefilter: ['aaaa'], match: { message: '(a+)+$' }, levels: ['WARN'] });
    const out = run(rule, [header('00,000', 'WARN', `${'a'.repeat(200_000)}!`), header('01,000', 'WARN', 'aaaa')]);
    expect(out).toHaveLength(1); // only the second line matches; the first one is searched in linear time
  });

  it('refuses what RE2 does not have, naming the construct: backreferences and lookaround', () => {
    expect(() => declarativeRule(spec({ match: { message: '(a)\\1' } }))).toThrow(/match.message .*invalid escape sequence: `\\1`/);
    expect(() => declarativeRule(spec({ match: { message: '(?=a)b' } }))).toThrow(/match.message .*unsupported Perl syntax: `\(\?=`/);
    expect(() => declarativeRule(spec({ match: { message: 'x', logger: '(?<=a)b' } }))).toThrow(/match.logger/);
  });

  it('refuses a pattern whose counted repetitions would compile too large (re2js has no size limit)', () => {
    expect(() => declarativeRule(spec({ match: { message: 'x{1000}y{1000}z{1000}'.repeat(100) } }))).toThrow(/match.message .*counted repetitions make this pattern about 300300 steps/);
    expect(() => declarativeRule(spec({ match: { message: '(a{200}){200}' } }))).toThrow(/counted repetitions/);
    expect(() => declarativeRule(spec({ match: { message: '^Task (?<name>.+?) failed [a-z]{2,5}\\d{1,4}$' } }))).not.toThrow();
  });
});
