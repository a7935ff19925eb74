import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Analyzer } from '../src/analyzer';
import type { Incident } from '../src/incidents/incident';
import { analyze, missingLayerLine, rejectionLine, SAMPLES } from './support/helpers';

const sample = (name: string): Buffer => {
  const bytes = readFileSync(path.join(SAMPLES, name));
  return name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
};
const ALL_SAMPLES = Buffer.concat(
  ['nexus-console.log', 'nexus-2026-11-19.log.gz', 'nexus.log', 'nexus-ha-node-b.log', 'nexus-seed-excerpt.log'].map(sample),
);

describe('Analyzer: strings in any chunking', () => {
  it('a string cut between the halves of a surrogate pair gives the same incidents as the whole text', () => {
    const text = `${[missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'team/app😀', '1.0'), rejectionLine('2025-03-01 10:00:00,009+0000', 'team/app😀', '1.0')].join('\n')}\n`;
    const run = (pieces: readonly string[]): string => {
      const analyzer = new Analyzer();
      const out: Incident[] = [];
      for (const piece of pieces) out.push(...analyzer.write(piece));
      out.push(...analyzer.end());
      return JSON.stringify(out.map((i) => [i.rule, i.summary, i.evidence.map((e) => e.text)]));
    };
    const whole = run([text]);
    expect(whole).toContain('team/app😀');
    expect(run(text.split(''))).toBe(whole); // one UTF-16 unit at a time: every pair cut
  });
});

