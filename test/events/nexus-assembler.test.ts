/**
 * nexus.log lines -> events: dispatch by level, logger and literals (binding), stack traces,
 * hard wraps, cut headers, every layout, counters and ticks.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildDispatchPlan, type ReadSpecShape } from '../../src/events/dispatch-plan';
import { NO_SOURCE_COUNTERS, type SourceCounters } from '../../src/events/event-sink';
import { hasUnclosedDelimiter, isStackTraceLine, repairHardWraps } from '../../src/events/hard-wraps';
import type { NexusEvent } from '../../src/events/log-event';
import { NexusAssembler, TICK_BYTES } from '../../src/events/nexus-assembler';
import { LineSplitter } from '../../src/lines/line-splitter';
import { FIXTURES, SAMPLES } from '../support/helpers';

interface Assembled {
  events: Array<NexusEvent & { rules: number[] }>;
  ticks: number[];
  counters: SourceCounters;
}

/** Assembles `text` for rules that read `reads` (rule i reads reads[i]), in chunks of `chunk` bytes. */
function assemble(text: string | Buffer, reads: ReadSpecShape[][], options: { maxContinuationLines?: number; chunk?: number } = {}): Assembled {
  const events: Assembled['events'] = [];
  const ticks: number[] = [];
  const counters = { ...NO_SOURCE_COUNTERS };
  const plan = buildDispatchPlan(reads.map((r, i) => ({ id: `r${i}`, reads: r })));
  const assembler = new NexusAssembler(
    { event: (e, rules) => events.push({ ...(e as NexusEvent), rules }), tick: (t) => ticks.push(t) },
    { kind: 'nexus', source: 'test.log', plan: plan.nexus, ruleCount: plan.ruleCount, maxContinuationLines: options.maxContinuationLines ?? 256, maxEventChars: 1 << 20 },
    counters,
  );
  const splitter = new LineSplitter(assembler, { maxLineBytes: 1 << 20 });
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const size = options.chunk ?? bytes.length;
  for (let at = 0; at < bytes.length; at += Math.max(1, size)) splitter.write(bytes.subarray(at, at + Math.max(1, size)));
  splitter.end();
  assembler.end();
  return { events, ticks, counters };
}

const H = (ts: string, level: string, logger: string, msg: string, thread = 't1'): string =>
  `2025-09-10 01:36:${ts}+0000 ${level.padEnd(5)} [${thread}]  *SYSTEM org.sonatype.nexus.${logger} - ${msg}`;
const WARN_FAILURE: ReadSpecShape[] = [{ levels: ['WARN'], literals: ['Failure'] }];

