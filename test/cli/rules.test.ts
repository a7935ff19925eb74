/** --rules (JSON and YAML) and --list-rules, through the built CLI. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { builtinRuleIds } from '../../src/rules/builtin';
import { parseNdjson, runCli, SAMPLES } from '../support/helpers';
import { countByRule, SAMPLE_INCIDENTS } from './samples';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'nla-rules-'));

describe('--rules and --list-rules', () => {
  it('runs the rules of a YAML file beside the built-in ones (the docs example)', () => {
    const run = runCli(['--rules', 'docs/examples/rules.yaml', 'samples/']);
    expect(run.status).toBe(0);
    const incidents = parseNdjson(run.stdout);
    const custom = new Set(['request-failures', 'task-stuck']);
    // The built-in rules find what they find without the file.
    expect(countByRule(incidents.filter((i) => !custom.has(i.rule)))).toEqual(SAMPLE_INCIDENTS);
    expect(incidents.filter((i) => custom.has(i.rule)).map((i) => [i.rule, i.summary])).toEqual([
      ['request-failures', '1 request(s) to docker-group failed (java.net.SocketTimeoutException); last: GET /v2/library/nginx/manifests/latest.'],
      ['task-stuck', "Task 'Compact blob store default' (blobstore.compact) started and did not finish within an hour."],
      // The broken server's cleanup started at 13:44:10, the last line before the JVM was killed.
      ['task-stuck', "Task 'Storage facet cleanup' (repository.storage-facet-cleanup) started and did not finish within an hour."],
    ]);
  });

  it('reads a JSON file too, with one rule or a list', () => {
    const file = path.join(tempDir(), 'rules.json');
    writeFileSync(
      file,
      JSON.stringify({
        id: 'jetty-started',
        title: 'Nexus started',
        severity: 'info',
        kind: 'single',
        prefilter: ['Started Sonatype Nexus'],
        match: { message: '^Started Sonatype Nexus (?<version>.+)$' },
        summary: 'Nexus {version} started',
        diagnosis: { cause: 'restart', explanation: 'Nexus restarted.', confidence: 'high', remediation: [] },
      }),
    );
    const incidents = parseNdjson(runCli(['--rules', file, 'samples/']).stdout).filter((i) => i.rule === 'jetty-started');
    expect(incidents.map((i) => i.summary)).toEqual(['Nexus OSS 3.86.2-01 started', 'Nexus OSS 3.86.2-01 started']);
  });

  it('a bad rules file is one clear line naming the file and the rule, exit 2, before reading any log', () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ id: 'broken', title: 't', severity: 'error', kind: 'single', prefilter: ['x'], match: { message: '(' }, summary: 's', diagnosis: { cause: 'c', explanation: 'e', confidence: 'low', remediation: [] } }]));
    const run = runCli(['--rules', bad, 'samples/']);
    expect([run.status, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(new RegExp(`^nexus-log-analyzer: error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: rule broken: match.message is not a regex this analyzer runs \\(RE2 syntax, linear time\\)`));
    const notYaml = path.join(dir, 'rules.yaml');
    writeFileSync(notYaml, 'id: [unclosed');
    expect(runCli(['--rules', notYaml, 'samples/']).stderr).toContain(`${notYaml}: not valid YAML`);
    expect(runCli(['--rules', path.join(dir, 'missing.yaml'), 'samples/']).stderr).toContain('cannot read the rules: ENOENT');
  });

  it('every built-in rule is on; --disable-rule leaves one out, an unknown one is a usage error; --rule only warns', () => {
    const all = parseNdjson(runCli(['samples/']).stdout);
    expect(all.filter((i) => i.rule === 'proxy-remote-unavailable').map((i) => i.subject?.name)).toEqual(['docker-proxy', 'maven-central']);
    const without = runCli(['--disable-rule', 'proxy-remote-unavailable', 'samples/']);
    expect(without.status).toBe(0);
    const { 'proxy-remote-unavailable': _left, ...rest } = SAMPLE_INCIDENTS;
    expect(countByRule(parseNdjson(without.stdout))).toEqual(rest);
    const bad = runCli(['--disable-rule', 'nope', 'samples/']);
    expect([bad.status, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toContain(`--disable-rule: no built-in rule 'nope' (there are: ${builtinRuleIds().join(', ')})`);
    const old = runCli(['--rule', 'proxy-remote-unavailable', 'samples/']);
    expect(old.status).toBe(0);
    expect(old.stderr).toContain('--rule proxy-remote-unavailable: every built-in rule is on by default now; --disable-rule <id> leaves one out');
    expect(countByRule(parseNdjson(old.stdout))).toEqual(SAMPLE_INCIDENTS);
  });

  it('--list-rules prints the catalogue, with --rules ones, and exits 0', () => {
    const run = runCli(['--list-rules', '--rules', 'docs/examples/rules.yaml']);
    expect(run.status).toBe(0);
    for (const id of [...builtinRuleIds(), 'request-failures', 'task-stuck']) expect(run.stdout).toMatch(new RegExp(`^${id}  \\((critical|error|warning|info), [a-z]+\\)$`, 'm'));
    expect(run.stdout).toContain('proxy-remote-unavailable  (warning, proxy)');
    expect(run.stdout).toContain('reads ERROR lines from V2ManifestUtilImpl holding "Manifest refers to missing layer"\n  reads WARN lines from V2Handlers holding "Invalid Manifest"');
    for (const id of builtinRuleIds()) expect(run.stdout).toMatch(new RegExp(`^  page: .*docs/rules/${id}\\.md$`, 'm'));
  });
  it('a rules path that is not a regular file, or too big, is refused before anything is read', () => {
    const run = runCli(['--rules', '/dev/zero', path.join(SAMPLES, 'nexus.log')]);
    expect([run.status, run.stderr]).toEqual([2, expect.stringMatching(/\/dev\/zero: the rules must be a regular file/)]);
  });
});
