/**
 * Byte-level line splitter: raw chunks in, lines out, with a literal prefilter.
 *
 * Why not split2 or readline: both decode every line to a string and re-scan their
 * pending buffer, which caps them near 300 MB/s (docs/performance.md). Here lines are
 * byte ranges of the chunk; the prefilter literals are searched once per chunk with
 * the native `Buffer.indexOf`, so a line no rule cares about costs one `indexOf` for
 * its newline and one integer comparison.
 */

import { levelInitial } from '../events/timestamp';

/** Flags passed with each line. */
export const LINE_HAS_LITERAL = 1;
export const LINE_TRUNCATED = 2;

export interface LineSink {
  /**
   * One complete line: bytes [start, end) of `buf`, without its terminator (`\n` or `\r\n`).
   * `buf` is only valid during the call.
   */
  line(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number): void;
}

export interface LineSplitterOptions {
  /** Literal substrings searched in every line; lines containing any get LINE_HAS_LITERAL. */
  literals: readonly string[];
  /**
   * Literal substrings searched only in event headers of given levels, by the level's first
   * letter: `{ W: [...], E: [...] }`. No scan of the whole chunk, and a line is searched only
   * for the literals of its own level, so many rules cost little. See docs/performance.md.
   */
  gatedLiterals?: Readonly<Record<string, readonly string[]>>;
  /** Bytes kept of an over-long line; the rest is dropped and the line flagged LINE_TRUNCATED. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Where a splitter is, as plain JSON: enough to resume the same source exactly. */
export interface SplitterState {
  nextLineNumber: number;
  bytesSeen: number;
  /** Bytes of a line not finished yet, base64; null when the last byte ended a line. */
  carry: string | null;
  carryOffset: number;
  carryOverflowed: boolean;
}

export class LineSplitter {
  private readonly literals: readonly Buffer[];
  /** By the first byte of a level: the literals looked for in its header lines (null: none). */
  private readonly gated: Array<Buffer[] | null> = new Array<Buffer[] | null>(256).fill(null);
  private readonly hasGated: boolean;
  private readonly maxLineBytes: number;
  private readonly sink: LineSink;

  /** Pieces of a line that started in an earlier chunk (never more than maxLineBytes in total). */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Bytes of the carried line were dropped past the cap. */
  private carryOverflowed = false;
  private carryOffset = 0;
  private carrying = false;

  /** Absolute byte offset of the next chunk's first byte. */
  private bytesSeen = 0;
  private nextLineNumber = 1;
  /** Reused per chunk: sorted start offsets of literal hits. */
  private readonly hits: number[] = [];

  constructor(sink: LineSink, options: LineSplitterOptions) {
    this.sink = sink;
    this.literals = options.literals.filter((l) => l.length > 0).map((l) => Buffer.from(l, 'utf8'));
    for (const [initial, literals] of Object.entries(options.gatedLiterals ?? {})) {
      const buffers = literals.filter((l) => l.length > 0).map((l) => Buffer.from(l, 'utf8'));
      if (buffers.length > 0) this.gated[initial.charCodeAt(0)] = buffers;
    }
    this.hasGated = this.gated.some((list) => list !== null);
    this.maxLineBytes = Math.max(1, options.maxLineBytes);
  }

  /** Lines emitted so far. */
  get lineCount(): number {
    return this.nextLineNumber - 1;
  }

  /** Bytes consumed so far (including a leading BOM). */
  get byteCount(): number {
    return this.bytesSeen;
  }

  state(): SplitterState {
    return {
      nextLineNumber: this.nextLineNumber,
      bytesSeen: this.bytesSeen,
      carry: this.carrying ? Buffer.concat(this.carry, this.carryBytes).toString('base64') : null,
      carryOffset: this.carryOffset,
      carryOverflowed: this.carryOverflowed,
    };
  }

  restoreState(state: SplitterState): void {
    this.nextLineNumber = state.nextLineNumber;
    this.bytesSeen = state.bytesSeen;
    this.carrying = state.carry !== null;
    this.carry = state.carry === null ? [] : [Buffer.from(state.carry, 'base64')];
    this.carryBytes = this.carry[0]?.length ?? 0;
    this.carryOffset = state.carryOffset;
    this.carryOverflowed = state.carryOverflowed;
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let pos = 0;
    if (this.carrying) {
      const newline = chunk.indexOf(NEWLINE, pos);
      if (newline === -1) {
        this.appendCarry(chunk, pos, chunk.length);
        this.bytesSeen += chunk.length;
        return;
      }
      this.appendCarry(chunk, pos, newline);
      this.emitCarry();
      pos = newline + 1;
    }
    this.splitWithin(chunk, pos);
    this.bytesSeen += chunk.length;
  }

  /**
   * One whole line given by the caller (line mode): no newline search. A trailing `\r\n` or
   * `\n` is ignored. A partial line from `write` is finished first.
   */
  writeLine(line: Buffer): void {
    if (this.carrying) this.emitCarry();
    const start = this.nextLineNumber === 1 ? bomLength(line, 0) : 0;
    let end = line.length;
    if (end > 0 && line[end - 1] === NEWLINE) end--;
    if (end > 0 && line[end - 1] === CARRIAGE_RETURN) end--;
    let flags = 0;
    if (end - start > this.maxLineBytes) {
      end = start + this.maxLineBytes;
      flags |= LINE_TRUNCATED;
    }
    if (this.anyLiteral(line, start, end)) flags |= LINE_HAS_LITERAL;
    this.sink.line(line, start, end, this.nextLineNumber++, this.bytesSeen + start, flags);
    this.bytesSeen += line.length;
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (this.carrying) this.emitCarry();
  }

