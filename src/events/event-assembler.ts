/**
 * Lines -> events. A line that starts with a timestamp starts an event; any other line
 * continues the event before it (stack traces, hard wraps).
 *
 * Only events whose header line carries a prefilter literal are decoded and parsed; the
 * rest cost a flag test. To keep event time moving through stretches with no relevant
 * events, the timestamp of one header every `sampleEvery` lines is parsed and reported as
 * a tick. The sampled lines depend only on line positions, never on how input was chunked.
 */
import { LINE_HAS_LITERAL, LINE_TRUNCATED, type LineSink } from '../lines/line-splitter';
import { parseHeader } from './header-parser';
import { hasUnclosedDelimiter, repairHardWraps } from './hard-wraps';
import type { SourceCounters } from './event-extractor';
import type { LogEvent } from './log-event';
import { parseTimestamp, startsWithTimestamp } from './timestamp';

export interface EventSink {
  /** A complete relevant event. */
  event(event: LogEvent): void;
  /** Event time observed on a line no rule needed: lets windows close in quiet stretches. */
  tick(epochMs: number): void;
}

export interface EventAssemblerOptions {
  source: string;
  /**
   * Literals of the rules that read continuation lines (stack traces). For other events the
   * continuation lines are counted, not decoded: most relevant events never need them.
   */
  continuationLiterals?: readonly string[];
  /** Continuation lines kept per event; more are counted, not kept. */
  maxContinuationLines: number;
  /** Parse one header timestamp about every this many irrelevant lines. */
  sampleEvery: number;
}

/** The counts an assembler keeps (lines and bytes are the splitter's). */
export type AssemblerCounters = Pick<SourceCounters, 'events' | 'relevantEvents' | 'unparsedLines' | 'truncatedLines'>;

/** Where an assembler is, as plain JSON. */
export interface AssemblerState {
  pending: PendingEvent | null;
  sampleCountdown: number;
  counters: AssemblerCounters;
}

interface PendingEvent {
  header: string;
  /**
   * Decode the continuation lines: a rule reads them, or a hard wrap may need repairing.
   * Decided at the first continuation line (null until then): most events have none.
   */
  keepContinuation: boolean | null;
  line: number;
  offset: number;
  continuation: string[];
  continuationDropped: number;
  truncated: boolean;
}

export class EventAssembler implements LineSink {
  readonly counters: AssemblerCounters = { events: 0, relevantEvents: 0, unparsedLines: 0, truncatedLines: 0 };
  private readonly sink: EventSink;
  private readonly options: EventAssemblerOptions;
  private pending: PendingEvent | null = null;
  private sampleCountdown: number;

  constructor(sink: EventSink, options: EventAssemblerOptions) {
    this.sink = sink;
    this.options = options;
    this.sampleCountdown = options.sampleEvery;
  }

  line(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number): void {
    if (flags & LINE_TRUNCATED) this.counters.truncatedLines++;
    // Byte compares only (no decode): cheap enough to count every event.
    const isHeader = startsWithTimestamp(buf, start, end);
    if (isHeader) this.counters.events++;
    else if (this.counters.events === 0) this.counters.unparsedLines++;
    const pending = this.pending;
    if (!(flags & LINE_HAS_LITERAL) && pending === null) {
      if (--this.sampleCountdown > 0 || !isHeader) return;
      this.sample(buf, start, end);
      return;
    }
    if (!isHeader) {
      // A literal inside a continuation of an event nobody needs is ignored: rules match headers.
      if (pending !== null) this.addContinuation(pending, buf, start, end, flags);
      return;
    }
    if (pending !== null) this.finishPending();
    if (flags & LINE_HAS_LITERAL) {
      this.pending = {
        header: buf.toString('utf8', start, end),
        keepContinuation: null,
        line: lineNumber,
        offset: byteOffset,
        continuation: [],
        continuationDropped: 0,
        truncated: (flags & LINE_TRUNCATED) !== 0,
      };
    }
  }

  state(): AssemblerState {
    return {
      pending: this.pending === null ? null : { ...this.pending, continuation: [...this.pending.continuation] },
      sampleCountdown: this.sampleCountdown,
      counters: { ...this.counters },
    };
  }

  restoreState(state: AssemblerState): void {
    this.pending = state.pending === null ? null : { ...state.pending, continuation: [...state.pending.continuation] };
    this.sampleCountdown = state.sampleCountdown;
    Object.assign(this.counters, state.counters);
  }

  /** Hands on the event in progress, if any (end of a source, or a live stream gone quiet). */
  flush(): void {
    if (this.pending !== null) this.finishPending();
  }

  /** Called on a header line once the countdown ran out (it stays at 0 until a header comes). */
  private sample(buf: Buffer, start: number, end: number): void {
    this.sampleCountdown = this.options.sampleEvery;
    const parsed = parseTimestamp(buf.toString('latin1', start, Math.min(end, start + 40)), 0);
    if (parsed !== undefined) this.sink.tick(parsed.epochMs);
  }

  private addContinuation(pending: PendingEvent, buf: Buffer, start: number, end: number, flags: number): void {
    if (flags & LINE_TRUNCATED) pending.truncated = true;
    const header = pending.header;
    pending.keepContinuation ??=
      hasUnclosedDelimiter(header) || (this.options.continuationLiterals ?? []).some((literal) => header.includes(literal));
    if (pending.keepContinuation && pending.continuation.length < this.options.maxContinuationLines) {
      pending.continuation.push(buf.toString('utf8', start, end));
    } else {
      pending.continuationDropped++;
    }
  }

  private finishPending(): void {
    const pending = this.pending as PendingEvent;
    this.pending = null;
    const header = parseHeader(pending.header);
    if (header === undefined) {
      this.counters.unparsedLines++;
      return;
    }
    const messageStart = pending.header.length - header.message.length;
    const repaired = repairHardWraps(pending.header, messageStart, pending.continuation);
    this.counters.relevantEvents++;
    this.sink.event({
      source: this.options.source,
      line: pending.line,
      offset: pending.offset,
      time: header.epochMs,
      timestampText: header.timestampText,
      level: header.level,
      thread: header.thread,
      node: header.node === '' ? null : header.node,
      user: header.user,
      logger: header.logger,
      message: repaired.header.slice(messageStart),
      text: repaired.header,
      continuation: repaired.rest,
      continuationDropped: pending.continuationDropped,
      truncated: pending.truncated,
    });
  }
}