describe('NexusAssembler dispatch', () => {
  it('hands on an event only when its message holds a literal of a rule that reads its level', () => {
    const text = [H('22,001', 'WARN', 'x.A', 'Failure here'), H('22,002', 'INFO', 'x.A', 'Failure at INFO'), H('22,003', 'DEBUG', 'x.A', 'Failure at DEBUG'), H('22,004', 'WARN', 'x.A', 'nothing')].join('\n');
    const { events, counters } = assemble(text, [WARN_FAILURE]);
    expect(events.map((e) => [e.level, e.message, e.rules])).toEqual([['WARN', 'Failure here', [0]]]);
    expect(counters).toMatchObject({ events: 4, relevantEvents: 1 });
  });

  it('binds loggers: a rule that names one never sees another logger\'s lines, even with its literal', () => {
    const reads: ReadSpecShape[][] = [[{ levels: ['INFO'], loggers: ['QuartzTaskInfo'], literals: [{ text: '(FAILED)', at: 'end' }] }], [{ levels: ['INFO'], literals: ['Failure'] }]];
    const text = [
      H('22,001', 'INFO', 'quartz.internal.task.QuartzTaskInfo', "Task 'x' [y] state change RUNNING -> WAITING (FAILED)"),
      H('22,002', 'INFO', 'other.NotQuartz', "Task 'x' [y] state change RUNNING -> WAITING (FAILED)"),
      H('22,003', 'INFO', 'other.Thing', 'Failure of another rule'),
      H('22,004', 'INFO', 'quartz.internal.task.QuartzTaskInfo', 'Failure is read by the rule with no logger, from any logger'),
    ].join('\n');
    expect(assemble(text, reads).events.map((e) => [e.line, e.rules])).toEqual([
      [1, [0]],
      [3, [1]],
      [4, [1]],
    ]);
  });

  it('one search for all the rules of a level: each line gets exactly the rules whose literals it holds', () => {
    const reads: ReadSpecShape[][] = Array.from({ length: 40 }, (_, i) => [{ levels: ['WARN', 'ERROR'], literals: [`needle-${i}-end`] }]);
    const text = [H('22,001', 'WARN', 'x.A', 'needle-3-end and needle-17-end'), H('22,002', 'ERROR', 'x.B', 'needle-39-end'), H('22,003', 'WARN', 'x.C', 'needle-40-end')].join('\n');
    expect(assemble(text, reads).events.map((e) => e.rules.sort((a, b) => a - b))).toEqual([[3, 17], [39]]);
  });

  it('anchored literals match only at the start or end of the message', () => {
    const reads: ReadSpecShape[][] = [[{ levels: ['INFO'], loggers: ['HttpClientFacetImpl'], literals: [{ text: 'Repository status for ', at: 'start' }] }]];
    const text = [
      H('22,001', 'INFO', 'repository.httpclient.internal.HttpClientFacetImpl', 'Repository status for npm-proxy changed from READY to AVAILABLE'),
      H('22,002', 'INFO', 'repository.httpclient.internal.HttpClientFacetImpl', 'See Repository status for npm-proxy'),
    ].join('\n');
    expect(assemble(text, reads).events.map((e) => e.line)).toEqual([1]);
  });

  it('reads the level and logger in every layout: no offset, T, dot millis, Z, collapsed and padded spaces, HA node, nested brackets', () => {
    const reads: ReadSpecShape[][] = [[{ levels: ['WARN'], loggers: ['V2Handlers'], literals: ['Invalid Manifest'] }]];
    const m = 'org.sonatype.nexus.repository.docker.internal.V2Handlers - Error: PUT /v2/a/manifests/1: 400 - Invalid Manifest';
    const lines = [
      `2025-09-10 01:36:22,857+0000 WARN  [qtp1-1]  ci ${m}`,
      `2025-09-10 01:36:22,857 WARN  [qtp1-1]  ci ${m}`,
      `2025-09-10T01:36:22.857+02:00 WARN [qtp1-1] ci ${m}`,
      `2025-09-10 01:36:22,857Z WARN [qtp1-1] ci ${m}`,
      `2025-09-10 01:36:22,857+0000 WARN [qtp1-1] ci ${m}`,
      `2025-09-10 01:36:22,857+0000 WARN  [qtp1-1] node-b ci ${m}`,
      `2025-09-10 01:36:22,857+0000 WARN  [elasticsearch[C5E1][generic][T#1]]  ci ${m}`,
      `2025-09-10 01:36:22,857-0400   WARN   [SIGTERM handler] ci ${m}`,
    ];
    const { events } = assemble(lines.join('\n'), reads);
    expect(events.map((e) => [e.line, e.thread, e.logger.endsWith('V2Handlers')])).toEqual(lines.map((_l, i) => [i + 1, expect.any(String), true]));
    expect(events[6]?.thread).toBe('elasticsearch[C5E1][generic][T#1]');
    expect(events[5]?.node).toBe('node-b');
  });
});

describe('NexusAssembler cut headers', () => {
  it('a header cut before its separator, then a record line: the record is read as itself, in any chunking (fuzz finding)', () => {
    // Settling the cut header used the scanner that held the record line's level and logger.
    const text = [
      '2026-11-20 12:05:00,000+0000 INFO  [quartz-10-thread-3]  *SYSTEM org.sonatype.nexus.quartz.int',
      H('22,309', 'WARN', 'repository.docker.internal.V2Handlers', 'Error: PUT /v2/web/frontend/manifests/pr-1432: 400 - V2Exception: Invalid Manifest', 'qtp1-54'),
      'caused by nothing',
    ].join('\n');
    const reads: ReadSpecShape[][] = [[{ levels: ['WARN'], loggers: ['V2Handlers'], literals: ['Invalid Manifest'] }], [{ levels: ['INFO'], loggers: ['QuartzTaskInfo'], literals: [' state change '] }]];
    const whole = assemble(text, reads).events.map((e) => [e.line, e.level, e.rules]);
    expect(whole).toEqual([[2, 'WARN', [0]]]);
    for (let chunk = 1; chunk < 200; chunk += 7) expect(assemble(text, reads, { chunk }).events.map((e) => [e.line, e.level, e.rules])).toEqual(whole);
  });
});

