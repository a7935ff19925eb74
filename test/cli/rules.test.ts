/** --rules (JSON and YAML) and --list-rules, through the built CLI. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseNdjson, runCli } from '../support/helpers';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'nla-rules-'));

describe('--rules and --list-rules', () => {
  it('runs the rules of a YAML file beside the built-in ones (the docs example)', () => {
    const run = runCli(['--rules', 'docs/examples/rules.yaml', 'samples/']);
    expect(run.status).toBe(0);
    const incidents = parseNdjson(run.stdout);
    expect(incidents.filter((i) => i.rule === 'docker-manifest-missing-layers')).toHaveLength(11);
    expect(incidents.filter((i) => i.rule !== 'docker-manifest-missing-layers').map((i) => [i.rule, i.summary])).toEqual([
      ['request-failures', '1 request(s) to docker-group failed (java.net.SocketTimeoutException); last: GET /v2/library/nginx/manifests/latest.'],
      ['task-stuck', "Task 'Compact blob store default' (blobstore.compact) started and did not finish within an hour."],
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
    expect(run.stderr).toMatch(new RegExp(`^nexus-log-analyzer: error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: rule broken: match.message is not a valid regex`));
    const notYaml = path.join(dir, 'rules.yaml');
    writeFileSync(notYaml, 'id: [unclosed');
    expect(runCli(['--rules', notYaml, 'samples/']).stderr).toContain(`${notYaml}: not valid YAML`);
    expect(runCli(['--rules', path.join(dir, 'missing.yaml'), 'samples/']).stderr).toContain('cannot read the rules: ENOENT');
  });

  it('--rule turns on an optional built-in rule; an unknown one is a usage error', () => {
    const on = parseNdjson(runCli(['--rule', 'proxy-remote-unavailable', 'samples/']).stdout).filter((i) => i.rule === 'proxy-remote-unavailable');
    expect(on.map((i) => i.summary)).toEqual(['Proxy repository docker-proxy cannot reach its remote: 1 failure(s) or block(s); last: java.net.UnknownHostException: registry-1.docker.io.']);
    expect(parseNdjson(runCli(['samples/']).stdout).some((i) => i.rule === 'proxy-remote-unavailable')).toBe(false);
    const bad = runCli(['--rule', 'nope', 'samples/']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--rule: no optional built-in rule 'nope' (there are: proxy-remote-unavailable, proxy-conditional-get-ignored)");
  });

  it('--list-rules prints the catalogue, with --rules ones, and exits 0', () => {
    const run = runCli(['--list-rules', '--rules', 'docs/examples/rules.yaml']);
    expect(run.status).toBe(0);
    for (const id of ['docker-manifest-missing-layers', 'docker-manifest-npe-provenance', 'docker-gc-task-failed', 'blobstore-missing-blob', 'request-failures', 'task-stuck']) {
      expect(run.stdout).toContain(`${id}  (`);
    }
    expect(run.stdout).toContain('proxy-remote-unavailable  (warning, optional: --rule proxy-remote-unavailable)');
    expect(run.stdout).toContain('proxy-conditional-get-ignored  (warning, optional: --rule proxy-conditional-get-ignored)');
    expect(run.stdout).toContain('looks for, in ERROR/WARN lines: "Manifest refers to missing layer", "Invalid Manifest"');
  });
});
