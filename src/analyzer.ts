/**
 * The synchronous core: bytes -> lines -> events -> rules -> incidents, with no I/O, no
 * timers and no global state. The Transform, `analyzeFiles` and the CLI are thin layers on it,
 * and a log shipper can embed it directly.
 */
import type { EventSink } from './events/event-assembler';
import {
  addCounters,
  EventExtractor,
  NO_SOURCE_COUNTERS,
  type ExtractorOptions,
  type ExtractorState,
  type SourceCounters,
} from './events/event-extractor';
import type { LogEvent } from './events/log-event';
import type { Incident } from './incidents/incident';
import { builtinRules } from './rules/builtin/index';
import { LiveClock } from './source/live-clock';
import { CorrelationEngine, type EngineCounters, type EngineState } from './rules/engine';
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
  /**
   * Also return incidents as they open and grow (`lifecycle: 'opened' | 'updated'`, with
   * `closeReason: null`), not only when they close. Default false.
   */
  lifecycle?: boolean;
  /**
   * For `push` / `advance` (live use): ms without data after which the event in progress is
   * complete and event time follows the wall clock. Default 10.
   */
  liveIdleMs?: number;
}

/**
 * A checkpoint: everything an Analyzer needs to go on exactly where it was, as plain JSON.
 * Save it with the byte offset it names (`source.offset`): a restarted shipper restores it and
 * reads the file on from that offset, and every push is reported exactly once.
 */
export interface AnalyzerSnapshot {
  version: 1;
  source: {
    name: string;
    /** Bytes of this source consumed: read on from here. */
    offset: number;
    state: ExtractorState;
  };
  /** Counters of the sources finished before it. */
  finishedSources: SourceCounters;
  engine: EngineState;
}

/** What a shipper passes with each line it pushes. */
export interface PushMeta {
  /** The file the line comes from; a new name starts a new source (log rotation). */
  source?: string;
  /** Wall-clock time the line was read, epoch ms. Default: now. */
  now?: number;
}

/** What was read (summed over sources, see SourceCounters) and what the rules made of it. */
export interface AnalyzerStats extends SourceCounters, EngineCounters {
  /** Groups open now. */
  openGroups: number;
}

export const DEFAULTS = {
  windowMs: 10_000,
  maxOpenGroups: 10_000,
  maxLineBytes: 1024 * 1024,
  maxContinuationLines: 256,
  /** One header timestamp parsed about every this many lines no rule needs (keeps windows closing). */
  sampleEvery: 1024,
  liveIdleMs: 10,
} as const;

const NOTHING: readonly Incident[] = Object.freeze([]);

/**
 * What an extractor hands the rules, in order: an event, or a clock tick (epoch ms).
 * Workers send these across threads when several files are read at once.
 */
export type ExtractedRecord = LogEvent | number;

export class Analyzer {
  private readonly engine: CorrelationEngine;
  private readonly prefilters: { literals: string[]; gatedLiterals: Record<string, string[]>; continuationLiterals: string[] };
  private readonly maxLineBytes: number;
  private readonly maxContinuationLines: number;
  private readonly eventSink: EventSink;
  private outbox: Incident[] = [];
  private extractor: EventExtractor | null = null;
  private sourceName: string;
  private readonly liveIdleMs: number;
  private readonly clock = new LiveClock();
  private lastDataAt = Number.NEGATIVE_INFINITY;
  private flushedSinceData = true;
  private ended = false;
  /** Counters of finished sources. */
  private readonly totals: SourceCounters = { ...NO_SOURCE_COUNTERS };

