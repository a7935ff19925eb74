/**
 * What open groups keep of long lines: the evidence cut at maxEvidenceChars, the distinct values,
 * the rule's state. All are slices of the line (V8 keeps a slice's whole parent string alive), so
 * unless they are copied the memory of an open group is its line's: 1 MiB, not a few KB.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Analyzer } from '../../src/analyzer';
import { missingLayerLine } from '../support/helpers';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const LINE_CHARS = 256 * 1024;
const PUSHES = 50;

describe('open groups and long lines', () => {
  it(`${PUSHES} open pushes whose lines are 256 KiB keep a few KB each, not their lines`, () => {
    const analyzer = new Analyzer({ reorderMs: 0 }); // nothing held for ordering: every line reaches the groups
    const before = heapAfterGc();
    for (let i = 0; i < PUSHES; i++) {
      const ts = `2025-09-10 01:00:00,${String(i).padStart(3, '0')}+0000`;
      // Real Jetty thread names are long enough (17 characters) to be slices too.
      const line = missingLayerLine(ts, `layer${i}`, `team/app${i}`, '1.0', { thread: `qtp1985555490-${100 + i}` });
      analyzer.write(`${line} ${'x'.repeat(LINE_CHARS - line.length)}\n`);
    }
    const grown = heapAfterGc() - before;
    expect(analyzer.stats.openGroups).toBeGreaterThanOrEqual(PUSHES - 1); // the last line waits for the next one
    // The lines are 12.5 MiB; what the groups may keep is ~2 KiB of evidence and a small state each.
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    expect(analyzer.end().filter((incident) => incident.rule === 'docker-manifest-missing-layers')).toHaveLength(PUSHES);
  });
});