describe('Analyzer', () => {
  it('finds every planted incident in the samples', () => {
    const incidents = analyze(ALL_SAMPLES).filter((i) => i.rule === 'docker-manifest-missing-layers') as Array<Incident & { image: string }>;
    expect(incidents.map((i) => [i.image, i.closeReason])).toEqual([
      ['web/frontend', 'matched'],
      ['tools/jdk17', 'matched'],
      ['payments/gateway', 'matched'], // spans the midnight rotation
      ['team-b/worker', 'matched'],
      ['team-a/api-server', 'matched'],
      ['ml/trainer', 'matched'], // the same pooled thread as team-a/api-server, an hour later
      ['platform/base', 'matched'], // 400 with no missing layer
      ['staging-validation', 'matched'], // push by digest
      ['infra/terraform', 'window'], // the 400 never came
      ['data/etl/spark', 'matched'], // HA node layout
      // The seed excerpt, hard wraps and all, comes last and is months older: a stray old line
      // keeps its place, so what arrived before it is handed on first.
      ['ctbots/base/llamafactory', 'matched'],
    ]);
  });

  it('gives the same incidents for the same bytes split at every single byte', () => {
    const bytes = sample('nexus-seed-excerpt.log');
    const whole = analyze(bytes);
    for (let cut = 1; cut < bytes.length; cut++) {
      const analyzer = new Analyzer();
      const out: Incident[] = [...analyzer.write(bytes.subarray(0, cut)), ...analyzer.write(bytes.subarray(cut)), ...analyzer.end()];
      expect(out).toEqual(whole);
    }
  });

  it('gives the same incidents for any chunking (property)', () => {
    const whole = analyze(ALL_SAMPLES);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        expect(analyze(ALL_SAMPLES, {}, sizes)).toEqual(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same incidents whether fed raw chunks or one line at a time', () => {
    const analyzer = new Analyzer();
    const out: Incident[] = [];
    for (const line of ALL_SAMPLES.toString('utf8').split('\n')) out.push(...analyzer.writeLine(line));
    out.push(...analyzer.end());
    // Offsets differ (the caller removed the terminators); everything else is the same.
    const withoutOffsets = (incidents: readonly Incident[]) =>
      incidents.map((i) => ({ ...i, evidence: i.evidence.map(({ offset: _offset, ...rest }) => rest) }));
    expect(withoutOffsets(out)).toEqual(withoutOffsets(analyze(ALL_SAMPLES)));
  });

  it('runs several analyzers side by side with no shared state', () => {
    const a = new Analyzer();
    const b = new Analyzer({ windowMs: 1 });
    const push = `${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')}\n`;
    const reject = `${rejectionLine('2025-01-01 10:00:00,005+0000', 'img', '1')}\n`;
    const fromA = [...a.write(push), ...a.write(reject)];
    const fromB = [...b.write(push), ...b.write(reject)];
    fromA.push(...a.end());
    fromB.push(...b.end());
    expect(fromA.map((i) => i.closeReason)).toEqual(['matched']);
    expect(fromB.map((i) => i.closeReason)).toEqual(['window', 'matched']); // a 1 ms window splits the push
  });

  it('returns incidents from the call that closed them', () => {
    const analyzer = new Analyzer();
    expect(analyzer.write(`${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')}\n`)).toHaveLength(0);
    // The 400 line is complete only when the next line starts (it could carry a stack trace).
    expect(analyzer.write(`${rejectionLine('2025-01-01 10:00:00,005+0000', 'img', '1')}\n`)).toHaveLength(0);
    expect(analyzer.flushPendingEvent()).toHaveLength(1);
  });

  it('counts lines, bytes, events, relevant events and unparsed lines', () => {
    const analyzer = new Analyzer();
    analyzer.write(ALL_SAMPLES);
    analyzer.end();
    const stats = analyzer.stats;
    expect(stats.lines).toBe(ALL_SAMPLES.toString('utf8').split('\n').length - 1);
    expect(stats.bytes).toBe(ALL_SAMPLES.length);
    expect(stats.events).toBe(65 - 4 - 4 - 5); // all lines less 4 hard-wrap fragments and 4 + 5 stack-trace lines
    // Every missing-layer and 400 line, the docker-group proxy failure, the V2Handlers GET that
    // failed with a timeout, the three task state changes that start or end a run worth reading
    // (two starts, no OK end) and the server's starts and stop.
    expect(stats.relevantEvents).toBe(42);
    expect(stats.unparsedLines).toBe(0);
    expect(stats.incidentsByRule).toEqual({
      'docker-manifest-missing-layers': 11,
      'proxy-remote-unavailable': 1,
      'request-failed': 1, // the manifest GET through docker-group that timed out
      'server-run': 2, // restarted on the 20th with no stop logged, then stopped cleanly
    });
    expect(stats.openGroups).toBe(0);
  });

  it('closes open groups with reason shutdown when asked to stop', () => {
    const analyzer = new Analyzer();
    analyzer.write(`${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')}\n`);
    expect(analyzer.shutdown().map((i) => i.closeReason)).toEqual(['shutdown']);
  });

  it('refuses input after the end, and a bad window', () => {
    const analyzer = new Analyzer();
    analyzer.end();
    expect(() => analyzer.write('x\n')).toThrow(/ended/);
    expect(analyzer.end()).toHaveLength(0);
    expect(() => new Analyzer({ windowMs: Number.NaN })).toThrow(RangeError);
  });

  it('bounds open state: many threads each opening a push never exceed the cap, and none is lost', () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(missingLayerLine('2025-01-01 10:00:00,000+0000', `l${i}`, `img${i}`, '1', { thread: `qtp1-${i}` }));
    const analyzer = new Analyzer({ maxOpenGroups: 100 });
    const out = [...analyzer.write(lines.join('\n'))];
    expect(analyzer.stats.openGroups).toBeLessThanOrEqual(100);
    out.push(...analyzer.end());
    // request-failed keeps each thread's missing layers open too (to tell a push's 400 from
    // others): the pushes share the cap with them, and every push is still reported once.
    const pushes = out.filter((i) => i.rule === 'docker-manifest-missing-layers');
    expect(pushes).toHaveLength(3000);
    expect(pushes.filter((i) => i.closeReason === 'evicted').length).toBeGreaterThanOrEqual(2900);
  });
});