  constructor(options: AnalyzerOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULTS.windowMs;
    if (!(windowMs >= 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be a finite number >= 0, got ${windowMs}`);
    const rules = options.rules ?? builtinRules({ windowMs });
    this.engine = new CorrelationEngine(
      rules,
      { maxOpenGroups: options.maxOpenGroups ?? DEFAULTS.maxOpenGroups, lifecycle: options.lifecycle === true },
      (incident) => this.outbox.push(incident),
    );
    this.prefilters = this.engine.prefilters;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULTS.maxLineBytes;
    this.maxContinuationLines = options.maxContinuationLines ?? DEFAULTS.maxContinuationLines;
    const engine = this.engine;
    this.eventSink = {
      event: (event: LogEvent) => engine.process(event),
      tick: (epochMs: number) => engine.advance(epochMs),
    };
    this.liveIdleMs = options.liveIdleMs ?? DEFAULTS.liveIdleMs;
    this.sourceName = options.source ?? '-';
    this.beginSource(this.sourceName);
  }

  /**
   * Starts a new source (file): line numbers and offsets restart, the previous source's
   * last line and event are finished. Open groups carry over, so a push that spans a log
   * rotation is still one incident.
   */
  beginSource(name: string): readonly Incident[] {
    this.assertOpen();
    this.finishSource();
    this.extractor = new EventExtractor(this.eventSink, { ...this.extractorOptions(), source: name });
    this.sourceName = name;
    return this.take();
  }

  /**
   * The shipper's entry: one line, read at `meta.now`. A different `meta.source` starts a new
   * source first (the file rotated). Pair with `advance(now)` on a timer.
   */
  push(line: Uint8Array | string, meta: PushMeta = {}): readonly Incident[] {
    const switched = meta.source !== undefined && meta.source !== this.sourceName ? this.beginSource(meta.source) : NOTHING;
    const closed = this.writeLine(line);
    this.dataArrived(meta.now ?? Date.now());
    return switched.length === 0 ? closed : [...switched, ...closed];
  }

  /**
   * The wall clock moved on (call it on a timer, e.g. every 10-100 ms, in live use). After
   * `liveIdleMs` without data the event in progress is complete, and event time follows the
   * wall clock from the last log time seen, so windows close while the log is quiet.
   */
  advance(nowMs: number): readonly Incident[] {
    this.assertOpen();
    if (nowMs - this.lastDataAt < this.liveIdleMs) return NOTHING;
    if (!this.flushedSinceData) {
      this.flushedSinceData = true;
      (this.extractor as EventExtractor).flushPendingEvent();
    }
    const eventTimeNow = this.clock.eventTimeNow(nowMs);
    if (eventTimeNow > this.engine.eventTime) this.engine.advance(eventTimeNow);
    return this.take();
  }

  /** Bytes or lines of a live stream arrived at `now` (`push` and `write` callers in live use). */
  dataArrived(now: number): void {
    this.lastDataAt = now;
    this.flushedSinceData = false;
    this.clock.data(this.engine.eventTime, now);
  }

  /** Raw bytes of the current source, in any chunking. Strings are encoded as UTF-8. */
  write(chunk: Uint8Array | string): readonly Incident[] {
    this.assertOpen();
    (this.extractor as EventExtractor).write(toBuffer(chunk));
    return this.take();
  }

  /** Exactly one line (its terminator optional), for callers that split lines themselves. */
  writeLine(line: Uint8Array | string): readonly Incident[] {
    this.assertOpen();
    (this.extractor as EventExtractor).writeLine(toBuffer(line));
    return this.take();
  }

  /**
   * The event in progress is complete even if no further line arrives (a live stream that
   * went quiet). Results then depend on timing; batch callers never need this.
   */
  flushPendingEvent(): readonly Incident[] {
    this.assertOpen();
    (this.extractor as EventExtractor).flushPendingEvent();
    return this.take();
  }

  /** A checkpoint of everything open, as plain JSON (see AnalyzerSnapshot). */
  snapshot(): AnalyzerSnapshot {
    this.assertOpen();
    const extractor = this.extractor as EventExtractor;
    return {
      version: 1,
      source: { name: this.sourceName, offset: extractor.counters.bytes, state: extractor.state() },
      finishedSources: { ...this.totals },
      engine: this.engine.state(),
    };
  }

  /**
   * An Analyzer that goes on from a checkpoint. Give it the options (and rules) the
   * checkpointed one had; then feed the source on from `snapshot.source.offset`.
   */
  static restore(snapshot: AnalyzerSnapshot, options: AnalyzerOptions = {}): Analyzer {
    if (snapshot.version !== 1) throw new Error(`checkpoint version ${String(snapshot.version)} is not one this analyzer reads`);
    const analyzer = new Analyzer({ ...options, source: snapshot.source.name });
    (analyzer.extractor as EventExtractor).restoreState(snapshot.source.state);
    Object.assign(analyzer.totals, snapshot.finishedSources);
    analyzer.engine.restoreState(snapshot.engine);
    return analyzer;
  }

  /** How a source must be read for this analyzer's rules: for extractors running elsewhere (workers). */
  extractorOptions(): Omit<ExtractorOptions, 'source'> {
    return {
      ...this.prefilters,
      maxLineBytes: this.maxLineBytes,
      maxContinuationLines: this.maxContinuationLines,
      sampleEvery: DEFAULTS.sampleEvery,
    };
  }

  /**
   * Events and ticks extracted elsewhere (a worker thread reading a file), in source order,
   * with that source's counters once it is done. Gives the same incidents as writing the bytes.
   */
  ingest(records: readonly ExtractedRecord[], finishedSourceCounters?: Readonly<SourceCounters>): readonly Incident[] {
    this.assertOpen();
    for (const record of records) {
      if (typeof record === 'number') this.engine.advance(record);
      else this.engine.process(record);
    }
    if (finishedSourceCounters !== undefined) addCounters(this.totals, finishedSourceCounters);
    return this.take();
  }

  /** The latest event (log) time seen, epoch ms; -Infinity before any. */
  get eventTime(): number {
    return this.engine.eventTime;
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
    const sources = { ...this.totals };
    if (this.extractor !== null) addCounters(sources, this.extractor.counters);
    const engine = this.engine.counters;
    return { ...sources, ...engine, incidentsByRule: { ...engine.incidentsByRule }, openGroups: this.engine.openGroups };
  }

  private close(reason: 'end-of-input' | 'shutdown'): readonly Incident[] {
    if (this.ended) return NOTHING;
    this.finishSource();
    this.engine.closeAll(reason);
    this.ended = true;
    return this.take();
  }

  private finishSource(): void {
    const extractor = this.extractor;
    if (extractor === null) return;
    extractor.end();
    addCounters(this.totals, extractor.counters);
    this.extractor = null;
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
