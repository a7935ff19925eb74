/** The built CLI's reporting options: --fail-on, --since/--until, --summary, --report, progress, default input. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI, parseNdjson, ROOT, runCli, SAMPLES } from '../support/helpers';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'nla-reports-'));

/** Runs the CLI on a pseudo-terminal (stdin, stdout and stderr all TTYs), as a person would. */
function onTerminal(args: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync('script', ['-qec', `node "${CLI}" ${args}`, '/dev/null'], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
}

describe('--fail-on', () => {
  it('exits 1 when an incident at or above the severity is found, 0 otherwise', () => {
    expect(runCli(['--fail-on', 'error', 'samples/']).status).toBe(1);
    expect(runCli(['--fail-on', 'warning', 'samples/']).status).toBe(1);
    expect(runCli(['--fail-on', 'critical', 'samples/']).status).toBe(0);
    expect(runCli(['--fail-on', 'error', 'package.json']).status).toBe(0);
  });

  it('an unreadable input still wins with 2', () => {
    expect(runCli(['--fail-on', 'error', 'samples/', 'missing.log']).status).toBe(2);
  });
});

describe('--since / --until', () => {
  it('keep incidents that began in the range', () => {
    const incidents = parseNdjson(runCli(['--since', '2026-11-20T00:00:00Z', '--until', '2026-11-21T00:00:00Z', 'samples/']).stdout);
    expect(incidents.length).toBe(6);
    for (const incident of incidents) {
      expect(incident.firstSeen >= '2026-11-20T00:00:00.000Z' && incident.firstSeen < '2026-11-21T00:00:00.000Z').toBe(true);
    }
  });

  it('do not read rotated days wholly outside the range', () => {
    const run = runCli(['--stats', '--log-format', 'json', '--since', '2026-11-21T00:00:00Z', 'samples/']);
    const stats = (run.stderr.trim().split('\n').map((l) => JSON.parse(l) as { stats?: { lines: number } }).find((r) => r.stats)?.stats) as { lines: number };
    expect(stats.lines).toBe(65 - 14); // nexus-2026-11-19.log.gz (14 lines) was skipped unread
    expect(parseNdjson(run.stdout).map((i) => i.firstSeen)).toEqual(['2026-11-21T13:00:02.450Z']);
  });

  it('accept durations and words, and explain a value they cannot read', () => {
    expect(runCli(['--since', '3d', 'samples/']).status).toBe(0);
    expect(runCli(['--since', 'yesterday', 'samples/']).status).toBe(0);
    const bad = runCli(['--since', 'last tuesday', 'samples/']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("'last tuesday' is not a time");
  });
});

describe('--summary', () => {
  it('follows the incidents in pretty output', () => {
    const run = runCli(['--summary', '-f', 'pretty', 'samples/']);
    expect(run.stdout).toMatch(/11 incidents in 65 lines\.\n\nSummary\n {2}11 incidents from 65 lines/);
    expect(run.stdout).toContain('By repository and image');
  });

  it('goes to stderr with NDJSON, so stdout stays one JSON object per line', () => {
    const run = runCli(['--summary', 'samples/']);
    expect(parseNdjson(run.stdout)).toHaveLength(11);
    expect(run.stderr).toContain('Summary\n  11 incidents from 65 lines');
  });
});

describe('--report', () => {
  it('writes the HTML page and says where', () => {
    const file = path.join(tempDir(), 'report.html');
    const run = runCli(['--report', file, 'samples/']);
    expect(run.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('<title>Nexus log analysis: 11 incidents</title>');
    expect(run.stderr).toBe(`nexus-log-analyzer: report written to ${file}\n`);
    expect(runCli(['-q', '--report', file, 'samples/']).stderr).toBe('');
  });

  it('a report that cannot be written is an error naming it', () => {
    const run = runCli(['--report', '/nonexistent/dir/report.html', 'samples/']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('/nonexistent/dir/report.html: cannot write the report');
  });
});

describe('progress on a terminal', () => {
  it('draws a progress line on stderr while files are read, and erases it', () => {
    const out = path.join(tempDir(), 'out.ndjson');
    const run = onTerminal(`samples/ > "${out}"`);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\[=+ *\] +\d+% {2}\d+\/6 inputs {2}\d+ MB {2}\d+ MB\/s {2}\d+ incidents/);
    expect(run.stdout).toMatch(/\[={24}\] 100% {2}6\/6 inputs {2}\d+ MB {2}\d+ MB\/s {2}11 incidents\r\u001b\[K$/); // the last drawing
    expect(run.stdout.endsWith('\r\u001b[K')).toBe(true);
    expect(parseNdjson(readFileSync(out, 'utf8'))).toHaveLength(11);
  });

  it('is not drawn with --quiet, nor when stderr is not a terminal', () => {
    const out = path.join(tempDir(), 'out.ndjson');
    expect(onTerminal(`-q samples/ > "${out}"`).stdout).not.toContain('inputs');
    expect(runCli(['samples/']).stderr).toBe('');
  });
});

describe('default input on a terminal', () => {
  it('reads the usual Nexus log folder and says which', () => {
    const data = tempDir();
    mkdirSync(path.join(data, 'log'));
    copyFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), path.join(data, 'log', 'nexus.log'));
    const run = onTerminal('-f ndjson -q', { env: { NEXUS_DATA: data } });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('"repository":"ctbots-docker"');
    const told = onTerminal('-f ndjson', { env: { NEXUS_DATA: data } });
    expect(told.stdout).toContain(`no path given: reading ${path.join(data, 'log')}`);
  });

  it('finds ./sonatype-work/nexus3/log too', () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'sonatype-work', 'nexus3', 'log'), { recursive: true });
    copyFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), path.join(cwd, 'sonatype-work', 'nexus3', 'log', 'nexus.log'));
    expect(onTerminal('-f ndjson -q', { cwd, env: { NEXUS_DATA: '' } }).stdout).toContain('"repository":"ctbots-docker"');
  });

  it('prints a short help when there is none', () => {
    const run = onTerminal('-f ndjson', { cwd: tempDir(), env: { NEXUS_DATA: '' } });
    if (existsSync('/nexus-data/log')) {
      // This machine has a real one: then it is the folder read.
      expect(run.stdout).toContain('no path given: reading /nexus-data/log');
      return;
    }
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('no input: give a nexus.log file, a log directory or a glob, or pipe a log into stdin');
  });
});

