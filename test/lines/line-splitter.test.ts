import fc from 'fast-check';
import { LINE_TRUNCATED, LineSplitter } from '../../src/lines/line-splitter';

interface SeenLine {
  text: string;
  line: number;
  offset: number;
  flags: number;
  span: number;
}

function split(chunks: Array<string | Buffer>, maxLineBytes = 1024 * 1024): SeenLine[] {
  const seen: SeenLine[] = [];
  const splitter = new LineSplitter(
    { line: (buf, start, end, line, offset, flags, span) => seen.push({ text: buf.toString('utf8', start, end), line, offset, flags, span }) },
    { maxLineBytes },
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

  it('drops NUL bytes before a line (a preallocated file written after a crash), in any chunking', () => {
    const bytes = Buffer.concat([Buffer.from('a\n'), Buffer.alloc(300, 0), Buffer.from('b\nc\n')]);
    const whole = split([bytes]);
    expect(whole.map((l) => [l.text, l.offset, l.span])).toEqual([
      ['a', 0, 2],
      ['b', 302, 2],
      ['c', 304, 2],
    ]);
    for (const size of [1, 7, 100, 301]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      expect(split(chunks)).toEqual(whole);
    }
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

  it('reports each line\'s span: its bytes up to the next line, terminator included', () => {
    const lines = split(['ab\r\ncd', 'e\nf']);
    expect(lines.map((l) => [l.offset, l.span])).toEqual([
      [0, 4],
      [4, 4],
      [8, 1],
    ]);
    // The spans tile the input: offset + span is the next line's offset.
    expect(lines.every((l, i) => i === lines.length - 1 || l.offset + l.span === lines[i + 1]?.offset)).toBe(true);
  });

  it('splits a source whose lines end with a lone \\r (old Mac, some copy tools), in any chunking', () => {
    const text = 'one\rtwo\r\rthree';
    const whole = split([text]);
    expect(whole.map((l) => [l.text, l.line, l.offset])).toEqual([
      ['one', 1, 0],
      ['two', 2, 4],
      ['', 3, 8],
      ['three', 4, 9],
    ]);
    for (let cut = 1; cut < text.length; cut++) expect(split([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    for (let size = 1; size <= 4; size++) {
      const chunks: string[] = [];
      for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
      expect(split(chunks)).toEqual(whole);
    }
  });

  it('one stray \\r before the first \\n changes nothing: lone-\\r splitting needs 64 KiB with no \\n', () => {
    expect(split(['garbage\r stray\nsecond\n']).map((l) => l.text)).toEqual(['garbage\r stray', 'second']);
    const crOnly = Array.from({ length: 5000 }, (_, i) => `line ${i} of a file with lone CR endings`).join('\r');
    expect(split([crOnly])).toHaveLength(5000);
  });

  it('keeps \\n mode when the first terminator is \\r\\n, even when a chunk ends between them', () => {
    const text = 'a\r\nb\rc\nd';
    const whole = split([text]);
    expect(whole.map((l) => l.text)).toEqual(['a', 'b\rc', 'd']);
    for (let cut = 1; cut < text.length; cut++) expect(split([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
  });

  it('caps an over-long line, flags it, and keeps splitting after it', () => {
    const long = 'x'.repeat(5000);
    const lines = split([`${long}\nnext\n`], 100);
    expect(lines.map((l) => [l.text.length, l.flags & LINE_TRUNCATED])).toEqual([
      [100, LINE_TRUNCATED],
      [4, 0],
    ]);
  });

  it('caps an over-long line that arrives in many chunks without keeping more than the cap', () => {
    const seen: number[] = [];
    const splitter = new LineSplitter({ line: (_b, s, e) => seen.push(e - s) }, { maxLineBytes: 1000 });
    const piece = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 160; i++) splitter.write(piece); // 10 MiB, no newline
    expect((splitter as unknown as { carryBytes: number }).carryBytes).toBeLessThanOrEqual(1001);
    splitter.write(Buffer.from('\nshort\n'));
    splitter.end();
    expect(seen).toEqual([1000, 5]);
  });

  it('a cut line keeps its head and its end, joined by a mark, in any chunking and across a checkpoint', () => {
    // A request.log line whose status comes after a URL longer than the cap.
    const line = `10.0.4.17 - ci [10/Sep/2025:01:00:00 +0000] "GET /repository/x/${'a'.repeat(3000)} HTTP/1.1" 500 - 0 4 "curl/8.5"`;
    const bytes = Buffer.from(`${line}\r\nnext\r\n`);
    const whole = split([bytes], 1000);
    expect(whole.map((l) => [l.text.length, l.flags & LINE_TRUNCATED])).toEqual([
      [1000, LINE_TRUNCATED],
      [4, 0],
    ]);
    expect(whole[0]?.text.startsWith('10.0.4.17 - ci [10/Sep/2025')).toBe(true);
    expect(whole[0]?.text).toContain(' [...] ');
    expect(whole[0]?.text.endsWith('HTTP/1.1" 500 - 0 4 "curl/8.5"')).toBe(true);
    for (const size of [1, 3, 250, 999, 1001, 2048]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      expect(split(chunks, 1000)).toEqual(whole);
    }
    // A checkpoint taken in the middle of the cut line resumes to the same line.
    for (const cutAt of [10, 1500, line.length - 2]) {
      const seen: string[] = [];
      const sink = { line: (buf: Buffer, start: number, end: number) => seen.push(buf.toString('utf8', start, end)) };
      const first = new LineSplitter(sink, { maxLineBytes: 1000 });
      first.write(bytes.subarray(0, cutAt));
      const resumed = new LineSplitter(sink, { maxLineBytes: 1000 });
      resumed.restoreState(JSON.parse(JSON.stringify(first.state())));
      resumed.write(bytes.subarray(cutAt));
      resumed.end();
      expect(seen).toEqual(whole.map((l) => l.text));
    }
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
    const splitter = new LineSplitter({ line: (b, s, e) => seen.push(b.toString('utf8', s, e)) }, { maxLineBytes: 100 });
    splitter.writeLine(Buffer.from('one'));
    splitter.writeLine(Buffer.from('two\r\n'));
    splitter.writeLine(Buffer.from('three\n'));
    splitter.writeLine(Buffer.from('four\r'));
    expect(seen).toEqual(['one', 'two', 'three', 'four']);
  });

  it('gives the same lines, numbers, offsets, spans and flags for any chunking, with any terminators and a small cap (property)', () => {
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
        expect(split(chunks, 50)).toEqual(split([bytes], 50));
      }),
      { numRuns: 300 },
    );
  });
});

describe('LineSplitter cap and CRLF together', () => {
  it('treats a line of exactly the cap plus CRLF alike whether or not it spans chunks', () => {
    const line = `${'y'.repeat(50)}\r\nz\n`;
    const whole = split([line], 50);
    expect(whole.map((l) => [l.text.length, l.flags])).toEqual([
      [50, 0],
      [1, 0],
    ]);
    for (let cut = 1; cut < line.length; cut++) {
      expect(split([line.slice(0, cut), line.slice(cut)], 50)).toEqual(whole);
    }
  });
});
