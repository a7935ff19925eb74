import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EventAssembler } from '../../src/events/event-assembler';
import { hasUnclosedDelimiter, isStackTraceLine, repairHardWraps } from '../../src/events/hard-wraps';
import type { LogEvent } from '../../src/events/log-event';
import { LineSplitter } from '../../src/lines/line-splitter';
import { SAMPLES } from '../support/helpers';

function assemble(text: string, literals: string[], options: { sampleEvery?: number; maxContinuationLines?: number; continuationLiterals?: string[] } = {}) {
  const events: LogEvent[] = [];
  const ticks: number[] = [];
  const assembler = new EventAssembler(
    { event: (e) => events.push(e), tick: (t) => ticks.push(t) },
    {
      source: 'test.log',
      maxContinuationLines: options.maxContinuationLines ?? 256,
      sampleEvery: options.sampleEvery ?? 1024,
      continuationLiterals: options.continuationLiterals ?? literals, // by default a rule reads them
    },
  );
  const splitter = new LineSplitter(assembler, { literals, maxLineBytes: 1 << 20 });
  splitter.write(Buffer.from(text));
  splitter.end();
  assembler.flush();
  return { events, ticks, counters: assembler.counters };
}

const H = (ts: string, thread: string, msg: string): string => `2025-09-10 01:36:${ts}+0000 WARN  [${thread}]  *SYSTEM org.x.Handler - ${msg}`;

describe('EventAssembler', () => {
  it('attaches stack-trace lines to the event before them, keeping the header', () => {
    const text = [
      H('22,001', 't1', 'Failure servicing: GET /x'),
      'java.net.SocketTimeoutException: Read timed out',
      '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)',
      'Caused by: java.io.IOException: boom',
      '\t... 87 common frames omitted',
      H('22,002', 't2', 'Failure again'),
    ].join('\n');
    const { events } = assemble(text, ['Failure']);
    expect(events).toHaveLength(2);
    expect(events[0]?.message).toBe('Failure servicing: GET /x');
    expect(events[0]?.continuation).toEqual([
      'java.net.SocketTimeoutException: Read timed out',
      '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)',
      'Caused by: java.io.IOException: boom',
      '\t... 87 common frames omitted',
    ]);
    expect(events[1]?.continuation).toEqual([]);
  });

  it('counts continuation lines without decoding them when no rule reads them', () => {
    const text = [H('22,001', 't1', 'Failure servicing'), 'java.io.IOException: x', '\tat a.B(B.java:1)', H('22,002', 't1', 'next')].join('\n');
    const { events } = assemble(text, ['Failure'], { continuationLiterals: [] });
    expect([events[0]?.continuation, events[0]?.continuationDropped]).toEqual([[], 2]);
  });

  it('carries source, line number and byte offset of the header', () => {
    const first = H('22,001', 't1', 'other');
    const text = `${first}\n${H('22,002', 't1', 'Failure here')}\n`;
    const { events } = assemble(text, ['Failure']);
    expect(events.map((e) => [e.source, e.line, e.offset])).toEqual([['test.log', 2, first.length + 1]]);
  });

  it('finishes the last event at end of input even without a newline', () => {
    const { events } = assemble(H('22,001', 't1', 'Failure at the end'), ['Failure']);
    expect(events).toHaveLength(1);
  });

  it('decodes only events whose header has a literal; a literal in a continuation of another event is ignored', () => {
    const text = [H('22,001', 't1', 'boring'), 'java.lang.IllegalStateException: Failure inside a trace', H('22,002', 't1', 'boring too')].join('\n');
    const { events } = assemble(text, ['Failure']);
    expect(events).toEqual([]);
  });

  it('repairs the hard-wrapped seed excerpt so the repository name parses exactly', () => {
    const text = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), 'utf8');
    const { events } = assemble(text, ['Manifest refers to missing layer', 'Invalid Manifest']);
    expect(events).toHaveLength(6);
    for (const event of events.slice(0, 5)) {
      expect(event.message.endsWith("name='ctbots-docker'}")).toBe(true);
      expect(event.continuation).toEqual([]);
    }
    expect(events.map((e) => e.line)).toEqual([1, 3, 5, 7, 9, 10]);
  });

  it('counts every event, the relevant ones, and lines in no known layout', () => {
    const text = ['foreign line one', 'foreign line two', H('22,001', 't1', 'Failure'), '\tat a.B(B.java:1)', H('22,002', 't1', 'quiet'), 'continuation'].join('\n');
    const { counters } = assemble(text, ['Failure']);
    expect(counters).toEqual({ events: 2, relevantEvents: 1, unparsedLines: 2, truncatedLines: 0 });
  });

  it('counts headers in no known layout instead of failing', () => {
    const { events, counters } = assemble('2025-09-10 01:36:22,001+0000 Failure without brackets\n', ['Failure']);
    expect(events).toEqual([]);
    expect(counters.unparsedLines).toBe(1);
  });

  it('keeps at most maxContinuationLines per event and counts the rest', () => {
    const text = [H('22,001', 't1', 'Failure'), ...Array.from({ length: 10 }, (_, i) => `\tat a.B.c(B.java:${i})`)].join('\n');
    const { events } = assemble(text, ['Failure'], { maxContinuationLines: 3 });
    expect(events[0]?.continuation).toHaveLength(3);
    expect(events[0]?.continuationDropped).toBe(7);
  });

  it('samples header timestamps of irrelevant lines as ticks, by line position', () => {
    const lines = Array.from({ length: 10 }, (_, i) => H(`${String(10 + i)},000`, 't', 'noise'));
    const { ticks } = assemble(lines.join('\n'), ['Failure'], { sampleEvery: 4 });
    expect(ticks).toEqual([Date.UTC(2025, 8, 10, 1, 36, 13), Date.UTC(2025, 8, 10, 1, 36, 17)]);
  });
});

describe('hard wraps', () => {
  it('joins a fragment only while a bracket or quote is open', () => {
    expect(repairHardWraps("x - a{name='ctbots-docke", 4, ["r'}", 'next line'])).toEqual({ header: "x - a{name='ctbots-docker'}", rest: ['next line'] });
    expect(repairHardWraps('x - closed message', 4, ['not a wrap'])).toEqual({ header: 'x - closed message', rest: ['not a wrap'] });
  });

  it('never joins stack-trace lines', () => {
    for (const line of ['\tat a.B.c(B.java:1)', '    at a.B', 'Caused by: x', 'Suppressed: y', '... 5 more', 'java.lang.IllegalStateException: bad', 'com.acme.Thing', 'IOException: x']) {
      expect(isStackTraceLine(line)).toBe(true);
      expect(repairHardWraps('x - open{', 4, [line]).rest).toEqual([line]);
    }
    expect(isStackTraceLine("r'}")).toBe(false);
  });

  it('detects unclosed delimiters', () => {
    expect(hasUnclosedDelimiter("{type=hosted, name='a")).toBe(true);
    expect(hasUnclosedDelimiter('(a, b')).toBe(true);
    expect(hasUnclosedDelimiter("{name='a'}")).toBe(false);
    expect(hasUnclosedDelimiter("can't stop")).toBe(false);
  });
});