  private splitWithin(chunk: Buffer, from: number): void {
    const hits = this.collectLiteralHits(chunk, from);
    let hitIndex = 0;
    let pos = from;
    if (this.nextLineNumber === 1) pos += bomLength(chunk, pos);
    const sink = this.sink;
    const max = this.maxLineBytes;
    const gated = this.hasGated;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, pos);
      if (newline === -1) break;
      let end = newline;
      if (end > pos && chunk[end - 1] === CARRIAGE_RETURN) end--;
      let flags = 0;
      // A hit belongs to this line when it starts before the newline (literals hold no newline).
      while (hitIndex < hits.length && (hits[hitIndex] as number) < newline) {
        flags = LINE_HAS_LITERAL;
        hitIndex++;
      }
      if (end - pos > max) {
        end = pos + max;
        flags |= LINE_TRUNCATED;
        // A hit past the cap is not in the kept bytes.
        if (flags & LINE_HAS_LITERAL && !this.containsLiteral(chunk, pos, end)) flags &= ~LINE_HAS_LITERAL;
      }
      if (flags === 0 && gated && this.containsGated(chunk, pos, end)) flags = LINE_HAS_LITERAL;
      sink.line(chunk, pos, end, this.nextLineNumber++, this.bytesSeen + pos, flags);
      pos = newline + 1;
    }
    if (pos < chunk.length) {
      this.carrying = true;
      this.carryOffset = this.bytesSeen + pos;
      this.appendCarry(chunk, pos, chunk.length);
    }
  }

  /** Start offsets of every literal occurrence in chunk[from..], sorted. */
  private collectLiteralHits(chunk: Buffer, from: number): number[] {
    const hits = this.hits;
    hits.length = 0;
    for (const literal of this.literals) {
      let at = chunk.indexOf(literal, from);
      while (at !== -1) {
        hits.push(at);
        at = chunk.indexOf(literal, at + literal.length);
      }
    }
    if (this.literals.length > 1 && hits.length > 1) hits.sort((a, b) => a - b);
    return hits;
  }

  private appendCarry(chunk: Buffer, start: number, end: number): void {
    // One byte over the cap: room for a `\r` that may turn out to end the line.
    const room = this.maxLineBytes + 1 - this.carryBytes;
    let take = end - start;
    if (take > room) {
      take = room;
      this.carryOverflowed = true;
    }
    if (take > 0) {
      // Copy: the caller may reuse its buffer, and we keep at most one line.
      this.carry.push(Buffer.from(chunk.subarray(start, start + take)));
      this.carryBytes += take;
    }
  }

  private emitCarry(): void {
    const line = this.carry.length === 1 ? (this.carry[0] as Buffer) : Buffer.concat(this.carry, this.carryBytes);
    const start = this.nextLineNumber === 1 ? bomLength(line, 0) : 0;
    let end = line.length;
    if (!this.carryOverflowed && end > start && line[end - 1] === CARRIAGE_RETURN) end--;
    let flags = 0;
    if (this.carryOverflowed || end - start > this.maxLineBytes) {
      end = Math.min(end, start + this.maxLineBytes);
      flags = LINE_TRUNCATED;
    }
    if (this.anyLiteral(line, start, end)) flags |= LINE_HAS_LITERAL;
    const offset = this.carryOffset + start;
    this.carry = [];
    this.carryBytes = 0;
    this.carryOverflowed = false;
    this.carrying = false;
    this.sink.line(line, start, end, this.nextLineNumber++, offset, flags);
  }

  /** Both kinds of literal, for a line met whole (carried over chunks, or given as a line). */
  private anyLiteral(buf: Buffer, start: number, end: number): boolean {
    return this.containsLiteral(buf, start, end) || (this.hasGated && this.containsGated(buf, start, end));
  }

  /** The literals of the line's level, inside the line only (a bounded view, so the search stops at its end). */
  private containsGated(buf: Buffer, start: number, end: number): boolean {
    const literals = this.gated[levelInitial(buf, start, end)];
    if (literals === null || literals === undefined) return false;
    const line = buf.subarray(start, end);
    for (const literal of literals) if (line.indexOf(literal) !== -1) return true;
    return false;
  }

  private containsLiteral(buf: Buffer, start: number, end: number): boolean {
    for (const literal of this.literals) {
      const at = buf.indexOf(literal, start);
      if (at !== -1 && at + literal.length <= end) return true;
    }
    return false;
  }
}

/** Length of a UTF-8 byte order mark at buf[at], or 0. Only the first line of a source may carry one. */
function bomLength(buf: Buffer, at: number): number {
  return buf.length >= at + 3 && buf[at] === 0xef && buf[at + 1] === 0xbb && buf[at + 2] === 0xbf ? 3 : 0;
}
