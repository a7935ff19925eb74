/** What a file-reading worker and the main thread say to each other. */
import type { ExtractedRecord } from '../../analyzer';
import type { ExtractorOptions, SourceCounters } from '../../events/event-extractor';
import type { Input } from '../resolve-inputs';

export interface ExtractJob {
  input: Input;
  extractor: Omit<ExtractorOptions, 'source'>;
}

export type WorkerMessage =
  | { type: 'records'; records: ExtractedRecord[] }
  | { type: 'done'; counters: SourceCounters }
  | { type: 'failed'; counters: SourceCounters; code: string | undefined; message: string };
