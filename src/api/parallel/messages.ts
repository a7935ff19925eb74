/** What a file-reading worker and the main thread say to each other. */
import type { ExtractedRecord, ReadingPlan } from '../../analyzer';
import type { SourceCounters } from '../../events/event-sink';
import type { InputKind } from '../../events/log-event';
import type { Input } from '../../source/resolve-inputs';

export interface ExtractJob {
  input: Input;
  kind: InputKind;
  plan: ReadingPlan;
}

export type WorkerMessage =
  | { type: 'records'; records: ExtractedRecord[] }
  | { type: 'done'; counters: SourceCounters }
  | { type: 'failed'; counters: SourceCounters; code: string | undefined; message: string };
