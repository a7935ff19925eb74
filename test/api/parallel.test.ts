/**
 * Several files on worker threads give exactly what reading them in turn gives. Runs the
 * built package (dist/, made by `npm test`), since workers load compiled JavaScript.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AnalyzeFilesOptions } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { missingLayerLine, parseNdjson, rejectionLine, ROOT, runCli, SAMPLES } from '../support/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const built = require(path.join(ROOT, 'dist', 'index.js')) as typeof import('../../src/index');

/** Every incident, and the analyzer's stats at the end. */
async function run(patterns: string | string[], options: AnalyzeFilesOptions) {
  let analyzer: { stats: unknown } | undefined;
  const incidents: Incident[] = [];
  for await (const incident of built.analyzeFiles(patterns, { ...options, analyzer: (a) => void (analyzer = a) })) incidents.push(incident);
  return { incidents, stats: analyzer?.stats };
}

describe('several files on worker threads', () => {
  it('give the same incidents and stats as reading in turn, including a push that spans two files', async () => {
    const inTurn = await run(SAMPLES, { jobs: 1 });
    const onWorkers = await run(SAMPLES, { jobs: 2 });
    const byDefault = await run(SAMPLES, {});
    expect(onWorkers.incidents).toEqual(inTurn.incidents);
    expect(onWorkers.stats).toEqual(inTurn.stats);
    expect(byDefault.incidents).toEqual(inTurn.incidents);
    const gateway = onWorkers.incidents.find((i) => (i as Incident & { image: string }).image === 'payments/gateway');
    expect(gateway?.evidence.map((e) => path.basename(e.source))).toEqual([
      'nexus-2026-11-19.log.gz', 'nexus-2026-11-19.log.gz', 'nexus-2026-11-19.log.gz', 'nexus.log',
    ]);
  });

  it('many small files, more than workers: order and results hold', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-parallel-'));
    for (let day = 1; day <= 9; day++) {
      const d = String(day).padStart(2, '0');
      const lines = [
        missingLayerLine(`2025-04-${d} 23:59:59,990+0000`, `l${day}`, `img${day}`, '1'), // its 400 is in the next file
        rejectionLine(`2025-04-${d} 00:00:00,003+0000`, `img${day - 1}`, '1'),
      ].reverse();
      writeFileSync(path.join(dir, `nexus-2025-04-${d}.log`), `${lines.join('\n')}\n`);
    }
    const inTurn = await run(dir, { jobs: 1 });
    const onWorkers = await run(dir, { jobs: 3 });
    expect(onWorkers.incidents).toEqual(inTurn.incidents);
    // The first file's lone 400 is also a failed request of its own (request-failed): the pushes are the docker rule's.
    expect(onWorkers.incidents.filter((i) => i.rule === 'docker-manifest-missing-layers').map((i) => i.closeReason)).toEqual([
      'matched', ...Array.from({ length: 8 }, () => 'matched'), 'end-of-input',
    ]);
  });

  it('a file that fails part-way: reported, the incidents before the damage and the other files kept', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-parallel-bad-'));
    const good = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'));
    writeFileSync(path.join(dir, 'nexus.log'), good);
    writeFileSync(path.join(dir, 'nexus-2.log'), readFileSync(path.join(SAMPLES, 'nexus-ha-node-b.log')));
    const filler = Array.from({ length: 20_000 }, (_, i) => `2025-01-01 10:00:00,000+0000 INFO  [t]  *SYSTEM a.B - line ${i}`);
    filler.splice(5, 0, missingLayerLine('2025-01-01 10:00:00,000+0000', 'x', 'early', '1'), rejectionLine('2025-01-01 10:00:00,001+0000', 'early', '1'));
    const gz = gzipSync(filler.join('\n'));
    writeFileSync(path.join(dir, 'nexus-2025-01-01.log.gz'), gz.subarray(0, gz.length - 100));
    const errors: string[] = [];
    const { incidents } = await run(dir, { jobs: 2, onInputError: (e) => void errors.push(e.message) });
    expect(errors).toEqual([`${path.join(dir, 'nexus-2025-01-01.log.gz')}: truncated gzip data`]);
    expect(incidents.map((i) => (i as Incident & { image: string }).image)).toEqual(['early', 'ctbots/base/llamafactory', 'data/etl/spark']);
    await expect(run(dir, { jobs: 2 })).rejects.toThrow(/truncated gzip data/);
  });

  it('an abort while workers read stops them; open pushes come out as shutdown, nothing hangs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-parallel-abort-'));
    for (let day = 1; day <= 4; day++) {
      const lines = [missingLayerLine(`2025-05-0${day} 00:00:00,000+0000`, `open${day}`, `open${day}`, '1', { thread: `keep-${day}` })];
      for (let i = 0; i < 4000; i++) {
        const ts = `2025-05-0${day} 00:00:01,${String(i % 1000).padStart(3, '0')}+0000`;
        lines.push(missingLayerLine(ts, `l${i}`, `d${day}-img${i}`, '1', { thread: `t${i}` }), rejectionLine(ts, `d${day}-img${i}`, '1', { thread: `t${i}` }));
      }
      writeFileSync(path.join(dir, `nexus-2025-05-0${day}.log`), `${lines.join('\n')}\n`);
    }
    const stop = new AbortController();
    const incidents: Incident[] = [];
    for await (const incident of built.analyzeFiles(dir, { jobs: 2, signal: stop.signal })) {
      incidents.push(incident);
      if (incidents.length === 1) stop.abort();
    }
    expect(incidents.length).toBeLessThan(16_000);
    expect(incidents.filter((i) => i.closeReason === 'shutdown').length).toBeGreaterThan(0);
  });

  it('the CLI gives the same NDJSON with --jobs 1 and --jobs 2', () => {
    const one = runCli(['--jobs', '1', 'samples/']);
    const two = runCli(['--jobs', '2', 'samples/']);
    expect(two.status).toBe(0);
    expect(parseNdjson(two.stdout)).toEqual(parseNdjson(one.stdout));
  });
});

