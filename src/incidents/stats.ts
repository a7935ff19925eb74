/** What was read (summed over sources) and what the rules made of it: the shape outputs render. */
import type { SourceCounters } from '../events/event-sink';
import type { EngineCounters } from './engine';

export interface AnalyzerStats extends SourceCounters, EngineCounters {
  /** Groups open now. */
  openGroups: number;
  /** Estimated bytes they hold. */
  openGroupBytes: number;
}
