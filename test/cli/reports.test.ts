/** The built CLI's reporting options: --fail-on, --since/--until, --summary, --report, progress, default input. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Incident } from '../../src/incidents/incident';
import { atLeast, SEVERITIES, type Severity } from '../../src/incidents/incident';
import { CLI, parseNdjson, ROOT, runCli, SAMPLES } from '../support/helpers';
import { countByRule, SAMPLE_INCIDENTS, sampleSize, ZIP_INFO } from './samples';

const SAMPLE_TOTAL = Object.values(SAMPLE_INCIDENTS).reduce((a, b) => a + b, 0);
/** The inputs samples/ makes: its six log files and the zip's three logs (nexus.log, request.log, a task log). */
const SAMPLE_INPUTS = 9;

/** Whether the CLI should exit 1 for --fail-on `threshold` on these incidents. */
function anyAtLeast(incidents: readonly Incident[], threshold: Severity): boolean {
  return incidents.some((i) => atLeast(i.severity, threshold));
}

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
    // samples/ has the broken server's out of memory (critical); nexus.log alone tops at error.
    for (const input of ['samples/', 'samples/nexus.log']) {
      const incidents = parseNdjson(runCli([input]).stdout);
      for (const severity of SEVERITIES) {
        expect([input, severity, runCli(['--fail-on', severity, input]).status]).toEqual([input, severity, anyAtLeast(incidents, severity) ? 1 : 0]);
      }
    }
    expect(runCli(['--fail-on', 'critical', 'samples/']).status).toBe(1);
    expect(runCli(['--fail-on', 'critical', 'samples/nexus.log']).status).toBe(0);
    expect(runCli(['--fail-on', 'error', 'package.json']).status).toBe(0);
  });

  it('an unreadable input still wins with 2', () => {
    expect(runCli(['--fail-on', 'error', 'samples/', 'missing.log']).status).toBe(2);
  });
});

describe('--since / --until', () => {
  it('keep incidents that began in the range', () => {
    const incidents = parseNdjson(runCli(['--since', '2026-11-20T00:00:00Z', '--until', '2026-11-21T00:00:00Z', 'samples/']).stdout);
    // What begins on 2026-11-20 (nexus.log): 6 pushes (the 400 of platform/base among them), the docker-proxy failure, the run from 07:58.
    expect(countByRule(incidents)).toEqual({ 'docker-manifest-missing-layers': 6, 'proxy-remote-unavailable': 1, 'server-run': 1 });
    for (const incident of incidents) {
      expect(incident.firstSeen !== null && incident.firstSeen >= '2026-11-20T00:00:00.000Z' && incident.firstSeen < '2026-11-21T00:00:00.000Z').toBe(true);
    }
  });

  it('do not read rotated days wholly outside the range', () => {
    const run = runCli(['--stats', '--log-format', 'json', '--since', '2026-11-21T00:00:00Z', 'samples/']);
    const records = run.stderr.trim().split('\n').filter((l) => l.startsWith('{'));
    const stats = (records.map((l) => JSON.parse(l) as { stats?: { lines: number } }).find((r) => r.stats)?.stats) as { lines: number };
    const rotated = gunzipSync(readFileSync(path.join(SAMPLES, 'nexus-2026-11-19.log.gz'))).toString('latin1').split('\n').length - 1;
    expect(stats.lines).toBe(sampleSize().lines - rotated); // nexus-2026-11-19.log.gz was skipped unread
    // The HA node's push of 2026-11-21, then the broken server of 2026-12-02 (its support zip).
    const incidents = parseNdjson(run.stdout);
    expect(incidents.filter((i) => (i.firstSeen ?? '') < '2026-12-02').map((i) => [i.firstSeen, i.node])).toEqual([['2026-11-21T13:00:02.450Z', 'nexus-node-b']]);
    const broken = incidents.filter((i) => i.node !== 'nexus-node-b');
    expect(broken.every((i) => (i.firstSeen ?? '') >= '2026-12-02T00:00:00.000Z' && i.evidence.every((e) => e.source.startsWith('samples/support-20261202-143000-1.zip!')))).toBe(true);
    expect(broken).toHaveLength(12);
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
    const { lines } = sampleSize();
    const incidents = parseNdjson(runCli(['samples/']).stdout);
    const bySeverity = SEVERITIES.map((severity) => [severity, incidents.filter((i) => i.severity === severity).length] as const)
      .filter(([, n]) => n > 0)
      .map(([severity, n]) => `${n} ${severity}`)
      .join(', ');
    // The summary's first line replaces the closing count.
    expect(run.stdout).toContain(`\n\nSummary\n  ${SAMPLE_TOTAL} incidents (${bySeverity}) from ${lines} lines in ${SAMPLE_INPUTS} inputs\n`);
    expect(run.stdout).not.toContain(' incidents in ');
    // The triage view: the runs of both servers first, then what to do first.
    const summary = run.stdout.slice(run.stdout.indexOf('\nSummary\n'));
    expect(summary.indexOf('Server runs')).toBeLessThan(summary.indexOf('What to do first'));
    expect(summary).toContain('Nexus 3.86.2-01 OSS ran from 07:58 to 12:07 (4 h 9 min), stopped cleanly.');
    expect(summary).toMatch(/Nexus 3\.77\.1-01 OSS ran from 06:00 and stopped without a clean shutdown at\s+13:44/);
    expect(summary).toContain('By class');
  });

  it('goes to stderr with NDJSON, so stdout stays one JSON object per line', () => {
    const run = runCli(['--summary', 'samples/']);
    expect(countByRule(parseNdjson(run.stdout))).toEqual(SAMPLE_INCIDENTS);
    expect(run.stderr.startsWith(ZIP_INFO)).toBe(true);
    expect(run.stderr).toContain(`Summary\n  ${SAMPLE_TOTAL} incidents (`);
  });
});

