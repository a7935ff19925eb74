/**
 * Checkpoints: a shipper restarted anywhere in the log (a checkpoint saved as JSON, restored,
 * the log read on from its offset) reports every incident exactly once, the same as a run that
 * never stopped. And the live clock of `push` / `advance`.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Analyzer, type AnalyzerSnapshot } from '../src/analyzer';
import type { Incident } from '../src/incidents/incident';
import { infoLine, missingLayerLine, rejectionLine, SAMPLES } from './support/helpers';

const sample = (name: string): Buffer => {
  const bytes = readFileSync(path.join(SAMPLES, name));
  return name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
};
const LOG = Buffer.concat(['nexus-2026-11-19.log.gz', 'nexus.log', 'nexus-seed-excerpt.log'].map(sample));
const OPTIONS = { source: 'nexus.log', lifecycle: true };

function uncut(): Incident[] {
  const analyzer = new Analyzer(OPTIONS);
  return [...analyzer.write(LOG), ...analyzer.end()];
}

/** Runs to `cut`, checkpoints through JSON, restores, reads on from the checkpoint's offset. */
function restartedAt(cut: number): { incidents: Incident[]; snapshot: AnalyzerSnapshot } {
  const first = new Analyzer(OPTIONS);
  const before = [...first.write(LOG.subarray(0, cut))];
  const snapshot = JSON.parse(JSON.stringify(first.snapshot())) as AnalyzerSnapshot;
  const second = Analyzer.restore(snapshot, OPTIONS);
  const after = [...second.write(LOG.subarray(snapshot.source.offset)), ...second.end()];
  return { incidents: [...before, ...after], snapshot };
}

describe('checkpoints', () => {
  const whole = uncut();

  it('restarting at every line boundary reports every incident (and lifecycle event) exactly once', () => {
    let cut = 0;
    let boundaries = 0;
    while (cut !== -1 && cut < LOG.length) {
      const { incidents, snapshot } = restartedAt(cut);
      expect(snapshot.source.offset).toBe(cut);
      expect(incidents).toEqual(whole);
      boundaries++;
      cut = LOG.indexOf(0x0a, cut) + 1 || -1;
    }
    expect(boundaries).toBe(LOG.toString('utf8').split('\n').length - 1); // every line start, the first included
  });

  it('restarting in the middle of a line does too (the partial line is in the checkpoint)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LOG.length }), (cut) => {
        expect(restartedAt(cut).incidents).toEqual(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('a checkpoint is plain JSON and names where to read on', () => {
    const analyzer = new Analyzer({ source: 'nexus.log' });
    analyzer.write(`${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')}\n`);
    const snapshot = analyzer.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot.source).toMatchObject({ name: 'nexus.log', offset: Buffer.byteLength(missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')) + 1 });
    expect(snapshot.engine.groups).toHaveLength(0); // the line is still the event in progress
    expect(snapshot.source.state.assembler?.pending).not.toBeNull();
  });

  it('refuses a checkpoint of rules it does not run, or of another version', () => {
    const analyzer = new Analyzer();
    analyzer.write(`${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')}\n${infoLine('2025-01-01 10:00:00,001+0000', 'x')}\n`);
    const snapshot = analyzer.snapshot();
    expect(() => Analyzer.restore(snapshot, { rules: [] as never[] })).toThrow();
    expect(() => Analyzer.restore({ ...snapshot, version: 1 as 2 })).toThrow(/checkpoint field checkpoint.version: must be 2/);
  });

  it('refuses an open group of a rule it does not run with a CheckpointError naming the group', () => {
    const analyzer = new Analyzer();
    // The push's lines reach its group once a line 5 s later has moved the clock past the reorder window.
    analyzer.write(`${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'img', '1')}\n${missingLayerLine('2025-01-01 10:00:05,000+0000', 'l2', 'other', '1', { thread: 't2' })}\n${infoLine('2025-01-01 10:00:05,001+0000', 'x')}\n`);
    const snapshot = analyzer.snapshot();
    expect(snapshot.engine.groups.length).toBeGreaterThan(0);
    const groups = snapshot.engine.groups.map((group, i) => (i === 0 ? { ...group, rule: 'no-such-rule' } : group));
    expect(() => Analyzer.restore({ ...snapshot, engine: { ...snapshot.engine, groups } })).toThrow(
      expect.objectContaining({ name: 'CheckpointError', field: 'checkpoint.engine.groups[0].rule' }),
    );
  });
});

describe('push / advance (live use, wall clock given)', () => {
  it('push takes one line at a time, with its source; a new source is a rotation', () => {
    const analyzer = new Analyzer();
    const out = [
      ...analyzer.push(missingLayerLine('2025-01-01 23:59:59,990+0000', 'l1', 'img', '1'), { source: 'nexus-2025-01-01.log', now: 0 }),
      ...analyzer.push(rejectionLine('2025-01-02 00:00:00,004+0000', 'img', '1'), { source: 'nexus.log', now: 1 }),
      ...analyzer.end(),
    ];
    expect(out.map((i) => [i.closeReason, i.evidence.map((e) => e.source)])).toEqual([['matched', ['nexus-2025-01-01.log', 'nexus.log']]]);
  });

  it('advance completes the last event once the stream is idle, and closes windows on the wall clock', () => {
    const analyzer = new Analyzer({ windowMs: 1000, liveIdleMs: 10 });
    analyzer.push(missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'done', '1'), { now: 0 });
    analyzer.push(rejectionLine('2025-01-01 10:00:00,004+0000', 'done', '1'), { now: 0 });
    expect(analyzer.advance(5)).toEqual([]); // not idle yet: a stack trace may follow
    expect(analyzer.advance(10).map((i) => i.closeReason)).toEqual(['matched']);
    analyzer.push(missingLayerLine('2025-01-01 10:00:00,010+0000', 'l2', 'open', '1', { thread: 't2' }), { now: 20 });
    expect(analyzer.advance(40)).toEqual([]); // the burst is open, its window (1 s) not passed
    expect(analyzer.advance(1_100).map((i) => [i.closeReason, (i as Incident & { image: string }).image])).toEqual([['window', 'open']]);
  });
});
