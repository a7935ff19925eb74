import fc from 'fast-check';
import { LINE_HAS_LITERAL, LINE_TRUNCATED, LineSplitter } from '../../src/lines/line-splitter';

interface SeenLine {
  text: string;
  line: number;
  offset: number;
  flags: number;
}

function split(chunks: Array<string | Buffer>, literals: string[] = [], maxLineBytes = 1024 * 1024): SeenLine[] {
  const seen: SeenLine[] = [];
  const splitter = new LineSplitter(
    { line: (buf, start, end, line, offset, flags) => seen.push({ text: buf.toString('utf8', start, end), line, offset, flags }) },
    { literals, maxLineBytes },
  );
  for (const chunk of chunks) splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return seen;
}

describe('LineSplitter', () => {
  it('splits on \\n and \\r\\n and keeps a last line without newline', () => {
    expect(split(['a\nb\r\nc']).map((l) => l.text)).toEqual(['a', 'b', 'c']);
  });

  it('gives no extra line after a final newline, and none for empty input', () => {
    expect(split(['a\n']).map((l) => l.text)).toEqual(['a']);
    expect(split([''])).toEqual([]);
    expect(split([])).toEqual([]);
  });

  it('keeps empty lines', () => {
    expect(split(['a\n\n\r\nb\n']).map((l) => l.text)).toEqual(['a', '', '', 'b']);
  });

  it('numbers lines from 1 and reports byte offsets of line starts', () => {
    const lines = split(['ab\r\ncd', 'e\nf']);
    expect(lines.map((l) => [l.text, l.line, l.offset])).toEqual([
      ['ab', 1, 0],
      ['cde', 2, 4],
      ['f', 3, 8],
    ]);
  });

  it('flags exactly the lines that contain a literal, also when a literal straddles chunks', () => {
    const lines = split(['one\ntwo Manifest re', 'fers to missing layer\nthree\nInvalid Manifest\n'], [
      'Manifest refers to missing layer',
      'Invalid Manifest',
    ]);
    expect(lines.map((l) => [l.text.slice(0, 5), l.flags & LINE_HAS_LITERAL])).toEqual([
      ['one', 0],
      ['two M', LINE_HAS_LITERAL],
      ['three', 0],
      ['Inval', LINE_HAS_LITERAL],
    ]);
  });

  it('caps an over-long line, flags it, and keeps splitting after it', () => {
    const long = 'x'.repeat(5000);
    const lines = split([`${long}\nnext\n`], [], 100);
    expect(lines.map((l) => [l.text.length, l.flags & LINE_TRUNCATED])).toEqual([
      [100, LINE_TRUNCATED],
      [4, 0],
    ]);
  });

  it('caps an over-long line that arrives in many chunks without keeping more than the cap', () => {
    const seen: number[] = [];
    const splitter = new LineSplitter({ line: (_b, s, e) => seen.push(e - s) }, { literals: [], maxLineBytes: 1000 });
    const piece = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 160; i++) splitter.write(piece); // 10 MiB, no newline
    expect((splitter as unknown as { carryBytes: number }).carryBytes).toBeLessThanOrEqual(1001);
    splitter.write(Buffer.from('\nshort\n'));
    splitter.end();
    expect(seen).toEqual([1000, 5]);
  });

  it('does not flag a literal that lies past the cap', () => {
    const lines = split([`${'x'.repeat(200)}Invalid Manifest\n`], ['Invalid Manifest'], 100);
    expect(lines[0]?.flags).toBe(LINE_TRUNCATED);
  });

  it('strips a UTF-8 byte order mark from the first line only, in any chunking', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('first\nsecond\n')]);
    for (let size = 1; size <= bytes.length; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      expect(split(chunks).map((l) => [l.text, l.offset])).toEqual([
        ['first', 3],
        ['second', 9],
      ]);
    }
  });

  it('passes invalid UTF-8 and NUL bytes through without throwing', () => {
    const lines = split([Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a, 0xc3, 0x0a])]);
    expect(lines).toHaveLength(2);
  });

  it('takes whole lines in line mode, with or without their terminator', () => {
    const seen: string[] = [];
    const splitter = new LineSplitter({ line: (b, s, e) => seen.push(b.toString('utf8', s, e)) }, { literals: [], maxLineBytes: 100 });
    splitter.writeLine(Buffer.from('one'));
    splitter.writeLine(Buffer.from('two\r\n'));
    splitter.writeLine(Buffer.from('three\n'));
    expect(seen).toEqual(['one', 'two', 'three']);
  });

  it('gives the same lines, numbers, offsets and flags for any chunking (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', 'X', 'Y', ' ', '\n', '\r', 'é');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 300 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), (chars, sizes) => {
        const bytes = Buffer.from(chars.join(''));
        const chunks: Buffer[] = [];
        for (let at = 0, i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length] as number;
          chunks.push(bytes.subarray(at, at + size));
          at += size;
        }
        expect(split(chunks, ['XY', 'aXb'], 50)).toEqual(split([bytes], ['XY', 'aXb'], 50));
      }),
      { numRuns: 300 },
    );
  });
});

