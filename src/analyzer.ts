/**
 * The synchronous core: bytes -> lines -> events -> rules -> incidents, with no I/O, no
 * timers and no global state. The Transform, `analyzeFiles` and the CLI are thin layers on it,
 * and a log shipper can embed it directly.
 */
import { EventAssembler, type EventSink } from './events/event-assembler';
import type { LogEvent } from './events/log-event';
import type { Incident } from './incidents/incident';
import { LineSplitter } from './lines/line-splitter';
import { builtinRules } from './rules/builtin/index';
import { CorrelationEngine } from './rules/engine';
import type { AnyRule } from './rules/rule';

export interface AnalyzerOptions {
  /** Correlation window in log time, for the built-in rules. Default 10,000 ms. */
  windowMs?: number;
  /** Open groups kept at once; past it the oldest is emitted with closeReason `evicted`. Default 10,000. */
  maxOpenGroups?: number;
  /** Bytes kept of a longer line (the line is flagged and counted). Default 1 MiB. */
  maxLineBytes?: number;
  /** Continuation (stack trace) lines kept per event. Default 256. */
  maxContinuationLines?: number;
  /** Rules to run. Default: the built-in catalogue. */
  rules?: readonly AnyRule[];
  /** Name of the first source, used in evidence. Default `-` (stdin). */
  source?: string;
}

export interface AnalyzerStats {
  lines: number;
  bytes: number;
  /** Log events (lines that start with a timestamp). */
  events: number;
  /** Events whose header a rule's prefilter matched: the only ones decoded and parsed. */
  relevantEvents: number;
  /** Lines in no known Nexus layout (before the first event of a source, or unparseable headers). */
  unparsedLines: number;
  truncatedLines: number;
  incidents: number;
  incidentsByRule: Record<string, number>;
  openGroups: number;
  evicted: number;
  /** Events older than the latest time seen; still correlated (docs/reliability.md). */
  lateEvents: number;
  /** Exact repeats of a recent relevant line (a shipper that retried); not correlated twice. */
  duplicateEvents: number;
}

export const DEFAULTS = {
  windowMs: 10_000,
  maxOpenGroups: 10_000,
  maxLineBytes: 1024 * 1024,
  maxContinuationLines: 256,
  /** One header timestamp parsed about every this many lines no rule needs (keeps windows closing). */
  sampleEvery: 1024,
} as const;

const NOTHING: readonly Incident[] = Object.freeze([]);

interface SourceReader {
  splitter: LineSplitter;
  assembler: EventAssembler;
}

export class Analyzer {
  private readonly engine: CorrelationEngine;
  private readonly literals: string[];
  private readonly maxLineBytes: number;
  private readonly maxContinuationLines: number;
  private readonly eventSink: EventSink;
  private outbox: Incident[] = [];
  private reader: SourceReader | null = null;
  private ended = false;
  private readonly totals = { lines: 0, bytes: 0, events: 0, relevantEvents: 0, unparsedLines: 0, truncatedLines: 0 };