describe('--lifecycle and recurrence', () => {
  it('writes opened and updated incidents as they grow, then the closed one; by default only closed', () => {
    const all = parseNdjson(runCli(['--lifecycle', 'samples/nexus-seed-excerpt.log']).stdout);
    expect(all.map((i) => [i.lifecycle, i.revision, i.closeReason])).toEqual([
      ['opened', 1, null], ['updated', 2, null], ['updated', 3, null], ['updated', 4, null], ['updated', 5, null], ['closed', 6, 'matched'],
    ]);
    expect(new Set(all.map((i) => i.id)).size).toBe(1);
    const closedOnly = parseNdjson(runCli(['samples/nexus-seed-excerpt.log']).stdout);
    expect(closedOnly.map((i) => [i.lifecycle, i.revision])).toEqual([['closed', 6]]);
  });

  it('a push retried by CI counts its occurrences, and the summary shows one recurring failure', () => {
    const dir = tempDir();
    const seed = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), 'utf8');
    // The same failed push three times, an hour apart (as a retrying CI job would).
    const retried = ['01', '02', '03'].map((hour) => seed.replace(/2025-09-10 01:/g, `2025-09-10 ${hour}:`)).join('\n');
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, retried);
    const incidents = parseNdjson(runCli([file]).stdout);
    expect(incidents.map((i) => i.occurrences)).toEqual([1, 2, 3]);
    expect(new Set(incidents.map((i) => i.fingerprint)).size).toBe(1);
    const pretty = runCli(['-f', 'pretty', '--summary', file]).stdout;
    expect(pretty).toMatch(/recurring +occurrence 3 of this failure/);
    expect(pretty).toMatch(/ {3}3x {2}ctbots-docker {2}ctbots\/base\/llamafactory:pytorch2\.7\.1-cu12\.8-flash.*\n {11}2025-09-10 01:36:22 \.\. 2025-09-10 03:36:22 UTC\n/);
  });
});
