/** End-to-end: the built CLI (bin/ -> dist/) on samples and fixtures, as a user runs it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Incident } from '../../src/incidents/incident';
import { CLI, missingLayerLine, parseNdjson, rejectionLine, ROOT, runCli, SAMPLES } from '../support/helpers';
import { countByRule, SAMPLE_INCIDENTS, SAMPLE_PUSHES, sampleSize, ZIP_INFO } from './samples';

const SEED = path.join('samples', 'nexus-seed-excerpt.log');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'nla-cli-'));
}

describe('CLI', () => {
  it('analyzes the samples directory: one NDJSON incident per problem, the support zip named on stderr, exit 0', () => {
    const run = runCli(['samples/']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(ZIP_INFO);
    const incidents = parseNdjson(run.stdout);
    expect(countByRule(incidents)).toEqual(SAMPLE_INCIDENTS);
    for (const incident of incidents) {
      expect(incident.id).toMatch(/^[0-9a-f]{16}$/);
      expect(incident.firstSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const pushes = incidents.filter((i) => i.rule === 'docker-manifest-missing-layers') as Array<Incident & { image: string; reference: string }>;
    expect(pushes.map((i) => `${i.image}:${i.reference}`).sort()).toEqual(SAMPLE_PUSHES);
    expect(pushes.every((i) => i.severity === 'error')).toBe(true);
    // The broken server's zip entries are named zip!entry in the evidence.
    const zipped = incidents.filter((i) => i.evidence.some((e) => e.source.startsWith('samples/support-20261202-143000-1.zip!log/')));
    expect(countByRule(zipped)).toEqual({
      'docker-manifest-missing-layers': 1,
      'server-run': 2,
      'proxy-remote-unavailable': 1,
      'open-file-limit-low': 2,
      'task-failed': 2,
      'proxy-auto-blocked': 1,
      'blobstore-missing-blob': 1,
      'jvm-heap-pressure': 1,
      'jvm-out-of-memory': 1,
    });
  });

  it('reads stdin when given no path, and with -', () => {
    const input = readFileSync(path.join(ROOT, SEED));
    for (const args of [[], ['-']]) {
      const run = runCli(args, { input });
      expect(run.status).toBe(0);
      const [incident] = parseNdjson(run.stdout);
      expect(incident?.evidence[0]?.source).toBe('-');
      expect((incident as unknown as { repository: string }).repository).toBe('ctbots-docker');
    }
  });

  it('reads files, globs and .gz and merges them in time order', () => {
    const run = runCli(['samples/nexus.log', 'samples/nexus-*.gz']);
    expect(run.status).toBe(0);
    const gateway = parseNdjson(run.stdout).find((i) => (i as unknown as { image: string }).image === 'payments/gateway');
    expect(gateway?.closeReason).toBe('matched');
  });

  it('prints a readable block per incident with --format pretty, and a closing count', () => {
    const run = runCli(['--format', 'pretty', SEED]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Docker push of ctbots/base/llamafactory:pytorch2.7.1-cu12.8-flashattn2.7.4');
    expect(run.stdout).toMatch(/repository\s+ctbots-docker/);
    expect(run.stdout).toContain('the manifest refers\n  to 5 layers the repository does not have.');
    for (const layer of ['6414378b6477', 'ad69d3880477', '2d01ee89ef0b', '7d21de8cade1', '4b650590013c']) expect(run.stdout).toContain(`sha256:${layer}`);
    expect(run.stdout).toMatch(/fix\s+1\. /);
    expect(run.stdout).toContain('1 incident in 10 lines.');
    expect(run.stdout).not.toContain('\u001b[');
    for (const line of run.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('defaults to pretty, coloured output on a terminal (a real pty), NDJSON in a pipe', () => {
    const pty = spawnSync('script', ['-qec', `node "${CLI}" ${SEED}`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
    expect(pty.status).toBe(0);
    const COLOUR = /\u001b\[[0-9;]*m/; // SGR colour codes (the progress line on stderr uses others)
    expect(pty.stdout).toMatch(COLOUR);
    expect(pty.stdout).toContain('1 incident in 10 lines.');
    // The progress line is erased before each incident block, never written into one.
    expect(pty.stdout).toMatch(/\r\u001b\[K(\u001b\[[0-9;]*m)?x/);
    const noColor = spawnSync('script', ['-qec', `node "${CLI}" ${SEED}`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(noColor.stdout).not.toMatch(COLOUR);
    expect(noColor.stdout).toContain('Docker push of');
    expect(parseNdjson(runCli([SEED]).stdout)).toHaveLength(1);
  });

  it('colours pretty output only when asked or on a terminal', () => {
    expect(runCli(['--format', 'pretty', '--color', SEED]).stdout).toContain('\u001b[');
    expect(runCli(['--format', 'pretty', '--no-color', SEED]).stdout).not.toContain('\u001b[');
  });

  it('says so when there is nothing to report', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'nexus.log'), '2025-01-01 10:00:00,000+0000 INFO  [main]  *SYSTEM org.x.Y - started\n');
    expect(runCli(['--format', 'pretty', dir]).stdout).toBe('No incidents in 1 lines.\n');
    const ndjson = runCli([dir]);
    expect([ndjson.status, ndjson.stdout]).toEqual([0, '']);
  });

  it('--stats prints what was read on stderr, stdout keeps only incidents', () => {
    const run = runCli(['--stats', 'samples/']);
    expect(run.status).toBe(0);
    const incidents = parseNdjson(run.stdout);
    expect(countByRule(incidents)).toEqual(SAMPLE_INCIDENTS);
    const [info, stats, ...rest] = run.stderr.split('\n');
    expect([`${info}\n`, rest]).toEqual([ZIP_INFO, ['']]);
    const { lines, bytes } = sampleSize();
    // By rule in the order the first incident of each closed.
    const byRule = Object.entries(countByRule(incidents)).map(([rule, n]) => `${rule} ${n}`).join(', ');
    expect(stats).toMatch(new RegExp(`^nexus-log-analyzer: stats: ${lines} lines \\(${bytes} bytes\\), \\d+ events, \\d+ relevant, 0 unparsed lines, 0 truncated, 0 late, 0 duplicate; `));
    expect(stats).toContain(`; ${incidents.length} incidents (${byRule}), 0 evicted`);
  });

  it('--window changes the correlation window', () => {
    expect(parseNdjson(runCli([SEED]).stdout)).toHaveLength(1);
    expect(parseNdjson(runCli(['--window', '1', SEED]).stdout).length).toBeGreaterThan(1);
  });

  it('--help answers with usage, options, examples and exit codes', () => {
    const run = runCli(['--help']);
    expect(run.status).toBe(0);
    for (const text of ['Usage: nexus-log-analyzer', '--format', '--window', '--stats', '--follow', 'support zip', 'Examples:', 'tail -F', 'SIGTERM', 'Exit status']) {
      expect(run.stdout).toContain(text);
    }
  });

  it('--version prints the package version', () => {
    const run = runCli(['--version']);
    expect([run.status, run.stdout.trim()]).toEqual([0, version]);
  });

  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['--window', 'abc'], /--window must be a positive whole number/],
    [['--window', '0'], /--window must be a positive whole number/],
    [['--format', 'xml'], /argument 'xml' is invalid/],
  ])('bad usage %j exits 2 with a clear message', (args, message) => {
    const run = runCli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('an input that cannot be found exits 2 with one line naming it', () => {
    const run = runCli(['samples/nexus.log', 'no/such/nexus.log']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('nexus-log-analyzer: error: no/such/nexus.log: no such file or directory\n');
    expect(run.stdout).toBe('');
  });

  it('writes pino JSON diagnostics with --log-format json', () => {
    const run = runCli(['--log-format', 'json', 'missing.log']);
    expect(run.status).toBe(2);
    const record = JSON.parse(run.stderr.trim()) as { level: number; msg: string; input: string };
    expect([record.level, record.input, record.msg]).toEqual([50, 'missing.log', 'missing.log: no such file or directory']);
  });

  it('a corrupt .gz among good files: everything readable is reported, the bad file named, exit 2', () => {
    const dir = tempDir();
    const gz = gzipSync(Buffer.alloc(200_000, 'filler line\n'));
    writeFileSync(path.join(dir, 'nexus-2025-01-01.log.gz'), gz.subarray(0, gz.length - 40));
    writeFileSync(path.join(dir, 'nexus.log'), readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log')));
    const run = runCli([dir]);
    expect(run.status).toBe(2);
    expect(parseNdjson(run.stdout)).toHaveLength(1);
    expect(run.stderr).toMatch(/nexus-2025-01-01\.log\.gz: (truncated|corrupt) gzip data/);
  });

  it('exits quietly when the reader goes away (| head)', () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ts = `2025-01-01 10:${String(Math.floor(i / 600) % 60).padStart(2, '0')}:${String(Math.floor(i / 10) % 60).padStart(2, '0')},${String(i % 10).padStart(3, '0')}+0000`;
      lines.push(missingLayerLine(ts, `l${i}`, `img${i}`, '1', { thread: `t${i}` }), rejectionLine(ts, `img${i}`, '1', { thread: `t${i}` }));
    }
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const run = spawnSync('bash', ['-c', `set -o pipefail; node "${CLI}" "${file}" | head -n 1 > /dev/null`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
  it('--max-open-bytes under 1 MiB is refused with the minimum, not raised silently', () => {
    const run = runCli(['--max-open-bytes', '1', path.join(SAMPLES, 'nexus.log')]);
    expect([run.status, run.stderr]).toEqual([2, expect.stringMatching(/--max-open-bytes must be at least 1048576/)]);
  });
});
