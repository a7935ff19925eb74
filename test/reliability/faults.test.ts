/** Faults and load: slow readers, signals mid-stream, and more open pushes than the cap. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Analyzer } from '../../src/analyzer';
import { CLI, infoLine, missingLayerLine, parseNdjson, rejectionLine, ROOT } from '../support/helpers';

function manyPushes(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const ts = `2025-03-01 10:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')},${String(i % 1000).padStart(3, '0')}+0000`;
    lines.push(missingLayerLine(ts, `l${i}`, `img${i}`, '1', { thread: `t${i % 50}` }), rejectionLine(ts, `img${i}`, '1', { thread: `t${i % 50}` }));
  }
  return `${lines.join('\n')}\n`;
}

describe('faults and load', () => {
  it('a slow reader of stdout gets every incident: backpressure holds, nothing is dropped', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'nla-slow-')), 'nexus.log');
    writeFileSync(file, manyPushes(4000));
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', process.execPath, CLI, file], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A slow reader: after every chunk, stop reading for a while, so the pipe stays full.
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((resolve) => child.stdout.on('end', resolve));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    await ended;
    expect(await closed).toBe(0);
    const incidents = parseNdjson(Buffer.concat(chunks).toString('utf8'));
    expect(incidents).toHaveLength(4000);
    expect(new Set(incidents.map((i) => i.id)).size).toBe(4000);
    // Output waits for the reader instead of piling up in memory (~12 MB of NDJSON here).
    expect(Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1])).toBeLessThan(200 * 1024);
  });

  it('SIGTERM mid-stream: open pushes are reported (closeReason shutdown), exit 0', async () => {
    const child = spawn(process.execPath, [CLI], { cwd: ROOT });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    const firstIncident = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve();
      }),
    );
    // Thread A opens a push and never finishes it; thread B completes one. B's incident on stdout
    // proves A's lines were read, so the signal arrives with A open: no sleep, no race.
    child.stdin.write(
      `${[
        missingLayerLine('2025-03-01 10:00:00,000+0000', 'a1', 'open/app', '1', { thread: 'A' }),
        missingLayerLine('2025-03-01 10:00:00,001+0000', 'b1', 'done/app', '1', { thread: 'B' }),
        rejectionLine('2025-03-01 10:00:00,002+0000', 'done/app', '1', { thread: 'B' }),
        infoLine('2025-03-01 10:00:00,003+0000', 'next line completes the 400 event'),
      ].join('\n')}\n`,
    );
    await firstIncident;
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    const incidents = parseNdjson(stdout) as unknown as Array<{ image: string; closeReason: string }>;
    expect(incidents.map((i) => [i.image, i.closeReason])).toEqual([
      ['done/app', 'matched'],
      ['open/app', 'shutdown'],
    ]);
  });

  it('100,000 pushes open at once: the cap holds, the excess is emitted as evicted, none is lost', () => {
    const analyzer = new Analyzer(); // default cap: 10,000
    const reasons: Record<string, number> = {};
    let evicted = 0;
    const count = (incidents: readonly { rule: string; closeReason: string | null }[]): void => {
      for (const incident of incidents) {
        if (incident.closeReason === 'evicted') evicted++;
        // request-failed also keeps each thread's missing layers open (it tells a push's 400 from others)
        if (incident.rule === 'docker-manifest-missing-layers') reasons[String(incident.closeReason)] = (reasons[String(incident.closeReason)] ?? 0) + 1;
      }
    };
    let maxOpen = 0;
    for (let i = 0; i < 100_000; i++) {
      count(analyzer.write(`${missingLayerLine('2025-03-01 10:00:00,000+0000', `l${i}`, `img${i}`, '1', { thread: `qtp1-${i}` })}\n`));
      maxOpen = Math.max(maxOpen, analyzer.stats.openGroups);
    }
    count(analyzer.end());
    expect(maxOpen).toBeLessThanOrEqual(10_000);
    expect((reasons.evicted ?? 0) + (reasons['end-of-input'] ?? 0)).toBe(100_000); // every push reported once
    expect(reasons.evicted).toBeGreaterThanOrEqual(90_000);
    expect(analyzer.stats.evicted).toBeGreaterThanOrEqual(evicted); // with request-failed's groups, whose context alone is no incident
  });
});
