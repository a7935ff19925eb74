import type { ParsedHeader } from './header-parser';

/**
 * One nexus.log event: its header fields (level, thread, node, user, logger, timestamp text),
 * plus where it was read and the lines that continue it (stack traces).
 */
export interface LogEvent extends Omit<ParsedHeader, 'epochMs' | 'message'> {
  /** File name, or `-` for stdin. */
  source: string;
  /** 1-based line number of the header line in its source. */
  line: number;
  /** Byte offset of the header line in its source (after decompression). */
  offset: number;
  /** Event time in epoch milliseconds (the log timestamp, offset applied). */
  time: number;
  /** Message of the header line, hard wraps repaired. */
  message: string;
  /** The whole header line, hard wraps repaired: what evidence quotes. */
  text: string;
  /**
   * Lines after the header that belong to this event (stack trace), as read. Kept for events
   * a rule reads them for (`readsContinuation`), and when a hard wrap may need repairing.
   */
  continuation: readonly string[];
  /** Continuation lines not kept: past the per-event cap, or not needed by any rule. */
  continuationDropped: number;
  /** A line of this event was longer than the line cap and was cut. */
  truncated: boolean;
}
