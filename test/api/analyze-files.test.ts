import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { analyzeFiles } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { InputError } from '../../src/source/input-error';
import { missingLayerLine, rejectionLine, SAMPLES } from '../support/helpers';

type Push = Incident & { image: string };

/** The failed pushes (the samples' planted incidents) among the incidents of an analysis. */
async function all(patterns: string | string[], options = {}): Promise<Push[]> {
  const out: Push[] = [];
  for await (const incident of analyzeFiles(patterns, options)) if (incident.rule === 'docker-manifest-missing-layers') out.push(incident as Push);
  return out;
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'nla-test-'));
}

describe('analyzeFiles', () => {
  it('reads a directory: its nexus*.log* files, .gz included, in log-time order', async () => {
    const incidents = await all(SAMPLES);
    // 11 pushes of the push story, and the broken server's (samples/support-20261202-143000-1.zip, 2026-12-02) last.
    expect(incidents).toHaveLength(12);
    expect(incidents[11]?.image).toBe('team-c/api');
    const firstSeen = incidents.map((i) => i.firstSeen);
    // Seed excerpt (2025) first, then the samples by day: rotated .gz before the live nexus.log.
    expect(incidents[0]?.image).toBe('ctbots/base/llamafactory');
    const gateway = incidents.find((i) => i.image === 'payments/gateway');
    expect(gateway?.evidence.map((e) => path.basename(e.source))).toEqual([
      'nexus-2026-11-19.log.gz', 'nexus-2026-11-19.log.gz', 'nexus-2026-11-19.log.gz', 'nexus.log',
    ]);
    expect(firstSeen.slice(1, 4)).toEqual(['2026-11-18T20:21:40.300Z', '2026-11-19T14:03:07.210Z', '2026-11-19T23:59:59.991Z']);
  });

  it('orders files by their first timestamp whatever order they are given in', async () => {
    const given = [path.join(SAMPLES, 'nexus.log'), path.join(SAMPLES, 'nexus-2026-11-19.log.gz')];
    const gateway = (await all(given)).find((i) => i.image === 'payments/gateway');
    expect(gateway?.closeReason).toBe('matched');
  });

  it('expands glob patterns', async () => {
    const incidents = await all(path.join(SAMPLES, 'nexus-*.log'));
    expect(incidents.map((i) => i.image).sort()).toEqual(['ctbots/base/llamafactory', 'data/etl/spark', 'web/frontend']);
  });

  it('detects gzip by content, not by name', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'renamed.log'), gzipSync(readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'))));
    expect((await all(path.join(dir, 'renamed.log'))).map((i) => i.image)).toEqual(['ctbots/base/llamafactory']);
  });

  it('reads - from the given stdin stream', async () => {
    const stdin = Readable.from([readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'))]);
    const incidents = await all('-', { stdin });
    expect(incidents.map((i) => i.evidence[0]?.source)).toEqual(['-']);
  });

  it('fails with an InputError naming a missing file, an empty glob or a directory without logs', async () => {
    await expect(all('/nonexistent/nexus.log')).rejects.toThrow(new InputError('/nonexistent/nexus.log', 'no such file or directory'));
    await expect(all('/nonexistent/*.log')).rejects.toThrow(/no files match/);
    await expect(all(tempDir())).rejects.toThrow(/has no Nexus log files/);
  });

  it('a corrupt .gz: incidents found before the damage are kept, then the error names the file', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) lines.push(`2025-01-01 10:00:00,000+0000 INFO  [t]  *SYSTEM org.x.Y - filler line ${i} ${'x'.repeat(60)}`);
    lines.splice(10, 0, missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'early', '1'), rejectionLine('2025-01-01 10:00:00,005+0000', 'early', '1'));
    const gz = gzipSync(lines.join('\n'));
    const damaged = path.join(dir, 'nexus-2025-01-01.log.gz');
    writeFileSync(damaged, gz.subarray(0, Math.floor(gz.length * 0.6)));

    const seen: Push[] = [];
    await expect(
      (async () => {
        for await (const incident of analyzeFiles(damaged)) seen.push(incident as Push);
      })(),
    ).rejects.toThrow(/nexus-2025-01-01\.log\.gz: (truncated|corrupt|unexpected end)/);
    expect(seen.filter((i) => i.rule === 'docker-manifest-missing-layers').map((i) => i.image)).toEqual(['early']);

    // With onInputError, the other files are still read.
    copyFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), path.join(dir, 'nexus.log'));
    const errors: string[] = [];
    const incidents = await all(dir, { onInputError: (error: InputError) => errors.push(error.input) });
    expect(errors).toEqual([damaged]);
    expect(incidents.map((i) => i.image).sort()).toEqual(['ctbots/base/llamafactory', 'early']);
  });
  it('closes the file it was reading when the consumer stops mid-file (not left to garbage collection)', async () => {
    const file = path.join(tempDir(), 'nexus.log');
    const filler = (i: number): string => `2025-01-01 10:05:00,000+0000 INFO  [t]  *SYSTEM org.x.Y - filler line ${i} ${'x'.repeat(60)}`;
    const lines = [missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'early', '1'), rejectionLine('2025-01-01 10:00:00,005+0000', 'early', '1')];
    // 6 MB of later lines: the push closes in the first chunk, and the file has many more.
    for (let i = 0; i < 70_000; i++) lines.push(filler(i));
    writeFileSync(file, `${lines.join('\n')}\n`);
    let first: Incident | undefined;
    for await (const incident of analyzeFiles(file)) {
      first = incident;
      break;
    }
    expect(first?.rule).toBe('docker-manifest-missing-layers');
    const openFiles = readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });
    expect(openFiles).not.toContain(file);
  });
  it('a glob through symbolic links back to a parent ends (links are not followed into), reading each file once', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'a'));
    symlinkSync('..', path.join(dir, 'a', 'up'));
    symlinkSync('..', path.join(dir, 'a', 'up2'));
    writeFileSync(path.join(dir, 'nexus.log'), `${[missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'loop', '1'), rejectionLine('2025-01-01 10:00:00,005+0000', 'loop', '1')].join('\n')}\n`);
    const inputs: string[] = [];
    const pushes = await all(`${dir}/**/nexus*.log`, { onInputs: (names: string[]) => inputs.push(...names) });
    expect(inputs).toEqual([path.join(dir, 'nexus.log')]);
    expect(pushes.map((p) => p.image)).toEqual(['loop']);
  });
  it('refuses a since/until that is not a time and a jobs that is not a whole number, instead of filtering everything', async () => {
    for (const options of [{ since: Number.NaN }, { until: new Date('x') }, { since: 'yesterday' as unknown as number }, { jobs: 1.5 }, { jobs: -1 }]) {
      await expect(all(SAMPLES, options)).rejects.toThrow(RangeError);
    }
  });

  it('--follow refuses a gzip file (it is not appended to) with a clear error', async () => {
    const file = path.join(tempDir(), 'nexus.log.gz');
    writeFileSync(file, gzipSync(`${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'gz', '1')}\n`));
    await expect(all(file, { follow: true, fromStart: true })).rejects.toThrow(/a gzip file cannot be followed/);
  });
});
