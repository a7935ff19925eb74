/** LiteralSet: every literal found, anchored ones only at their anchor, whatever the count (against a plain search). */
import fc from 'fast-check';
import { Candidates, LiteralSet, type LiteralAnchor } from '../../src/events/literal-set';

function expected(entries: Array<{ text: string; at: LiteralAnchor; value: number }>, line: string): number[] {
  const trimmed = line.replace(/[ \t]+$/, '');
  const found = entries.filter(({ text, at }) => text !== '' && (at === 'start' ? line.startsWith(text) : at === 'end' ? trimmed.endsWith(text) : line.includes(text)));
  return [...new Set(found.map((e) => e.value))].sort((a, b) => a - b);
}

function matched(set: LiteralSet, line: string, size: number): number[] {
  const out = new Candidates(size);
  const bytes = Buffer.from(`xx${line}yy`);
  set.match(bytes, 2, bytes.length - 2, out);
  return [...out.list].sort((a, b) => a - b);
}

describe('LiteralSet', () => {
  it('finds the same literals as a plain search, for any set of anchored and unanchored literals (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', ' ', "'");
    const text = fc.array(alphabet, { minLength: 0, maxLength: 6 }).map((c) => c.join(''));
    const entry = fc.record({ text, at: fc.constantFrom<LiteralAnchor>('start', 'end', 'anywhere'), value: fc.integer({ min: 0, max: 9 }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), fc.array(alphabet, { maxLength: 30 }).map((c) => c.join('')), (entries, line) => {
        expect(matched(new LiteralSet(entries), line, 10)).toEqual(expected(entries, line));
      }),
      { numRuns: 3000 },
    );
  });

  it('never reads outside the line it is given', () => {
    const set = new LiteralSet([{ text: 'xxab', at: 'start', value: 1 }, { text: 'bcyy', at: 'end', value: 2 }, { text: 'ab', at: 'anywhere', value: 3 }, { text: 'xa', at: 'anywhere', value: 4 }, { text: 'cy', at: 'anywhere', value: 5 }]);
    expect(matched(set, 'abc', 6)).toEqual([3]);
  });

  it('builds a catalogue of a thousand literals (start, end and anywhere)', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => ({ text: `literal number ${i} of many`, at: (['start', 'end', 'anywhere'] as const)[i % 3] as LiteralAnchor, value: i % 50 }));
    const set = new LiteralSet(entries);
    expect(matched(set, 'here is literal number 998 of many and more', 50)).toEqual([998 % 50]);
    expect(matched(set, 'literal number 999 of many', 50)).toEqual([999 % 50]);
  });
});
