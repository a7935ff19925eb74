/**
 * The synchronous core: bytes -> lines -> events -> rules -> incidents, with no I/O, no timers
 * and no global state. The Transform, `analyzeFiles` and the CLI are thin layers on it, and a
 * log shipper can embed it directly.
 */
import { buildDispatchPlan, type DispatchPlan, type ReadingRule } from './events/dispatch-plan';
import { addCounters, NO_SOURCE_COUNTERS, type EventSink, type SourceCounters } from './events/event-sink';
import { EventExtractor, type ExtractorState } from './events/event-extractor';
import type { AnyEvent, InputKind } from './events/log-event';
import type { EnrichmentReader } from './events/record-reader';
import { CorrelationEngine, DEFAULT_MAX_OPEN_BYTES, type EngineCounters, type EngineState } from './incidents/engine';
import type { Incident } from './incidents/incident';
import { TimePolicy, DEFAULT_TIME_POLICY, type TimePolicyState } from './incidents/time-policy';
import { docsAddress } from './rules/docs-address';
import { builtinRules } from './rules/builtin/index';
import type { AnyRule, Enrichment, ParkedGroup } from './rules/rule';
import { LiveClock } from './source/live-clock';
import { CheckpointError, validateSnapshot } from './snapshot-validation';

export interface AnalyzerOptions {
  /** Correlation window in log time, for the built-in rules that pair lines of one request. Default 10,000 ms. */
  windowMs?: number;
  /** Open groups kept at once; past it the oldest is emitted with closeReason `evicted`. Default 10,000. */
  maxOpenGroups?: number;
  /** Estimated bytes of open groups (evidence, distinct values, what rules keep) kept at once; past it the oldest are evicted. Default 32 MiB. */
  maxOpenBytes?: number;
  /** Bytes kept of a longer line (the line is flagged and counted). Default 1 MiB. */
  maxLineBytes?: number;
  /** Exception lines (not frames) kept per event. Default 256. */
  maxContinuationLines?: number;
  /** Evidence lines per incident, the last one always among them. Default 32. */
  maxEvidence?: number;
  /** Characters kept of an evidence line; a longer one is cut and carries its length. Default 2,048. */
  maxEvidenceChars?: number;
  /** Rules to run. Default: the built-in catalogue (every rule on). */
  rules?: readonly AnyRule[];
  /** Built-in rules to leave out, by id (only with the default catalogue). */
  disabledRules?: readonly string[];
  /** Name of the first source, used in evidence. Default `-` (stdin). */
  source?: string;
  /** What the first source holds. Default `nexus`. */
  kind?: InputKind;
  /**
   * Also return incidents as they open and grow (`lifecycle: 'opened' | 'updated'`, with
   * `closeReason: null`; updates at count doublings), not only when they close. Default false.
   */
  lifecycle?: boolean;
  /** For `push` / `advance` (live use): ms without data after which the event in progress is complete. Default 10. */
  liveIdleMs?: number;
  /** Event time a line may arrive out of order and still be correlated in order. Default 2,000 ms. */
  reorderMs?: number;
  /** A forward jump of the clock larger than this waits for a second line to confirm it. Default 1 h. */
  maxClockJumpMs?: number;
}

/** A checkpoint: everything an Analyzer needs to go on exactly where it was, as plain JSON. */
export interface AnalyzerSnapshot {
  version: 2;
  source: {
    name: string;
    kind: InputKind;
    /** Bytes of this source consumed: read on from here. */
    offset: number;
    state: ExtractorState;
  };
  /** Counters of the sources finished before it. */
  finishedSources: SourceCounters;
  clocks: Partial<Record<InputKind, number>>;
  time: TimePolicyState;
  engine: EngineState;
}

/** What a shipper passes with each line it pushes. */
export interface PushMeta {
  /** The file the line comes from; a new name starts a new source (log rotation). */
  source?: string;
  /** Wall-clock time the line was read, epoch ms. Default: now. */
  now?: number;
}

import type { AnalyzerStats } from './incidents/stats';
export type { AnalyzerStats } from './incidents/stats';

