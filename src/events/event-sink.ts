/** What the readers of every input kind hand on, and what they count. */
import type { AnyEvent } from './log-event';

export interface EventSink {
  /** A relevant event, with the indexes of the rules whose reads it satisfies (a fresh array). */
  event(event: AnyEvent, rules: number[]): void;
  /** Event time observed on a line no rule needed: lets windows close in quiet stretches. */
  tick(epochMs: number): void;
  /** A line an enrichment asked for (`enrichments[index]`), parsed. */
  enrichment?(index: number, event: AnyEvent): void;
}

export interface SourceCounters {
  lines: number;
  bytes: number;
  /** Log records: lines that start with a timestamp (nexus, task logs), parsed request/outbound/audit lines. */
  events: number;
  /** Events a rule's reads matched: the only ones decoded and parsed. */
  relevantEvents: number;
  /** Lines in no known layout (before the first event of a source, or unparseable relevant headers). */
  unparsedLines: number;
  /** Lines cut at the line cap. */
  truncatedLines: number;
  /** Lines of other services in `docker compose logs` output, set aside. */
  foreignLines: number;
}

export const NO_SOURCE_COUNTERS: Readonly<SourceCounters> = Object.freeze({
  lines: 0,
  bytes: 0,
  events: 0,
  relevantEvents: 0,
  unparsedLines: 0,
  truncatedLines: 0,
  foreignLines: 0,
});

export function addCounters(into: SourceCounters, from: Readonly<SourceCounters>): void {
  for (const key of Object.keys(NO_SOURCE_COUNTERS) as Array<keyof SourceCounters>) into[key] += from[key];
}
