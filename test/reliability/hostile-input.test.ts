/**
 * Input that must not break the analyzer, end to end through the built CLI: it never crashes
 * or hangs, reports what it could not read, and finds every incident in the clean lines.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Incident } from '../../src/incidents/incident';
import { missingLayerLine, parseNdjson, rejectionLine, runCli } from '../support/helpers';

const PUSH = [
  missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'team/app', '1.0'),
  missingLayerLine('2025-03-01 10:00:00,002+0000', 'l2', 'team/app', '1.0'),
  rejectionLine('2025-03-01 10:00:00,009+0000', 'team/app', '1.0'),
];

interface Stats {
  lines: number;
  events: number;
  unparsedLines: number;
  truncatedLines: number;
}

function runOn(bytes: Buffer | string, extraArgs: string[] = []): { incidents: Incident[]; stats: Stats; status: number | null; stderr: string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'nla-hostile-')), 'nexus.log');
  writeFileSync(file, bytes);
  const run = runCli(['--stats', '--log-format', 'json', ...extraArgs, file]);
  const records = run.stderr.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { stats?: Stats });
  const stats = records.find((r) => r.stats !== undefined)?.stats as Stats;
  // The 400 line also makes a request-failed consequence; these cases are about the push.
  const incidents = parseNdjson(run.stdout).filter((incident) => incident.rule === 'docker-manifest-missing-layers');
  return { incidents, stats, status: run.status, stderr: run.stderr };
}

const summaryOf = (incidents: Incident[]) =>
  incidents.map((i) => {
    const push = i as Incident & { image: string; missingLayers: string[]; request: unknown };
    return [push.image, push.missingLayers.length, push.request !== null, i.closeReason];
  });
const ONE_PUSH = [['team/app', 2, true, 'matched']];

describe('hostile input', () => {
  it('binary junk and NUL bytes between lines', () => {
    const junk = Buffer.from([0x00, 0x01, 0xff, 0x00, 0x7f, 0x1b, 0x5b, 0x30, 0x6d, 0x00]);
    const bytes = Buffer.concat([junk, Buffer.from('\n'), Buffer.from(`${PUSH[0]}\n`), junk, Buffer.from(`\n${PUSH[1]}\n${PUSH[2]}\n`), junk]);
    const { incidents, status, stats } = runOn(bytes);
    expect(status).toBe(0);
    expect(summaryOf(incidents)).toEqual(ONE_PUSH);
    expect(stats.unparsedLines).toBe(1); // the junk before the first event
  });

  it('invalid UTF-8 inside a relevant line is decoded with replacement characters, never thrown', () => {
    const bad = Buffer.concat([Buffer.from(`${PUSH[0]} `), Buffer.from([0xc3, 0x28, 0xe2, 0x82]), Buffer.from(`\n${PUSH[2]}\n`)]);
    const { incidents, status } = runOn(bad);
    expect(status).toBe(0);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.evidence[0]?.text).toContain('\ufffd');
  });

  it('a 100 MB line with no newline is cut at the cap and counted; the incidents after it are found', () => {
    const huge = Buffer.alloc(100 * 1024 * 1024, 0x78);
    const { incidents, status, stats, stderr } = runOn(Buffer.concat([huge, Buffer.from(`\n${PUSH.join('\n')}\n`)]));
    expect(status).toBe(0);
    expect(summaryOf(incidents)).toEqual(ONE_PUSH);
    expect(stats.truncatedLines).toBe(1);
    expect(stderr).toContain('longer than 1048576 bytes were cut');
  });

  it('a file that ends mid-line still counts its last line', () => {
    const { incidents, stats } = runOn(PUSH.join('\n')); // no final newline: the 400 is the last, partial line
    expect(summaryOf(incidents)).toEqual(ONE_PUSH);
    expect(stats.lines).toBe(3);
  });

  it('a file cut in the middle of the 400 line: the burst is still reported', () => {
    const cut = `${PUSH[0]}\n${PUSH[1]}\n${(PUSH[2] as string).slice(0, 60)}`;
    const { incidents } = runOn(cut);
    expect(summaryOf(incidents)).toEqual([['team/app', 2, false, 'end-of-input']]);
  });

  it('an empty file', () => {
    const { incidents, status, stats } = runOn('');
    expect([status, incidents, stats.lines]).toEqual([0, [], 0]);
  });

  it('CRLF and mixed line endings', () => {
    for (const text of [`${PUSH.join('\r\n')}\r\n`, `${PUSH[0]}\r\n${PUSH[1]}\n${PUSH[2]}\r\n`]) {
      const { incidents } = runOn(text);
      expect(summaryOf(incidents)).toEqual(ONE_PUSH);
      expect(incidents[0]?.evidence.every((e) => !e.text.endsWith('\r'))).toBe(true);
    }
  });

  it('a UTF-8 byte order mark at the start', () => {
    const { incidents, stats } = runOn(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(PUSH.join('\n'))]));
    expect(summaryOf(incidents)).toEqual(ONE_PUSH);
    expect(stats.unparsedLines).toBe(0);
  });

  it('another product\'s log: counted as unparsed, warned about, not fatal', () => {
    const syslog = 'Nov 22 10:00:01 host sshd[123]: Accepted publickey for root\nNov 22 10:00:02 host CRON[9]: (root) CMD (true)\n';
    const { incidents, status, stats, stderr } = runOn(syslog);
    expect([status, incidents.length, stats.unparsedLines]).toEqual([0, 0, 2]);
    expect(stderr).toContain('no log record in 2 lines read');
  });

  it('an unknown Nexus layout (customized logback pattern) is counted, not fatal', () => {
    const custom = `[${PUSH[0]}]\n[${PUSH[2]}]\n`;
    const { status, stats } = runOn(custom);
    expect([status, stats.events, stats.unparsedLines]).toEqual([0, 0, 2]);
  });
});
