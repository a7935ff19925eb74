/** Declarative rules: the kinds, templates, validation, and the built-in rules written that way. */
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';
import { declarativeRule, fillTemplate, RuleSpecError, type DeclarativeIncident, type DeclarativeRuleSpec } from '../../src/rules/declarative';
import { builtinRules } from '../../src/rules/builtin/index';
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
    expect(() => declarativeRule(spec({ prefilter: [] }))).toThrow(/prefilter must list at least one/);
    expect(() => declarativeRule(spec({ match: { message: '(' } }))).toThrow(/match.message is not a valid regex/);
    expect(() => declarativeRule(spec({ kind: 'pair' }))).toThrow(/kind pair needs an end pattern/);
    expect(() => declarativeRule(spec({ id: 'Bad Id' }))).toThrow(/id must be kebab-case/);
  });
});

describe('built-in rules written as data', () => {
  const byRule = (text: string, rule: string): Incident[] => analyze(text, { rules: builtinRules() }).filter((i) => i.rule === rule);

  it('docker-manifest-npe-provenance: the PUT error followed by the NPE on digest', () => {
    const text = [
      `${at('00,000')} WARN  [qtp1-9]  ci-bot org.sonatype.nexus.repository.docker.internal.V2Handlers - Error: PUT /v2/team/app/manifests/1.0`,
      "java.lang.NullPointerException: Cannot get property 'digest' on null object",
      '\tat org.codehaus.groovy.runtime.NullObject.getProperty(NullObject.java:60)',
      header('01,000', 'INFO', 'next'),
    ].join('\n');
    const [incident] = byRule(text, 'docker-manifest-npe-provenance') as DeclarativeIncident[];
    expect(incident?.fields).toMatchObject({ image: 'team/app', reference: '1.0' });
    expect(incident?.summary).toContain('team/app:1.0 by ci-bot failed');
    expect(incident?.diagnosis.remediation[0]).toContain('--provenance=false');
    // The 400 Invalid Manifest of a missing-layers push is not this rule's.
    expect(byRule(`${at('00,000')} WARN  [t]  u org.sonatype.nexus.repository.docker.internal.V2Handlers - Error: PUT /v2/a/manifests/1: 400 - x.V2Exception: Invalid Manifest`, 'docker-manifest-npe-provenance')).toEqual([]);
  });

  it('docker-gc-task-failed: the task and the repository', () => {
    const text = `${at('00,000')} ERROR [quartz-10-thread-3]  *SYSTEM org.sonatype.nexus.repository.docker.internal.DockerGCTask - Failed to run task 'Purge unused docker manifests and images' on repository 'docker-hosted'\norg.sonatype.nexus.repository.docker.internal.V2Exception$ManifestInvalid: manifest invalid`;
    const [incident] = byRule(text, 'docker-gc-task-failed') as DeclarativeIncident[];
    expect(incident?.fields).toEqual({ task: 'Purge unused docker manifests and images', repository: 'docker-hosted' });
    expect(incident?.severity).toBe('warning');
  });

  it('blobstore-missing-blob: every message form, counted per blob', () => {
    const blob = 'default@7DB8E3A8-5B8A4A0B:2b5d38f1-5a8c-4f8e-9a4b-0c1f2d3e4f50';
    const text = [
      header('00,000', 'WARN', `Blob ${blob} exists in metadata, but is missing from the blobstore`),
      `${at('00,500')} WARN  [qtp1-3]  anonymous org.sonatype.nexus.blobstore.file.FileBlobStore - Can't open input stream to blob ${blob} as file /nexus-data/blobs/default/content/vol-01/chap-02/2b5d.bytes not found`,
      header('01,000', 'WARN', `Attempt to access non-existent blob attributes file /nexus-data/blobs/default/content/vol-09/chap-11/aaaa.properties for blob default@X:other`),
    ].join('\n');
    const incidents = byRule(text, 'blobstore-missing-blob') as DeclarativeIncident[];
    expect(incidents.map((i) => [i.key, i.count])).toEqual([
      [blob, 2],
      ['default@X:other', 1],
    ]);
    expect(incidents[0]?.summary).toBe(`Blob ${blob} is missing from its blob store: 2 failed read(s).`);
  });
});

describe('optional built-in rules', () => {
  it('proxy-remote-unavailable counts fetch failures and auto-blocks per repository', () => {
    const text = [
      `${at('00,000')} WARN  [qtp-1]  anonymous org.sonatype.nexus.repository.proxy.ProxyFacetSupport - Exception java.net.UnknownHostException: registry-1.docker.io checking remote for update, proxy repo docker-proxy failed to fetch library/alpine/manifests/3.20, content not in cache.`,
      `${at('00,500')} INFO  [qtp-2]  anonymous org.sonatype.nexus.repository.httpclient.internal.HttpClientFacetImpl - Repository status for docker-proxy changed from AVAILABLE to AUTO_BLOCKED_UNAVAILABLE - reason java.net.UnknownHostException: registry-1.docker.io`,
      `${at('01,000')} INFO  [qtp-3]  *SYSTEM org.sonatype.nexus.repository.httpclient.internal.HttpClientFacetImpl - Repository status for maven-central changed from READY to AVAILABLE - reason n/a for n/a`,
    ].join('\n');
    const incidents = analyze(text, { rules: builtinRules({ optional: ['proxy-remote-unavailable'] }) }).filter((i) => i.rule === 'proxy-remote-unavailable') as DeclarativeIncident[];
    expect(incidents.map((i) => [i.key, i.count])).toEqual([['docker-proxy', 2]]);
    expect(incidents[0]?.summary).toBe('Proxy repository docker-proxy cannot reach its remote: 2 failure(s) or block(s); last: java.net.UnknownHostException: registry-1.docker.io.');
    expect(() => builtinRules({ optional: ['nope'] })).toThrow(RangeError);
  });
});
