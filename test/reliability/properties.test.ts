/** Properties over generated logs (fast-check): what must hold for every input, not just the samples. */
import fc from 'fast-check';
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';
import { isDockerPushIncident } from '../../src/rules/builtin/docker-manifest-missing-layers';
import { analyze, infoLine, missingLayerLine, rejectionLine } from '../support/helpers';

interface Push {
  thread: string;
  image: string;
  layers: number;
  rejected: boolean;
}

const pushArb = (index: number): fc.Arbitrary<Push> =>
  fc.record({ layers: fc.integer({ min: 0, max: 4 }), rejected: fc.boolean() }).map(({ layers, rejected }) => ({
    thread: `qtp7-${index}`,
    image: `team/app${index}`,
    layers: rejected ? layers : Math.max(1, layers),
    rejected,
  }));

/** Each push's lines, in its own order, without timestamps yet. */
function pushLines(push: Push): Array<(ts: string) => string> {
  const lines: Array<(ts: string) => string> = [];
  for (let i = 0; i < push.layers; i++) lines.push((ts) => missingLayerLine(ts, `${push.image}-l${i}`, push.image, '1', { thread: push.thread }));
  if (push.rejected) lines.push((ts) => rejectionLine(ts, push.image, '1', { thread: push.thread }));
  return lines;
}

/**
 * Interleaves the per-thread sequences, each thread's lines kept in order; `order[k]` picks
 * which thread with lines left goes next. Timestamps follow the merged order, 1 ms apart.
 */
function interleave(pushes: Push[], order: number[]): string[] {
  const queues = pushes.map(pushLines);
  const total = queues.reduce((sum, queue) => sum + queue.length, 0);
  const out: string[] = [];
  for (let step = 0; step < total; step++) {
    const remaining = queues.filter((queue) => queue.length > 0);
    const queue = remaining[(order[step] ?? 0) % remaining.length] as Array<(ts: string) => string>;
    const stamp = `2025-03-01 10:00:00,${String(step).padStart(3, '0')}+0000`;
    out.push((queue.shift() as (ts: string) => string)(stamp));
  }
  return out;
}

const perThread = (incidents: Incident[]) =>
  incidents
    .filter(isDockerPushIncident)
    .map((i) => `${i.thread}|${i.image}|${i.missingLayers.join(',')}|${i.request === null ? '-' : i.request.status}|${i.closeReason}`)
    .sort();

describe('properties', () => {
  it('how threads interleave does not change any thread\'s incidents', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => pushArb(i)))),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (pushes, orderA, orderB) => {
          const a = perThread(analyze(interleave(pushes, orderA).join('\n')));
          const b = perThread(analyze(interleave(pushes, orderB).join('\n')));
          expect(a).toEqual(b);
          expect(a).toHaveLength(pushes.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('garbage lines inserted anywhere never change the incidents of the clean lines', () => {
    const clean = [
      infoLine('2025-03-01 10:00:00,000+0000', 'start'),
      missingLayerLine('2025-03-01 10:00:00,001+0000', 'l1', 'a', '1', { thread: 't1' }),
      missingLayerLine('2025-03-01 10:00:00,002+0000', 'l2', 'b', '2', { thread: 't2' }),
      missingLayerLine('2025-03-01 10:00:00,003+0000', 'l3', 'a', '1', { thread: 't1' }),
      rejectionLine('2025-03-01 10:00:00,004+0000', 'a', '1', { thread: 't1' }),
      rejectionLine('2025-03-01 10:00:00,005+0000', 'b', '2', { thread: 't2' }),
      rejectionLine('2025-03-01 10:00:00,006+0000', 'solo', '9', { thread: 't3' }),
      missingLayerLine('2025-03-01 10:00:00,007+0000', 'l4', 'orphan', '1', { thread: 't4' }),
    ];
    const expected = perThread(analyze(clean.join('\n')));
    // Garbage: any characters but a newline, not starting with a digit (a digit could begin a real timestamp).
    const garbage = fc
      .string({ unit: fc.oneof(
          fc.constantFrom('\u0000', '\r', '\t', ' ', '{', "'", '[', 'Invalid Manifest', 'Manifest refers to missing layer'),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        ), maxLength: 80 })
      .map((text) => text.replace(/\n/g, ' '))
      .filter((text) => !/^[0-9]/.test(text));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: clean.length }), garbage), { maxLength: 12 }), (insertions) => {
        const lines = [...clean];
        for (const [at, text] of insertions.sort((x, y) => y[0] - x[0])) lines.splice(at, 0, text);
        expect(perThread(analyze(lines.join('\n')))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('open state never exceeds the cap, and every group still becomes an incident', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 200 }), (cap, threads) => {
        const analyzer = new Analyzer({ maxOpenGroups: cap });
        let emitted = 0;
        threads.forEach((thread, i) => {
          const ts = `2025-03-01 10:00:00,${String(i % 1000).padStart(3, '0')}+0000`;
          emitted += analyzer.write(`${missingLayerLine(ts, `l${i}`, `img${thread}`, '1', { thread: `t${thread}` })}\n`).length;
          expect(analyzer.stats.openGroups).toBeLessThanOrEqual(cap);
        });
        emitted += analyzer.end().length;
        // One group per run of the same thread: a thread's lines stay in one group while it is open.
        expect(emitted).toBe(analyzer.stats.incidents);
        expect(analyzer.stats.openGroups).toBe(0);
        expect(emitted).toBeGreaterThanOrEqual(new Set(threads).size);
      }),
      { numRuns: 200 },
    );
  });
});
