/**
 * One source's bytes -> its relevant events and clock ticks: the line splitter, the framing
 * (container prefixes, pasted quotes) and the reader of the source's kind together. Used inline
 * by the Analyzer, and inside worker threads when several files are read at once (the rules
 * then run on the main thread, in file order).
 */
import { LineFramer, type FramingKind, type FramingState } from '../lines/framing';
import { LineSplitter, type LineSink, type SplitterState } from '../lines/line-splitter';
import type { DispatchPlan } from './dispatch-plan';
import { NO_SOURCE_COUNTERS, type EventSink, type SourceCounters } from './event-sink';
import type { InputKind } from './log-event';
import { NexusAssembler, type AssemblerState } from './nexus-assembler';
import { RecordReader, type EnrichmentReader } from './record-reader';
import { HeaderScan } from './header-scan';

export interface ExtractorOptions {
  source: string;
  kind: InputKind;
  plan: DispatchPlan;
  maxLineBytes: number;
  maxContinuationLines: number;
  /** Secondary-input readers for this source (request logs read for enrichment). */
  enrichments?: readonly EnrichmentReader[];
  /** A segment of a bigger file that starts at this byte, on a record line (line numbers then count from it). */
  segmentStart?: number;
}

export interface ExtractorState {
  kind: InputKind;
  splitter: SplitterState;
  framing: FramingState | null;
  assembler: AssemblerState | null;
  counters: SourceCounters;
}

/**
 * Characters of an event (header, joined wraps and kept exception lines) decoded at most: 16 KiB,
 * far past any message a rule parses; a longer line is searched whole for literals but decoded
 * cut (its evidence gives its length), so hostile megabyte lines make no megabyte strings.
 */
export const MAX_EVENT_CHARS = 16 * 1024;

const recordScan = new HeaderScan();

/** A line starts a nexus.log record when a timestamp (any variant) and a level start it. */
export function isNexusRecordStart(buf: Uint8Array, start: number, end: number): boolean {
  return recordScan.scanLevel(buf, start, end) && recordScan.level >= 0;
}

export class EventExtractor {
  readonly kind: InputKind;
  private readonly splitter: LineSplitter;
  private readonly framer: LineFramer | null;
  private readonly assembler: NexusAssembler | null;
  private readonly counters: SourceCounters = { ...NO_SOURCE_COUNTERS };
  private readonly segmentStart: number;

  constructor(sink: EventSink, options: ExtractorOptions) {
    this.kind = options.kind;
    this.segmentStart = options.segmentStart ?? 0;
    let reader: LineSink;
    if (options.kind === 'nexus' || options.kind === 'task') {
      this.assembler = new NexusAssembler(
        sink,
        {
          kind: options.kind,
          source: options.source,
          plan: options.plan[options.kind],
          ruleCount: options.plan.ruleCount,
          maxContinuationLines: options.maxContinuationLines,
          maxEventChars: Math.min(options.maxLineBytes, MAX_EVENT_CHARS),
        },
        this.counters,
      );
      this.framer = new LineFramer(this.assembler, { isRecordStart: isNexusRecordStart, maxLineBytes: options.maxLineBytes });
      reader = this.framer;
    } else {
      this.assembler = null;
      this.framer = null;
      const kind = options.kind;
      reader = new RecordReader(
        sink,
        {
          kind,
          source: options.source,
          plan: kind === 'audit' ? options.plan.audit : options.plan[kind],
          ruleCount: options.plan.ruleCount,
          enrichments: options.enrichments ?? [],
        },
        this.counters,
      );
    }
    this.splitter = new LineSplitter(reader, { maxLineBytes: options.maxLineBytes });
    if (options.segmentStart !== undefined) this.splitter.startSegment(options.segmentStart);
  }

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
  }

  writeLine(line: Buffer): void {
    this.splitter.writeLine(line);
  }

  /** The event in progress is complete (a stream went quiet). */
  flushPendingEvent(): void {
    this.assembler?.flush();
  }

  /** End of this source: the last line and the last event are finished. */
  end(): void {
    this.splitter.end();
    this.framer?.end();
    this.assembler?.end();
  }

  /** The framing found (compose, kubectl, quoted...), or null before the first record. */
  get framing(): FramingKind | null {
    return this.framer?.framing ?? 'plain';
  }

  /** The source is split on lone `\r`. */
  get crLineEndings(): boolean {
    return this.splitter.crLineEndings;
  }

  state(): ExtractorState {
    return {
      kind: this.kind,
      splitter: this.splitter.state(),
      framing: this.framer?.state() ?? null,
      assembler: this.assembler?.state() ?? null,
      counters: this.sourceCounters,
    };
  }

  restoreState(state: ExtractorState): void {
    this.splitter.restoreState(state.splitter);
    if (state.framing !== null) this.framer?.restoreState(state.framing);
    if (state.assembler !== null) this.assembler?.restoreState(state.assembler);
    Object.assign(this.counters, state.counters);
    if (this.framer !== null) this.framer.counters.foreignLines = state.counters.foreignLines;
  }

  get sourceCounters(): SourceCounters {
    return {
      ...this.counters,
      lines: this.splitter.lineCount,
      bytes: this.splitter.byteCount - this.segmentStart,
      foreignLines: this.framer?.counters.foreignLines ?? 0,
    };
  }
}