describe('LineSplitter cap and CRLF together', () => {
  it('treats a line of exactly the cap plus CRLF alike whether or not it spans chunks', () => {
    const line = `${'y'.repeat(50)}\r\nz\n`;
    const whole = split([line], [], 50);
    expect(whole.map((l) => [l.text.length, l.flags])).toEqual([
      [50, 0],
      [1, 0],
    ]);
    for (let cut = 1; cut < line.length; cut++) {
      expect(split([line.slice(0, cut), line.slice(cut)], [], 50)).toEqual(whole);
    }
  });
});

describe('LineSplitter level-gated literals', () => {
  function flagged(text: string, chunkSize = 1 << 20): string[] {
    const seen: string[] = [];
    const splitter = new LineSplitter(
      { line: (buf, s, e, _n, _o, flags) => void (flags & LINE_HAS_LITERAL && seen.push(buf.toString('utf8', s, e).slice(29, 40))) },
      { literals: ['ALWAYS'], gatedLiterals: { W: ['Needle'], E: ['Needle'], I: ['InfoOnly'] }, maxLineBytes: 1 << 20 },
    );
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += chunkSize) splitter.write(bytes.subarray(at, at + chunkSize));
    splitter.end();
    return seen;
  }
  const line = (level: string, message: string): string => `2025-01-01 10:00:00,000+0000 ${level.padEnd(5)} [t]  *SYSTEM a.B - ${message}`;

  it('finds gated literals only in headers of the gated levels; ungated ones everywhere', () => {
    const text = [
      line('WARN', 'a Needle here'),
      line('ERROR', 'Needle too'),
      line('INFO', 'a Needle not wanted'),
      line('DEBUG', 'Needle neither'),
      '\tat Needle.in(Trace.java:1)',
      line('INFO', 'ALWAYS found'),
      line('INFO', 'an InfoOnly literal'),
      line('WARN', 'an InfoOnly literal in a WARN line'),
    ].join('\n');
    // Each level is searched for its own literals only.
    expect(flagged(text)).toEqual(['WARN  [t]  ', 'ERROR [t]  ', 'INFO  [t]  ', 'INFO  [t]  ']);
  });

  it('does not look past the end of the line, and works in any chunking', () => {
    const text = [line('WARN', 'nothing here'), line('INFO', 'Needle after the WARN line'), line('ERROR', 'last Needle')].join('\n');
    for (const size of [1, 7, 64, 1 << 20]) expect(flagged(text, size)).toEqual(['ERROR [t]  ']);
  });

  it('reads the level in every layout: console, collapsed spaces, no offset', () => {
    expect(flagged('2025-01-01 10:00:00,000+0000 WARN [t] u a.B - Needle')).toHaveLength(1);
    expect(flagged('2025-01-01 10:00:00,000 ERROR [t] u a.B - Needle')).toHaveLength(1);
    expect(flagged('2025-01-01T10:00:00.000+02:00   WARN  [t] u a.B - Needle')).toHaveLength(1);
  });
});