describe('one big file cut into segments on worker threads', () => {
  /** Pushes on several threads, each with a stack-traced warning between its lines, and noise. */
  function bigLog(): string {
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const ts = (ms: number) => `2025-06-01 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},${String(ms).padStart(3, '0')}+0000`;
      const thread = `qtp5-${i % 7}`;
      lines.push(missingLayerLine(ts(0), `a${i}`, `seg/img${i}`, '1', { thread }));
      lines.push(`${ts(1)} WARN  [pool-${i}] *SYSTEM org.sonatype.nexus.repository.proxy.ProxyFacetSupport - Exception java.net.SocketTimeoutException: Read timed out checking remote for update, proxy repo maven-central failed to fetch org/x/${i}.pom, content not in cache.`);
      lines.push('java.net.SocketTimeoutException: Read timed out', '\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:1)', 'Caused by: java.io.IOException: boom', '\t... 12 more');
      for (let k = 0; k < 5; k++) lines.push(`${ts(2 + k)} INFO  [qtp5-99] anonymous org.sonatype.nexus.repository.httpbridge.internal.ViewServlet - Serving GET /repository/maven/x/${i}/${k}.jar`);
      lines.push(missingLayerLine(ts(8), `b${i}`, `seg/img${i}`, '1', { thread }), rejectionLine(ts(9), `seg/img${i}`, '1', { thread }));
    }
    return `${lines.join('\n')}\n`;
  }

  it('gives the same incidents, evidence lines and stats as one reader, wherever the cuts fall', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'nla-segments-')), 'nexus.log');
    writeFileSync(file, bigLog());
    const inTurn = await run(file, { jobs: 1 });
    expect(inTurn.incidents.filter((i) => i.rule === 'docker-manifest-missing-layers')).toHaveLength(400);
    for (const segmentBytes of [5000, 20_011, 65_536]) {
      const cut = await run(file, { jobs: 2, segmentBytes });
      expect(cut.incidents).toEqual(inTurn.incidents);
      expect(cut.stats).toEqual(inTurn.stats);
    }
  }, 120_000);

  it('plans cuts only at record lines, never inside a stack trace, and not in prefixed or CR-only files', async () => {
    const { planSegments } = require(path.join(ROOT, 'dist', 'api', 'parallel', 'segments.js')) as typeof import('../../src/api/parallel/segments');
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-segments-plan-'));
    const text = bigLog();
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, text);
    const segments = (await planSegments(file, Buffer.byteLength(text), 4096)) ?? [];
    expect(segments.length).toBeGreaterThan(10);
    const bytes = Buffer.from(text);
    segments.forEach((segment, i) => {
      expect(segment.end).toBe(segments[i + 1]?.start ?? bytes.length);
      if (i > 0) expect(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(bytes.subarray(segment.start, segment.start + 30).toString()) && bytes[segment.start - 1] === 0x0a).toBe(true);
    });
    const prefixed = path.join(dir, 'compose.log');
    writeFileSync(prefixed, text.split('\n').map((line) => `nexus_1  | ${line}`).join('\n'));
    expect(await planSegments(prefixed, Buffer.byteLength(text), 4096)).toBeNull();
    const crOnly = path.join(dir, 'cr.log');
    writeFileSync(crOnly, text.replace(/\n/g, '\r'));
    expect(await planSegments(crOnly, Buffer.byteLength(text), 4096)).toBeNull();
  });
});