describe('--report', () => {
  it('writes the HTML page and says where', () => {
    const file = path.join(tempDir(), 'report.html');
    const run = runCli(['--report', file, 'samples/']);
    expect(run.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(`<title>Nexus log analysis: ${SAMPLE_TOTAL} incidents</title>`);
    expect(run.stderr).toBe(`${ZIP_INFO}nexus-log-analyzer: report written to ${file}\n`);
    expect(runCli(['-q', '--report', file, 'samples/']).stderr).toBe('');
  });

  it('a report that cannot be written is an error naming it', () => {
    const run = runCli(['--report', '/nonexistent/dir/report.html', 'samples/']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('nexus-log-analyzer: error: --report /nonexistent/dir/report.html: its folder does not exist\n');
    expect(run.stdout).toBe('');
  });
});

describe('progress on a terminal', () => {
  it('draws a progress line on stderr while files are read, and erases it', () => {
    const out = path.join(tempDir(), 'out.ndjson');
    const run = onTerminal(`samples/ > "${out}"`);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`\\[=+ *\\] +\\d+% {2}\\d+/${SAMPLE_INPUTS} inputs {2}\\d+ MB {2}\\d+ MB/s {2}\\d+ incidents`));
    // The last drawing, then erased.
    expect(run.stdout).toMatch(new RegExp(`\\[={24}\\] 100% {2}${SAMPLE_INPUTS}/${SAMPLE_INPUTS} inputs {2}\\d+ MB {2}\\d+ MB/s {2}${SAMPLE_TOTAL} incidents\\r\u001b\\[K$`));
    expect(run.stdout.endsWith('\r\u001b[K')).toBe(true);
    expect(countByRule(parseNdjson(readFileSync(out, 'utf8')))).toEqual(SAMPLE_INCIDENTS);
  });

  it('is not drawn with --quiet, nor when stderr is not a terminal', () => {
    const out = path.join(tempDir(), 'out.ndjson');
    expect(onTerminal(`-q samples/ > "${out}"`).stdout).not.toContain('inputs');
    // Only the support zip's info line: no progress drawing.
    expect(runCli(['samples/']).stderr).toBe(ZIP_INFO);
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
    expect(run.stdout).toContain('no input: give a nexus.log file, a log directory, a support zip or a glob, or pipe a log into stdin');
    expect(run.stdout).toContain('No log folder found at $NEXUS_DATA/log, /nexus-data/log or ./sonatype-work/nexus3/log');
  });
});

describe('--lifecycle and recurrence', () => {
  it('writes opened and updated incidents as they grow (at count doublings, 10 s of log time apart), then the closed one; by default only closed', () => {
    // A push whose 6 lines come within 14 ms: opened, then closed by its 400 (no update in between).
    const push = parseNdjson(runCli(['--lifecycle', 'samples/nexus-seed-excerpt.log']).stdout);
    expect(push.map((i) => [i.lifecycle, i.revision, i.count, i.closeReason])).toEqual([
      ['opened', 1, 1, null],
      ['closed', 6, 6, 'matched'],
    ]);
    expect(new Set(push.map((i) => i.id)).size).toBe(1);
    expect(parseNdjson(runCli(['samples/nexus-seed-excerpt.log']).stdout).map((i) => [i.lifecycle, i.revision])).toEqual([['closed', 6]]);

    // A missing blob read every 20 s: updates at 2, 4 and 8 reads, then closed at the end of the input.
    const file = path.join(tempDir(), 'nexus.log');
    const reads = Array.from({ length: 9 }, (_, n) => {
      const t = new Date(Date.UTC(2025, 8, 10, 1, 0, n * 20)).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
      return `${t}+0000 WARN  [qtp1-${n}]  ci org.sonatype.nexus.blobstore.file.FileBlobStore - Can't open input stream to blob default@0c7f5c3a-3f2e-4b8a-9d61-2b7e4a1c9f03 as file /nexus-data/blobs/default/content/vol-10/chap-03/0c7f5c3a-3f2e-4b8a-9d61-2b7e4a1c9f03.bytes not found`;
    });
    writeFileSync(file, `${reads.join('\n')}\n`);
    const storm = parseNdjson(runCli(['--lifecycle', file]).stdout);
    expect(storm.map((i) => [i.lifecycle, i.count])).toEqual([
      ['opened', 1],
      ['updated', 2],
      ['updated', 4],
      ['updated', 8],
      ['closed', 9],
    ]);
    expect(new Set(storm.map((i) => i.id)).size).toBe(1);
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
    const recurring = pretty.slice(pretty.indexOf('  Recurring'));
    expect(recurring).toMatch(/\n {7}3x {2}docker-manifest-missing-layers {2}image ctbots-docker\/ctbots\/base\/llam.*\n {11}2025-09-10 01:36:22 \.\. 2025-09-10 03:36:22 UTC\n/);
    expect(recurring).not.toMatch(/\n +2x /); // nothing else recurs: the 400s are the pushes' own
  });
});

describe('--report onto what is not a plain file', () => {
  it('writes through a symlink to its target and into a device, never replacing either', () => {
    const dir = tempDir();
    const target = path.join(dir, 'real.html');
    const link = path.join(dir, 'link.html');
    symlinkSync(target, link);
    const viaLink = runCli(['--report', link, path.join(SAMPLES, 'nexus.log')]);
    expect(viaLink.status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toContain('<!doctype html>');
    const intoDevice = runCli(['--report', '/dev/null', path.join(SAMPLES, 'nexus.log')]);
    expect(intoDevice.status).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});

