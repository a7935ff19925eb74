/** One nexus.log event: a header line plus the lines that continue it (stack traces). */
export interface LogEvent {
  /** File name, or `-` for stdin. */
  source: string;
  /** 1-based line number of the header line in its source. */
  line: number;
  /** Byte offset of the header line in its source (after decompression). */
  offset: number;
  /** Event time in epoch milliseconds (the log timestamp, offset applied). */
  time: number;
  /** The timestamp as printed, e.g. `2025-09-10 01:36:22,857+0000`. */
  timestampText: string;
  level: string;
  thread: string;
  /** HA node name, null when empty or absent. */
  node: string | null;
  user: string | null;
  logger: string;
  /** Message of the header line, hard wraps repaired. */
  message: string;
  /** The whole header line, hard wraps repaired: what evidence quotes. */
  text: string;
  /** Lines after the header that belong to this event (stack trace), as read. */
  continuation: readonly string[];
  /** Continuation lines dropped past the per-event cap. */
  continuationDropped: number;
  /** A line of this event was longer than the line cap and was cut. */
  truncated: boolean;
}