  constructor(options: AnalyzerOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULTS.windowMs;
    if (!(windowMs >= 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be a finite number >= 0, got ${windowMs}`);
    const rules = options.rules ?? builtinRules({ windowMs });
    this.engine = new CorrelationEngine(
      rules,
      { maxOpenGroups: options.maxOpenGroups ?? DEFAULTS.maxOpenGroups },
      (incident) => this.outbox.push(incident),
    );
    this.literals = this.engine.literals;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULTS.maxLineBytes;
    this.maxContinuationLines = options.maxContinuationLines ?? DEFAULTS.maxContinuationLines;
    const engine = this.engine;
    this.eventSink = {
      event: (event: LogEvent) => engine.process(event),
      tick: (epochMs: number) => engine.advance(epochMs),
    };
    this.beginSource(options.source ?? '-');
  }

  /**
   * Starts a new source (file): line numbers and offsets restart, the previous source's
   * last line and event are finished. Open groups carry over, so a push that spans a log
   * rotation is still one incident.
   */
  beginSource(name: string): readonly Incident[] {
    this.assertOpen();
    this.finishSource();
    const assembler = new EventAssembler(this.eventSink, {
      source: name,
      maxContinuationLines: this.maxContinuationLines,
      sampleEvery: DEFAULTS.sampleEvery,
    });
    const splitter = new LineSplitter(assembler, { literals: this.literals, maxLineBytes: this.maxLineBytes });
    this.reader = { splitter, assembler };
    return this.take();
  }

  /** Raw bytes of the current source, in any chunking. Strings are encoded as UTF-8. */
  write(chunk: Uint8Array | string): readonly Incident[] {
    this.assertOpen();
    (this.reader as SourceReader).splitter.write(toBuffer(chunk));
    return this.take();
  }

  /** Exactly one line (its terminator optional), for callers that split lines themselves. */
  writeLine(line: Uint8Array | string): readonly Incident[] {
    this.assertOpen();
    (this.reader as SourceReader).splitter.writeLine(toBuffer(line));
    return this.take();
  }

  /**
   * The event in progress is complete even if no further line arrives (a live stream that
   * went quiet). Results then depend on timing; batch callers never need this.
   */
  flushPendingEvent(): readonly Incident[] {
    this.assertOpen();
    (this.reader as SourceReader).assembler.flush();
    return this.take();
  }

  /** Moves event time forward (e.g. from a clock) and returns the groups whose window passed. */
  advanceTo(epochMs: number): readonly Incident[] {
    this.assertOpen();
    this.engine.advance(epochMs);
    return this.take();
  }

  /** End of all input: every open group becomes an incident (`end-of-input`). */
  end(): readonly Incident[] {
    return this.close('end-of-input');
  }

  /** Stop requested: every open group becomes an incident (`shutdown`). */
  shutdown(): readonly Incident[] {
    return this.close('shutdown');
  }

  get stats(): AnalyzerStats {
    const current = this.reader;
    const engine = this.engine.counters;
    return {
      lines: this.totals.lines + (current?.splitter.lineCount ?? 0),
      bytes: this.totals.bytes + (current?.splitter.byteCount ?? 0),
      events: this.totals.events + (current?.assembler.counters.events ?? 0),
      relevantEvents: this.totals.relevantEvents + (current?.assembler.counters.relevantEvents ?? 0),
      unparsedLines: this.totals.unparsedLines + (current?.assembler.counters.unparsedLines ?? 0),
      truncatedLines: this.totals.truncatedLines + (current?.assembler.counters.truncatedLines ?? 0),
      incidents: engine.incidents,
      incidentsByRule: { ...engine.incidentsByRule },
      openGroups: this.engine.openGroups,
      evicted: engine.evicted,
      lateEvents: engine.lateEvents,
      duplicateEvents: engine.duplicateEvents,
    };
  }

  private close(reason: 'end-of-input' | 'shutdown'): readonly Incident[] {
    if (this.ended) return NOTHING;
    this.finishSource();
    this.engine.closeAll(reason);
    this.ended = true;
    return this.take();
  }

  private finishSource(): void {
    const reader = this.reader;
    if (reader === null) return;
    reader.splitter.end();
    reader.assembler.flush();
    this.totals.lines += reader.splitter.lineCount;
    this.totals.bytes += reader.splitter.byteCount;
    const counters = reader.assembler.counters;
    this.totals.events += counters.events;
    this.totals.relevantEvents += counters.relevantEvents;
    this.totals.unparsedLines += counters.unparsedLines;
    this.totals.truncatedLines += counters.truncatedLines;
    this.reader = null;
  }

  private take(): readonly Incident[] {
    if (this.outbox.length === 0) return NOTHING;
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error('analyzer has ended: create a new Analyzer for new input');
  }
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
