/** What a file-reading worker and the main thread say to each other. */
import type { ExtractedRecord, ReadingPlan } from '../../analyzer';
import type { SourceCounters } from '../../events/event-sink';
import type { InputKind } from '../../events/log-event';
import type { ByteRange } from '../../source/read-input';
import type { Input } from '../../source/resolve-inputs';

export interface ExtractJob {
  /** Which of the run's files: credits name it. */
  id: number;
  input: Input;
  kind: InputKind;
  plan: ReadingPlan;
  /** Only these bytes of the file (a segment starting on a record line); absent: the whole input. */
  range?: ByteRange;
}

export type WorkerMessage =
  | { type: 'records'; records: ExtractedRecord[] }
  | { type: 'done'; counters: SourceCounters }
  | { type: 'failed'; counters: SourceCounters; code: string | undefined; message: string };

/**
 * The main thread took `batches` record messages of job `id` off its queue: the worker may send
 * that many more. A worker reads on only while fewer than its allowance wait unconsumed, so a
 * file read ahead of the one being analysed holds a bounded number of records in memory.
 */
export interface Credit {
  credit: number;
  id: number;
}

/** Record messages a worker may have sent and not yet seen consumed. */
export const RECORD_BATCHES_IN_FLIGHT = 8;