export const DEFAULTS = {
  windowMs: 10_000,
  maxOpenGroups: 10_000,
  maxOpenBytes: DEFAULT_MAX_OPEN_BYTES,
  maxLineBytes: 1024 * 1024,
  maxContinuationLines: 256,
  maxEvidence: 32,
  maxEvidenceChars: 2048,
  liveIdleMs: 10,
  reorderMs: DEFAULT_TIME_POLICY.reorderMs,
  maxClockJumpMs: DEFAULT_TIME_POLICY.maxClockJumpMs,
} as const;

const NOTHING: readonly Incident[] = Object.freeze([]);

/**
 * What an extractor hands the rules, in order: an event with the indexes of the rules that read
 * it, or a clock tick (epoch ms). Workers send these across threads when several files are read.
 */
export type ExtractedRecord = [AnyEvent, number[]] | number;

/** What workers need to read a source the way this analyzer would (plain data). */
export interface ReadingPlan {
  rules: ReadingRule[];
  maxLineBytes: number;
  maxContinuationLines: number;
}

interface ActiveEnrichment {
  rule: AnyRule;
  enrich: Enrichment<unknown, unknown>;
  collector: unknown;
  groups: Array<ParkedGroup<unknown>>;
}

export class Analyzer {
  /** The first half of a surrogate pair that ended the last string written. */
  private highSurrogate = '';
  private readonly rules: readonly AnyRule[];
  private readonly plan: DispatchPlan;
  private readonly engine: CorrelationEngine;
  private readonly time: TimePolicy;
  private readonly maxLineBytes: number;
  private readonly maxContinuationLines: number;
  private readonly sink: EventSink;
  private outbox: Incident[] = [];
  private extractor: EventExtractor | null = null;
  private sourceName: string;
  private sourceKind: InputKind;
  private readonly liveIdleMs: number;
  private readonly clock = new LiveClock();
  private lastDataAt = Number.NEGATIVE_INFINITY;
  private flushedSinceData = true;
  private ended = false;
  private enrichments: ActiveEnrichment[] = [];
  /** Counters of finished sources. */
  private readonly totals: SourceCounters = { ...NO_SOURCE_COUNTERS };

