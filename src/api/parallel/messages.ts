/** What a file-reading worker and the main thread say to each other. */
import type { ExtractedRecord, ReadingPlan } from '../../analyzer';
import type { SourceCounters } from '../../events/event-sink';
import type { InputKind } from '../../events/log-event';
import type { ByteRange } from '../../source/read-input';
import type { Input } from '../../source/resolve-inputs';

export interface ExtractJob {
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