describe('NexusAssembler stack traces', () => {
  const trace = ['java.net.SocketTimeoutException: Read timed out', '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)', 'Caused by: java.io.IOException: boom', '\t... 87 common frames omitted'];

  it('keeps the exception lines (never the frames) for rules that read them', () => {
    const text = [H('22,001', 'WARN', 'x.H', 'Failure servicing: GET /x'), ...trace, H('22,002', 'WARN', 'x.H', 'Failure again')].join('\n');
    const { events } = assemble(text, [[{ levels: ['WARN'], literals: ['Failure'], continuation: true }]]);
    expect(events[0]?.continuation).toEqual(['java.net.SocketTimeoutException: Read timed out', 'Caused by: java.io.IOException: boom']);
    expect(events[0]?.continuationDropped).toBe(2);
    expect(events[1]?.continuation).toEqual([]);
  });

  it('counts them without decoding when no rule reads them', () => {
    const text = [H('22,001', 'WARN', 'x.H', 'Failure servicing'), ...trace, H('22,002', 'WARN', 'x.H', 'next')].join('\n');
    const { events } = assemble(text, [WARN_FAILURE]);
    expect([events[0]?.continuation, events[0]?.continuationDropped]).toEqual([[], 4]);
  });

  it('an event whose trace holds a literal of a rule reading traces is relevant to that rule, whatever its header says', () => {
    const text = [
      H('22,001', 'ERROR', 'internal.web.ErrorPageServlet', 'Unexpected exception'),
      'java.lang.OutOfMemoryError: Java heap space',
      '\tat java.util.Arrays.copyOf(Arrays.java:3332)',
      H('22,002', 'ERROR', 'internal.web.ErrorPageServlet', 'Unexpected exception'),
      'java.lang.IllegalStateException: not this one',
    ].join('\n');
    const reads: ReadSpecShape[][] = [[{ levels: ['ERROR'], literals: ['OutOfMemoryError'], continuation: true }], [{ levels: ['WARN'], literals: ['OutOfMemoryError'] }]];
    const { events } = assemble(text, reads);
    expect(events.map((e) => [e.line, e.rules, e.continuation])).toEqual([[1, [0], ['java.lang.OutOfMemoryError: Java heap space']]]);
  });

  it('a literal inside another event\'s trace is not seen by rules that read headers only', () => {
    const text = [H('22,001', 'WARN', 'x.A', 'boring'), 'java.lang.IllegalStateException: Failure inside a trace', H('22,002', 'WARN', 'x.A', 'boring too')].join('\n');
    expect(assemble(text, [WARN_FAILURE]).events).toEqual([]);
  });

  it('keeps at most maxContinuationLines exception lines per event and counts the rest', () => {
    const text = [H('22,001', 'WARN', 'x.A', 'Failure'), ...Array.from({ length: 10 }, (_, i) => `Caused by: x.E${i}: m`)].join('\n');
    const { events } = assemble(text, [[{ levels: ['WARN'], literals: ['Failure'], continuation: true }]], { maxContinuationLines: 3 });
    expect(events[0]?.continuation).toHaveLength(3);
    expect(events[0]?.continuationDropped).toBe(7);
  });
});

describe('NexusAssembler places, counters and ticks', () => {
  it('carries source, line number and byte offset of the header; finishes the last event at end of input', () => {
    const first = H('22,001', 'WARN', 'x.A', 'other');
    const { events } = assemble(`${first}\n${H('22,002', 'WARN', 'x.A', 'Failure here')}`, [WARN_FAILURE]);
    expect(events.map((e) => [e.source, e.line, e.offset])).toEqual([['test.log', 2, first.length + 1]]);
  });

  it('counts every event, the relevant ones, and lines before the first event', () => {
    const text = ['foreign line one', 'foreign line two', H('22,001', 'WARN', 'x.A', 'Failure'), '\tat a.B(B.java:1)', H('22,002', 'WARN', 'x.A', 'quiet'), 'continuation'].join('\n');
    expect(assemble(text, [WARN_FAILURE]).counters).toMatchObject({ events: 2, relevantEvents: 1, unparsedLines: 2, truncatedLines: 0 });
  });

  it('reports the time of each header that crosses a 64 KiB boundary, in any chunking', () => {
    const lines = Array.from({ length: 4000 }, (_, i) => H(`${String(10 + (i % 40)).padStart(2, '0')},${String(i % 1000).padStart(3, '0')}`, 'INFO', 'x.A', `noise ${i}`));
    const text = lines.join('\n');
    const { ticks } = assemble(text, [WARN_FAILURE]);
    expect(ticks.length).toBe(Math.floor(Buffer.byteLength(text) / TICK_BYTES));
    for (const chunk of [1, 333, 65536, 100_000]) expect(assemble(text, [WARN_FAILURE], { chunk }).ticks).toEqual(ticks);
  });
});

