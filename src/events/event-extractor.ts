/**
 * One source's bytes -> its relevant events and clock ticks: the line splitter and the event
 * assembler together. Used inline by the Analyzer, and inside worker threads when several
 * files are read at once (the rules then run on the main thread, in file order).
 */
import { LineSplitter, type SplitterState } from '../lines/line-splitter';
import { EventAssembler, type AssemblerState, type EventSink } from './event-assembler';

export interface ExtractorOptions {
  source: string;
  literals: readonly string[];
  /** Literals looked for only in headers of a level, by the level's first letter. */
  gatedLiterals: Readonly<Record<string, readonly string[]>>;
  /** Literals of the rules that read continuation lines. */
  continuationLiterals: readonly string[];
  maxLineBytes: number;
  maxContinuationLines: number;
  sampleEvery: number;
}

export interface SourceCounters {
  lines: number;
  bytes: number;
  /** Log events (lines that start with a timestamp). */
  events: number;
  /** Events whose header a rule's prefilter matched: the only ones decoded and parsed. */
  relevantEvents: number;
  /** Lines in no known Nexus layout (before the first event of a source, or unparseable headers). */
  unparsedLines: number;
  /** Lines cut at the line cap. */
  truncatedLines: number;
}

export const NO_SOURCE_COUNTERS: Readonly<SourceCounters> = Object.freeze({
  lines: 0,
  bytes: 0,
  events: 0,
  relevantEvents: 0,
  unparsedLines: 0,
  truncatedLines: 0,
});

export function addCounters(into: SourceCounters, from: Readonly<SourceCounters>): void {
  into.lines += from.lines;
  into.bytes += from.bytes;
  into.events += from.events;
  into.relevantEvents += from.relevantEvents;
  into.unparsedLines += from.unparsedLines;
  into.truncatedLines += from.truncatedLines;
}

export interface ExtractorState {
  splitter: SplitterState;
  assembler: AssemblerState;
}

export class EventExtractor {
  private readonly splitter: LineSplitter;
  private readonly assembler: EventAssembler;

  constructor(sink: EventSink, options: ExtractorOptions) {
    this.assembler = new EventAssembler(sink, {
      source: options.source,
      continuationLiterals: options.continuationLiterals,
      maxContinuationLines: options.maxContinuationLines,
      sampleEvery: options.sampleEvery,
    });
    this.splitter = new LineSplitter(this.assembler, {
      literals: options.literals,
      gatedLiterals: options.gatedLiterals,
      maxLineBytes: options.maxLineBytes,
    });
  }

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
  }

  writeLine(line: Buffer): void {
    this.splitter.writeLine(line);
  }

  /** The event in progress is complete (a stream went quiet). */
  flushPendingEvent(): void {
    this.assembler.flush();
  }

  /** End of this source: the last line and the last event are finished. */
  end(): void {
    this.splitter.end();
    this.assembler.flush();
  }

  state(): ExtractorState {
    return { splitter: this.splitter.state(), assembler: this.assembler.state() };
  }

  restoreState(state: ExtractorState): void {
    this.splitter.restoreState(state.splitter);
    this.assembler.restoreState(state.assembler);
  }

  get counters(): SourceCounters {
    const assembler = this.assembler.counters;
    return {
      lines: this.splitter.lineCount,
      bytes: this.splitter.byteCount,
      events: assembler.events,
      relevantEvents: assembler.relevantEvents,
      unparsedLines: assembler.unparsedLines,
      truncatedLines: assembler.truncatedLines,
    };
  }
}
