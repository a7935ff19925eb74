/**
 * One-line records -> events: request.log and outbound-request.log (dispatched by status, read
 * in place, then literals) and audit.log (literals). Lines no rule or enrichment reads are never
 * decoded. A record line that crosses a 64 KiB boundary of the source reports its time as a tick.
 */
import { Candidates, indexWithin, type LiteralSet } from './literal-set';
import type { HttpPlan } from './dispatch-plan';
import type { EventSink, SourceCounters } from './event-sink';
import { parseAuditLine } from './audit-line';
import { parseOutboundLine, parseRequestLine, statusOfLine, timeOfAccessLine } from './http-log-line';
import type { AnyEvent } from './log-event';
import { parseTimestamp } from './timestamp';
import { TICK_BYTES } from './nexus-assembler';

const LINE_TRUNCATED = 2;

/** A secondary input's literals, and a byte-level check before a line is parsed for it. */
export interface EnrichmentReader {
  literals: readonly string[];
  accept?: (line: Uint8Array, start: number, end: number, hit: number) => boolean;
}

export interface RecordReaderOptions {
  kind: 'request' | 'outbound' | 'audit';
  source: string;
  /** request and outbound: the status plan; audit: the literal set. */
  plan: HttpPlan | LiteralSet | null;
  ruleCount: number;
  enrichments: readonly EnrichmentReader[];
}

export class RecordReader {
  private readonly sink: EventSink;
  private readonly options: RecordReaderOptions;
  private readonly counters: SourceCounters;
  private readonly candidates: Candidates;
  private readonly enrichments: ReadonlyArray<{ literals: Buffer[]; accept: EnrichmentReader['accept'] }>;
  private readonly wanted: number[] = [];

  constructor(sink: EventSink, options: RecordReaderOptions, counters: SourceCounters) {
    this.sink = sink;
    this.options = options;
    this.counters = counters;
    this.candidates = new Candidates(options.ruleCount);
    this.enrichments = options.enrichments.map((e) => ({ literals: e.literals.map((l) => Buffer.from(l, 'utf8')), accept: e.accept }));
  }

  line(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number): void {
    if (flags & LINE_TRUNCATED) this.counters.truncatedLines++;
    if (end === start) return;
    const http = this.options.kind !== 'audit';
    const status = http ? statusOfLine(buf, start, end) : 0;
    if (status < 0) {
      this.counters.unparsedLines++;
      return;
    }
    this.counters.events++;
    const crossesTick = Math.floor(byteOffset / TICK_BYTES) !== Math.floor((byteOffset + span) / TICK_BYTES);

    const candidates = this.candidates;
    candidates.clear();
    if (http) {
      const route = (this.options.plan as HttpPlan | null)?.byStatus[status];
      if (route !== null && route !== undefined) {
        for (const rule of route.direct) candidates.add(rule);
        route.literals?.match(buf, start, end, candidates);
      }
    } else {
      (this.options.plan as LiteralSet | null)?.match(buf, start, end, candidates);
    }
    const wanted = this.wanted;
    wanted.length = 0;
    this.enrichments.forEach((enrichment, index) => {
      for (const literal of enrichment.literals) {
        const hit = indexWithin(buf, start, end, literal);
        if (hit !== -1 && (enrichment.accept === undefined || enrichment.accept(buf, start, end, hit))) {
          wanted.push(index);
          return;
        }
      }
    });
    if (candidates.size === 0 && wanted.length === 0) {
      if (crossesTick) this.tick(buf.toString('utf8', start, end));
      return;
    }
    const event = this.parse(buf.toString('utf8', start, end), { source: this.options.source, line: lineNumber, offset: byteOffset });
    if (event === undefined) {
      this.counters.unparsedLines++;
      return;
    }
    if (candidates.size > 0) {
      this.counters.relevantEvents++;
      this.sink.event(event, candidates.list.slice());
    } else if (crossesTick) {
      this.sink.tick(event.time);
    }
    for (const index of wanted) this.sink.enrichment?.(index, event);
  }

  private parse(text: string, origin: { source: string; line: number; offset: number }): AnyEvent | undefined {
    switch (this.options.kind) {
      case 'request':
        return parseRequestLine(text, origin);
      case 'outbound':
        return parseOutboundLine(text, origin);
      case 'audit':
        return parseAuditLine(text, origin);
    }
  }

  private tick(text: string): void {
    const time = this.options.kind === 'audit' ? this.auditTime(text) : timeOfAccessLine(text);
    if (!Number.isNaN(time)) this.sink.tick(time);
  }

  private auditTime(text: string): number {
    const at = text.indexOf('"timestamp":"');
    return at === -1 ? Number.NaN : (parseTimestamp(text, at + 13)?.epochMs ?? Number.NaN);
  }
}