describe('hard wraps and cut headers', () => {
  it('repairs the hard-wrapped seed excerpt so the repository name parses exactly', () => {
    const text = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), 'utf8');
    const reads: ReadSpecShape[][] = [[{ levels: ['ERROR', 'WARN'], literals: ['Manifest refers to missing layer', 'Invalid Manifest'] }]];
    const { events } = assemble(text, reads);
    expect(events).toHaveLength(6);
    for (const event of events.slice(0, 5)) {
      expect(event.message.endsWith("name='ctbots-docker'}")).toBe(true);
      expect(event.continuation).toEqual([]);
    }
    expect(events.map((e) => e.line)).toEqual([1, 3, 5, 7, 9, 10]);
  });

  it('joins a header wrapped at spaces before its separator, then reads it whole (cnpm/cnpm#236 as posted)', () => {
    const text = readFileSync(path.join(FIXTURES, 'real', 'cnpm-236-auto-blocked-read-timeout-wrapped.log'), 'utf8');
    const reads: ReadSpecShape[][] = [[{ levels: ['INFO'], loggers: ['HttpClientFacetImpl'], literals: [{ text: 'Repository status for ', at: 'start' }] }]];
    const { events } = assemble(text, reads);
    expect(events).toHaveLength(1);
    expect(events[0]?.logger).toBe('org.sonatype.nexus.repository.httpclient.internal.HttpClientFacetImpl');
    expect(events[0]?.message).toBe(
      'Repository status for ynpm-proxy changed from AVAILABLE to AUTO_BLOCKED_UNAVAILABLE until 2017-12-12T15:30:49.743+08:00 - reason java.net.SocketTimeoutException: Read timed out for https://registry.npm.taobao.org',
    );
    for (const chunk of [1, 7, 50]) expect(assemble(text, reads, { chunk }).events).toEqual(events);
  });

  it('joins a fragment only while a bracket or quote is open, or the text was cut at a space', () => {
    expect(repairHardWraps("x - a{name='ctbots-docke", 4, ["r'}", 'next line'])).toEqual({ header: "x - a{name='ctbots-docker'}", rest: ['next line'] });
    expect(repairHardWraps('x - closed message', 4, ['not a wrap'])).toEqual({ header: 'x - closed message', rest: ['not a wrap'] });
    expect(repairHardWraps('x - cut here ', 4, ['- and here ', 'the end', 'not joined'])).toEqual({ header: 'x - cut here - and here the end', rest: ['not joined'] });
  });

  it('never joins stack-trace lines', () => {
    for (const line of ['\tat a.B.c(B.java:1)', '    at a.B', 'Caused by: x', 'Suppressed: y', '... 5 more', 'java.lang.IllegalStateException: bad', 'com.acme.Thing', 'IOException: x']) {
      expect(isStackTraceLine(line)).toBe(true);
      expect(repairHardWraps('x - open{', 4, [line]).rest).toEqual([line]);
    }
    expect(isStackTraceLine("r'}")).toBe(false);
  });

  it('detects unclosed delimiters, and joins stay linear and capped', () => {
    expect(hasUnclosedDelimiter("{type=hosted, name='a")).toBe(true);
    expect(hasUnclosedDelimiter('(a, b')).toBe(true);
    expect(hasUnclosedDelimiter("{name='a'}")).toBe(false);
    expect(hasUnclosedDelimiter("can't stop")).toBe(false);
    const fragments = Array.from({ length: 255 }, () => 'y'.repeat(256 * 1024));
    const repaired = repairHardWraps('x - {', 4, fragments, 1024 * 1024);
    expect(repaired.header.length).toBeLessThanOrEqual(1024 * 1024);
    expect(repaired.rest.length).toBe(255 - 3);
  });
});

describe('loose text before the first record', () => {
  const reads: ReadSpecShape[][] = [[{ levels: ['WARN', 'ERROR'], literals: ['Attempt to access non-existent blob', 'exists in metadata, but is missing'], continuation: true }], [{ levels: ['WARN'], loggers: ['FileBlobStore'], literals: ['Attempt to access'] }]];

  it('a selection that starts mid-timestamp is read by its header tail, at the time of the record after it (sonatype/docker-nexus#101)', () => {
    const text = readFileSync(path.join(FIXTURES, 'real', 'docker-nexus-101-truncated-copy-missing-blob.log'), 'utf8');
    const { events } = assemble(text, reads);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: 'WARN', thread: 'quartz-9-thread-12', logger: 'org.sonatype.nexus.blobstore.file.FileBlobStore', line: 1, time: Date.UTC(2021, 6, 24, 19, 15, 12, 616) });
    expect(events[0]?.rules.sort()).toEqual([0, 1]);
    expect(events[0]?.timeUnknown).toBeUndefined();
  });

  it('a pasted trace with no timestamp at all is offered to the rules that read any logger, its time unknown', () => {
    const text = ['Stack-trace:', 'org.sonatype.nexus.repository.storage.MissingBlobException: Blob default@ab12 exists in metadata, but is missing from the blobstore', '\tat org.x.Y.z(Y.java:1)', 'Caused by: something else'].join('\n');
    const { events, counters } = assemble(text, reads);
    expect(events.map((e) => [e.line, e.level, e.logger, e.timeUnknown, e.rules, e.continuation])).toEqual([[2, 'ERROR', '', true, [0], ['Caused by: something else']]]);
    expect(counters).toMatchObject({ events: 0, unparsedLines: 4, relevantEvents: 1 });
  });
});
