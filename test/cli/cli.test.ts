/** End-to-end: the built CLI (bin/ -> dist/) on samples and fixtures, as a user runs it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLI, missingLayerLine, parseNdjson, rejectionLine, ROOT, runCli, SAMPLES } from '../support/helpers';

const SEED = path.join('samples', 'nexus-seed-excerpt.log');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'nla-cli-'));
}

describe('CLI', () => {
  it('analyzes the samples directory: one NDJSON incident per failed push, exit 0', () => {
    const run = runCli(['samples/']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const incidents = parseNdjson(run.stdout);
    expect(incidents).toHaveLength(11);
    for (const incident of incidents) {
      expect(incident).toEqual(
        expect.objectContaining({ id: expect.stringMatching(/^[0-9a-f]{16}$/), rule: 'docker-manifest-missing-layers', severity: 'error' }),
      );
      expect(incident.firstSeen).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
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
    expect(run.stdout).toMatch(/missing \(5\)\s+sha256:6414378b6477/);
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
    expect(parseNdjson(run.stdout)).toHaveLength(11);
    expect(run.stderr).toBe(
      'nexus-log-analyzer: stats: 65 lines (15780 bytes), 52 events, 33 relevant, 0 unparsed lines, 0 truncated, 0 late, ' +
        '0 duplicate; 11 incidents (docker-manifest-missing-layers 11), 0 evicted\n',
    );
  });

  it('--window changes the correlation window', () => {
    expect(parseNdjson(runCli([SEED]).stdout)).toHaveLength(1);
    expect(parseNdjson(runCli(['--window', '1', SEED]).stdout).length).toBeGreaterThan(1);
  });

  it('--help answers with usage, options, examples and exit codes', () => {
    const run = runCli(['--help']);
    expect(run.status).toBe(0);
    for (const text of ['Usage: nexus-log-analyzer', '--format', '--window', '--stats', 'Examples:', 'tail -f', 'SIGTERM', 'Exit status']) {
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
});
