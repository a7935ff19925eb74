/**
 * Byte-level look at a nexus.log header line, for dispatch: its level, and (only when a rule
 * reads that level by logger) its logger and where its message starts. No decode, no
 * allocation, no regex: this runs on every header line of a level some rule reads, so it is
 * the per-line cost of the analyzer (docs/performance.md). Layout-tolerant: the timestamp may
 * have an offset or not, `T` or space, `,` or `.` millis; levels may be padded; the thread may
 * hold spaces and nested brackets.
 */
import { timestampEnd } from './timestamp';

/** Level codes, most severe first; -1: not a header. */
export const LEVEL_ERROR = 0;
export const LEVEL_WARN = 1;
export const LEVEL_INFO = 2;
export const LEVEL_DEBUG = 3;
export const LEVEL_TRACE = 4;
export const LEVEL_COUNT = 5;

const LEVEL_NAMES = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;

/** The code of a level name (`FATAL`, `SEVERE` are errors, `WARNING` a warning), or -1. */
export function levelCode(name: string): number {
  return levelCodeOfByte(name.toUpperCase().charCodeAt(0));
}

export function levelName(code: number): (typeof LEVEL_NAMES)[number] | undefined {
  return LEVEL_NAMES[code];
}

/** By the level token's first byte: E(RROR) F(ATAL) S(EVERE) W(ARN) I(NFO) D(EBUG) T(RACE). */
function levelCodeOfByte(byte: number | undefined): number {
  switch (byte) {
    case 0x45: // E
    case 0x46: // F
    case 0x53: // S
      return LEVEL_ERROR;
    case 0x57: // W
      return LEVEL_WARN;
    case 0x49: // I
      return LEVEL_INFO;
    case 0x44: // D
      return LEVEL_DEBUG;
    case 0x54: // T
      return LEVEL_TRACE;
    default:
      return -1;
  }
}

const SPACE = 0x20;
const TAB = 0x09;
const DASH = 0x2d;
const DOT = 0x2e;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/** FNV-1a over bytes: the logger's last segment, and the same over a name's characters. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= buf[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The hash `HeaderScan` computes for a logger named `name` (full or last segment). */
export function loggerKey(name: string): number {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return hashBytes(Buffer.from(last, 'latin1'), 0, last.length);
}

/**
 * One header line at a time; the fields hold the results of the last call (no objects per
 * line). `level` is set by `level()`, the rest by `logger()`.
 */
export class HeaderScan {
  /** Level code of the line, or -1. */
  level = -1;
  /** Index just past the level token. */
  private afterLevel = 0;
  /** Index where the message starts (after ` - `), or -1 when there is no separator. */
  messageStart = -1;
  /** `loggerKey` of the logger, or 0 when it was not found. */
  loggerHash = 0;

  /** Reads the level of a header line; false when the line is not one. */
  scanLevel(buf: Uint8Array, start: number, end: number): boolean {
    const afterTimestamp = timestampEnd(buf, start, end);
    if (afterTimestamp === -1) {
      this.level = -1;
      return false;
    }
    let at = afterTimestamp;
    while (at < end && (buf[at] === SPACE || buf[at] === TAB)) at++;
    this.level = levelCodeOfByte(buf[at]);
    while (at < end && buf[at] !== SPACE && buf[at] !== TAB) at++;
    this.afterLevel = at;
    return true;
  }

  /** After `scanLevel`: finds the logger and the message. False when the layout has none. */
  scanLogger(buf: Uint8Array, end: number): boolean {
    this.messageStart = -1;
    this.loggerHash = 0;
    let at = this.afterLevel;
    while (at < end && (buf[at] === SPACE || buf[at] === TAB)) at++;
    if (buf[at] !== OPEN) return false;
    // The thread ends at the bracket that balances its opening one and is followed by a space.
    let depth = 0;
    for (; at < end; at++) {
      const byte = buf[at];
      if (byte === OPEN) depth++;
      else if (byte === CLOSE && --depth <= 0) {
        const next = buf[at + 1];
        if (next === SPACE || next === TAB) break;
        depth = 1; // an unbalanced name: keep looking for `] `
      }
    }
    if (at >= end) return false;
    // Then ` [node] [user] logger - message`: the first ` - ` ends the logger.
    for (at += 2; at < end; at++) {
      if (buf[at] === DASH && buf[at - 1] === SPACE && (at + 1 === end || buf[at + 1] === SPACE)) break;
    }
    if (at >= end) return false;
    const loggerEnd = at - 1;
    let segment = loggerEnd;
    while (segment > 0 && buf[segment - 1] !== DOT && buf[segment - 1] !== SPACE && buf[segment - 1] !== TAB) segment--;
    this.loggerHash = hashBytes(buf, segment, loggerEnd);
    this.messageStart = Math.min(at + 2, end);
    return true;
  }
}