  constructor(options: AnalyzerOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULTS.windowMs;
    if (!(windowMs >= 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be a finite number >= 0, got ${windowMs}`);
    this.rules = options.rules ?? builtinRules({ windowMs, disabled: options.disabledRules ?? [] });
    assertUniqueIds(this.rules);
    this.plan = buildDispatchPlan(this.rules);
    this.engine = new CorrelationEngine(
      this.rules,
      {
        maxOpenGroups: positive('maxOpenGroups', options.maxOpenGroups ?? DEFAULTS.maxOpenGroups),
        maxOpenBytes: positive('maxOpenBytes', options.maxOpenBytes ?? DEFAULTS.maxOpenBytes),
        maxEvidence: positive('maxEvidence', options.maxEvidence ?? DEFAULTS.maxEvidence),
        maxEvidenceChars: positive('maxEvidenceChars', options.maxEvidenceChars ?? DEFAULTS.maxEvidenceChars),
        lifecycle: options.lifecycle === true,
        docsUrl: docsAddress,
      },
      (incident) => this.outbox.push(incident),
    );
    this.time = new TimePolicy(this.engine, {
      reorderMs: options.reorderMs ?? DEFAULTS.reorderMs,
      maxClockJumpMs: options.maxClockJumpMs ?? DEFAULTS.maxClockJumpMs,
    });
    this.maxLineBytes = positive('maxLineBytes', options.maxLineBytes ?? DEFAULTS.maxLineBytes);
    this.maxContinuationLines = positive('maxContinuationLines', options.maxContinuationLines ?? DEFAULTS.maxContinuationLines);
    const time = this.time;
    this.sink = {
      event: (event, rules) => time.event(event, rules),
      tick: (epochMs) => time.tick(this.sourceKind, epochMs),
      enrichment: (index, event) => this.enrichmentLine(index, event),
    };
    this.liveIdleMs = options.liveIdleMs ?? DEFAULTS.liveIdleMs;
    this.sourceName = options.source ?? '-';
    this.sourceKind = options.kind ?? 'nexus';
    this.beginSource(this.sourceName, this.sourceKind);
  }

  /** Name of the current source. */
  get source(): string {
    return this.sourceName;
  }

  /** The rules this analyzer runs, in order (their indexes are the ones in ExtractedRecords). */
  get ruleList(): readonly AnyRule[] {
    return this.rules;
  }

  /**
   * Starts a new source (file): line numbers and offsets restart, the previous source's last
   * line and event are finished. Open groups carry over, so a push that spans a log rotation is
   * still one incident. `kind`: what the source holds (default: the same as before).
   */
  beginSource(name: string, kind: InputKind = this.sourceKind): readonly Incident[] {
    this.assertOpen();
    this.finishSource();
    this.extractor = new EventExtractor(this.sink, {
      source: name,
      kind,
      plan: this.plan,
      maxLineBytes: this.maxLineBytes,
      maxContinuationLines: this.maxContinuationLines,
      enrichments: this.enrichmentReaders(kind),
    });
    this.sourceName = name;
    this.sourceKind = kind;
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
   * `liveIdleMs` without data the event in progress is complete, the events held for ordering go
   * on, and event time follows the wall clock from the last log time seen, so windows close
   * while the log is quiet.
   */
  advance(nowMs: number): readonly Incident[] {
    this.assertOpen();
    if (nowMs - this.lastDataAt < this.liveIdleMs) return NOTHING;
    if (!this.flushedSinceData) {
      this.flushedSinceData = true;
      this.current().flushPendingEvent();
      this.time.flush(this.sourceKind);
    }
    const eventTimeNow = this.clock.eventTimeNow(nowMs);
    if (eventTimeNow > this.engine.clock(this.sourceKind)) this.time.advanceTo(this.sourceKind, eventTimeNow);
    return this.take();
  }

  /** Bytes or lines of a live stream arrived at `now` (`push` and `write` callers in live use). */
  dataArrived(now: number): void {
    this.lastDataAt = now;
    this.flushedSinceData = false;
    this.clock.data(this.time.frontier(this.sourceKind), now);
  }

  /** Raw bytes of the current source, in any chunking. Strings are encoded as UTF-8. */
  write(chunk: Uint8Array | string): readonly Incident[] {
    this.assertOpen();
    if (typeof chunk === 'string') {
      // A string cut between the two halves of a surrogate pair (an emoji): the first half waits
      // for the second, so any chunking of the same text gives the same bytes.
      let text = this.highSurrogate + chunk;
      this.highSurrogate = '';
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        this.highSurrogate = text.slice(-1);
        text = text.slice(0, -1);
      }
      if (text !== '') this.current().write(Buffer.from(text, 'utf8'));
      return this.take();
    }
    this.current().write(toBuffer(chunk));
    return this.take();
  }

  /** Exactly one line (its terminator optional), for callers that split lines themselves. */
  writeLine(line: Uint8Array | string): readonly Incident[] {
    this.assertOpen();
    this.current().writeLine(toBuffer(line));
    return this.take();
  }

  /**
   * The event in progress is complete even if no further line arrives (a live stream that
   * went quiet), and the events held for ordering go on. Results then depend on timing; batch
   * callers never need this.
   */
  flushPendingEvent(): readonly Incident[] {
    this.assertOpen();
    this.current().flushPendingEvent();
    this.time.flush(this.sourceKind);
    return this.take();
  }

  /** A checkpoint of everything open, as plain JSON (see AnalyzerSnapshot). Bounded by the options, whatever the input. */
  snapshot(): AnalyzerSnapshot {
    this.assertOpen();
    const state = this.current().state();
    return {
      version: 2,
      source: { name: this.sourceName, kind: this.sourceKind, offset: state.counters.bytes, state },
      finishedSources: { ...this.totals },
      clocks: this.engine.clockState(),
      time: this.time.state(),
      engine: this.engine.state(),
    };
  }

  /**
   * An Analyzer that goes on from a checkpoint. Give it the options (and rules) the
   * checkpointed one had; then feed the source on from `snapshot.source.offset`. The whole
   * checkpoint is checked first: a bad one is refused with an error naming the field.
   */
  static restore(snapshot: AnalyzerSnapshot, options: AnalyzerOptions = {}): Analyzer {
    const checked = validateSnapshot(snapshot);
    const analyzer = new Analyzer({ ...options, source: checked.source.name, kind: checked.source.kind });
    checkRuleIndexes(checked, analyzer.rules);
    (analyzer.extractor as EventExtractor).restoreState(checked.source.state);
    Object.assign(analyzer.totals, checked.finishedSources);
    analyzer.engine.restoreState(checked.engine, checked.clocks);
    analyzer.time.restoreState(checked.time);
    return analyzer;
  }

  /** How a source must be read for this analyzer's rules: for extractors running elsewhere (workers). */
  readingPlan(): ReadingPlan {
    return {
      rules: this.rules.map((rule) => ({ id: rule.id, reads: rule.reads.map((spec) => ({ ...spec })) })),
      maxLineBytes: this.maxLineBytes,
      maxContinuationLines: this.maxContinuationLines,
    };
  }

  /**
   * Records extracted elsewhere (a worker thread reading a file), in source order, with that
   * source's counters once it is done. Gives the same incidents as writing the bytes.
   */
  ingest(records: readonly ExtractedRecord[], finishedSourceCounters?: Readonly<SourceCounters>): readonly Incident[] {
    this.assertOpen();
    for (const record of records) {
      if (typeof record === 'number') this.time.tick(this.sourceKind, record);
      else this.time.event(record[0], record[1]);
    }
    if (finishedSourceCounters !== undefined) addCounters(this.totals, finishedSourceCounters);
    return this.take();
  }

  /** The latest event (log) time believed for the current source's kind (epoch ms), -Infinity before any. */
  get eventTime(): number {
    return this.time.frontier(this.sourceKind);
  }

  /** Moves event time of the current kind forward (e.g. from a clock) and returns the groups whose window passed. */
  advanceTo(epochMs: number): readonly Incident[] {
    this.assertOpen();
    this.time.advanceTo(this.sourceKind, epochMs);
    return this.take();
  }

  /**
   * Every source of these kinds has been read: their held events go on and their open groups
   * close (`end-of-input`), e.g. the nexus logs before request.log is read. Groups of rules that
   * enrich from a later input wait for it (`parkFor`). The current source is finished: begin the
   * next one with `beginSource`.
   */
  endKinds(kinds: readonly InputKind[]): readonly Incident[] {
    this.assertOpen();
    this.finishSource();
    for (const kind of kinds) this.time.flush(kind);
    this.engine.closeKinds(kinds, 'end-of-input');
    return this.take();
  }

  /** The rules that enrich their incidents from `input`: their closed groups wait for it from now on. */
  parkFor(input: InputKind): string[] {
    const ids = this.rules.filter((rule) => rule.enrich?.input === input).map((rule) => rule.id);
    this.engine.park(ids);
    return ids;
  }

  /**
   * Starts the enrichments of parked groups for a secondary input: sources of that kind begun
   * after this feed them. Returns how many rules have something to look for.
   */
  beginEnrichment(input: InputKind): number {
    this.enrichments = [];
    for (const rule of this.rules) {
      const enrich = rule.enrich as Enrichment<unknown, unknown> | undefined;
      if (enrich === undefined || enrich.input !== input) continue;
      const groups = this.engine.parkedGroups(rule.id);
      if (groups.length === 0) continue;
      const collector = enrich.begin(groups);
      if (collector !== null) this.enrichments.push({ rule, enrich, collector, groups });
    }
    return this.enrichments.length;
  }

  /** Finishes the enrichments from `input` and reports the groups that waited for it, enriched. */
  releaseParked(input: InputKind): readonly Incident[] {
    this.assertOpen();
    this.finishSource();
    for (const active of this.enrichments) if (active.enrich.input === input) active.enrich.finish(active.collector, active.groups);
    this.enrichments = this.enrichments.filter((active) => active.enrich.input !== input);
    this.engine.releaseParked(this.rules.filter((rule) => rule.enrich?.input === input).map((rule) => rule.id));
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

  /** The input was torn down (a destroyed stream): every open group becomes an incident (`aborted`). */
  abort(): readonly Incident[] {
    return this.close('aborted');
  }

  /** True once end(), shutdown() or abort() was called. */
  get hasEnded(): boolean {
    return this.ended;
  }

  get stats(): AnalyzerStats {
    const sources = { ...this.totals };
    if (this.extractor !== null) addCounters(sources, this.extractor.sourceCounters);
    const engine = this.engine.counters;
    return {
      ...sources,
      ...engine,
      incidentsByRule: { ...engine.incidentsByRule },
      openGroups: this.engine.openGroups,
      openGroupBytes: this.engine.openGroupBytes,
    };
  }

  /** The framing found in the current source (compose, kubectl, quoted...). */
  get framing(): string | null {
    return this.extractor?.framing ?? null;
  }

  /** The current source is split on lone `\r`. */
  get crLineEndings(): boolean {
    return this.extractor?.crLineEndings ?? false;
  }

  /** The current source's extractor; after endKinds or releaseParked, the next source must be begun. */
  private current(): EventExtractor {
    if (this.extractor === null) throw new Error('no source: call beginSource(name) first');
    return this.extractor;
  }

  private enrichmentReaders(kind: InputKind): EnrichmentReader[] {
    return this.enrichments
      .filter((active) => active.enrich.input === kind)
      .map((active) => ({
        literals: active.enrich.literals,
        ...(active.enrich.accept === undefined ? {} : { accept: (line: Uint8Array, start: number, end: number, hit: number) => active.enrich.accept?.(active.collector, line, start, end, hit) === true }),
      }));
  }

  private enrichmentLine(index: number, event: AnyEvent): void {
    const active = this.enrichments.filter((e) => e.enrich.input === event.kind)[index];
    active?.enrich.line(active.collector, event);
  }

  private close(reason: 'end-of-input' | 'shutdown' | 'aborted'): readonly Incident[] {
    if (this.ended) return NOTHING;
    this.finishSource();
    this.time.flush();
    for (const active of this.enrichments) active.enrich.finish(active.collector, active.groups);
    this.enrichments = [];
    this.engine.releaseParked();
    this.engine.closeAll(reason);
    this.ended = true;
    return this.take();
  }

  private finishSource(): void {
    const extractor = this.extractor;
    if (extractor === null) return;
    // Half a surrogate pair never completed: written as it is (decoded as U+FFFD, like a cut byte).
    if (this.highSurrogate !== '') extractor.write(Buffer.from(this.highSurrogate, 'utf8'));
    this.highSurrogate = '';
    extractor.end();
    addCounters(this.totals, extractor.sourceCounters);
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

/** Rule indexes in a checkpoint must name rules this analyzer runs (the same list it was made with). */
function checkRuleIndexes(snapshot: AnalyzerSnapshot, rules: readonly AnyRule[]): void {
  const ruleCount = rules.length;
  const check = (indexes: readonly number[], field: string): void => {
    const bad = indexes.find((rule) => rule >= ruleCount);
    if (bad !== undefined) throw new CheckpointError(field, `names rule ${bad}, but this analyzer runs ${ruleCount} rule(s): restore with the options and rules the checkpoint was made with`);
  };
  check(snapshot.source.state.assembler?.pending?.rules ?? [], 'checkpoint.source.state.assembler.pending.rules');
  snapshot.time.clocks.forEach((clock, i) => clock.held.forEach((held, j) => check(held.rules, `checkpoint.time.clocks[${i}].held[${j}].rules`)));
  // Open groups name their rule by id: one this analyzer does not run is a bad checkpoint, not a bug.
  const ids = new Set(rules.map((rule) => rule.id));
  snapshot.engine.groups.forEach((group, i) => {
    if (!ids.has(group.rule)) throw new CheckpointError(`checkpoint.engine.groups[${i}].rule`, `names rule '${group.rule}', which this analyzer does not run: restore with the options and rules the checkpoint was made with`);
  });
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function assertUniqueIds(rules: readonly AnyRule[]): void {
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) throw new RangeError(`two rules have the id '${rule.id}': rule ids must be unique`);
    seen.add(rule.id);
  }
}
