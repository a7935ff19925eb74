/**
 * The events rules read. Every input is a stream of typed events: nexus.log lines (and task
 * logs, same layout), request.log, outbound-request.log and audit.log records. A rule says which
 * kinds it reads (`Rule.reads`) and switches on `event.kind`.
 */
import type { ParsedHeader } from './header-parser';

/** What an input holds; decided by name and content (`classifyInput`). */
export type InputKind = 'nexus' | 'task' | 'request' | 'outbound' | 'audit';
export const INPUT_KINDS: readonly InputKind[] = ['nexus', 'task', 'request', 'outbound', 'audit'];

/** Where an event was read: what evidence quotes. */
export interface EventOrigin {
  /** File name (or `zip!entry`), or `-` for stdin. */
  source: string;
  /** 1-based line number of the (first) line in its source. */
  line: number;
  /** Byte offset of that line in the (decompressed) source. */
  offset: number;
  /** Event time in epoch milliseconds (the log timestamp, offset applied). */
  time: number;
  /** The line as logged (hard wraps repaired): what evidence quotes. */
  text: string;
  /**
   * The line carries no time (loose text with no record after it: a pasted stack trace, an
   * e-mail); `time` is then 0 and means nothing.
   */
  timeUnknown?: true;
}

/**
 * One nexus.log event (or one of a task log, `kind: 'task'`): its header fields, plus the
 * lines that continue it (stack traces).
 */
export interface NexusEvent extends EventOrigin, Omit<ParsedHeader, 'epochMs' | 'message'> {
  kind: 'nexus' | 'task';
  /** Message of the header line, hard wraps repaired. */
  message: string;
  /**
   * Lines after the header that belong to this event (stack trace), as read. Kept for rules
   * that read them (`continuation: true`), and when a hard wrap may need repairing.
   */
  continuation: readonly string[];
  /** Continuation lines not kept: past the per-event cap, or not needed by any rule. */
  continuationDropped: number;
  /** A line of this event was longer than the line cap and was cut. */
  truncated: boolean;
  /** Bytes of the header line as logged, when it was longer than what is decoded of an event (its text is cut). */
  lineBytes?: number;
}

/** @deprecated since schema 2: use NexusEvent (kept as an alias for rules written against 0.1). */
export type LogEvent = NexusEvent;

/** One request.log line (every layout Nexus has used). */
export interface RequestEvent extends EventOrigin {
  kind: 'request';
  clientIp: string;
  /** null when logged as `-`. */
  user: string | null;
  method: string;
  /** Request path as logged, query included. */
  path: string;
  status: number;
  /** Bytes sent; null when logged as `-`. */
  bytes: number | null;
  /** ms; the request started `elapsed` ms before `time` (request.log writes at completion). */
  elapsed: number;
  userAgent: string | null;
  /** Jetty thread (3.17+ layout), else null. */
  thread: string | null;
}

/** One outbound-request.log line (3.59+): a request Nexus sent to a remote. */
export interface OutboundEvent extends EventOrigin {
  kind: 'outbound';
  user: string | null;
  method: string;
  /** Absolute URL. */
  url: string;
  status: number;
  bytes: number | null;
  elapsed: number;
  userAgent: string | null;
  thread: string | null;
}

/** One audit.log record (JSON, 3.16+). */
export interface AuditEvent extends EventOrigin {
  kind: 'audit';
  domain: string;
  type: string;
  /** `{userId}/{remoteIp}` or a user id (`*SYSTEM`). */
  initiator: string;
  userId: string | null;
  remoteIp: string | null;
  nodeId: string | null;
  thread: string | null;
  attributes: Readonly<Record<string, unknown>>;
}

export type AnyEvent = NexusEvent | RequestEvent | OutboundEvent | AuditEvent;

/** A log line an incident rests on. */
export interface Evidence {
  /** File name, or `-` for stdin. */
  source: string;
  /** 1-based line number in the source. */
  line: number;
  /** Byte offset of the line in the (decompressed) source. */
  offset: number;
  /** The line as logged, hard wraps repaired; cut at the evidence cap (see `length`). */
  text: string;
  /** Present when `text` was cut: the length of the whole line, in characters (in bytes when the line was too long to decode whole). */
  length?: number;
}
