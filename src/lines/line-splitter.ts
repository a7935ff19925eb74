/**
 * Byte-level line splitter: raw chunks in, lines out as byte ranges of the chunk, with line
 * numbers and byte offsets. No decode, no copy (but of a line that spans chunks).
 *
 * Why not split2 or readline: both decode every line to a string and re-scan their pending
 * buffer, which caps them near 300 MB/s (docs/performance.md). Here a line costs one native
 * `indexOf` for its terminator.
 *
 * Terminators: `\n` and `\r\n`; a source whose first terminator is a lone `\r` (old Mac
 * style, some copy-paste tools) is split on `\r`. The choice depends only on the bytes, never
 * on how they were chunked. Lines longer than `maxLineBytes` are cut (flagged), never buffered
 * whole, and the split stays linear.
 */

/** Flag passed with a line: it was longer than the cap and was cut. */
export const LINE_TRUNCATED = 2;

export interface LineSink {
  /**
   * One complete line: bytes [start, end) of `buf`, without its terminator. `buf` is only
   * valid during the call. `span` is the bytes from this line's first byte to the next line's
   * (terminator and cut bytes included): the line covers offsets [byteOffset, byteOffset + span).
   */
  line(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number): void;
}

export interface LineSplitterOptions {
  /** Bytes kept of an over-long line; the rest is dropped and the line flagged LINE_TRUNCATED. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Terminator not known yet (no terminator seen). */
const UNDECIDED = 0;

/** Where a splitter is, as plain JSON: enough to resume the same source exactly. */
export interface SplitterState {
  nextLineNumber: number;
  bytesSeen: number;
  /** Bytes of a line not finished yet, base64; null when the last byte ended a line. */
  carry: string | null;
  carryOffset: number;
  /** Bytes of the carried line dropped past the cap. */
  carryDropped: number;
  /** 10 (`\n`), 13 (`\r`) or 0 while no terminator was seen. */
  terminator: number;
  /** The previous chunk ended with the `\r` of a `\r\n` in `\r` mode, or a `\r` not yet known to be one. */
  pendingCr: boolean;
}

export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly sink: LineSink;
  private terminator = UNDECIDED;

  /** Pieces of a line that started in an earlier chunk (never more than maxLineBytes + 1 in total). */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryDropped = 0;
  private carryOffset = 0;
  private carrying = false;
  /** A `\r` ended the last chunk: in `\r` mode a following `\n` belongs to it; undecided, it decides. */
  private pendingCr = false;

  /** Absolute byte offset of the next chunk's first byte. */
  private bytesSeen = 0;
  private nextLineNumber = 1;

  constructor(sink: LineSink, options: LineSplitterOptions) {
    this.sink = sink;
    this.maxLineBytes = Math.max(1, Math.floor(options.maxLineBytes));
  }

  /** Lines emitted so far. */
  get lineCount(): number {
    return this.nextLineNumber - 1;
  }

  /** Bytes consumed so far (including a leading BOM). */
  get byteCount(): number {
    return this.bytesSeen;
  }

  /** True when the source is split on lone `\r`. */
  get crLineEndings(): boolean {
    return this.terminator === CARRIAGE_RETURN;
  }

  state(): SplitterState {
    return {
      nextLineNumber: this.nextLineNumber,
      bytesSeen: this.bytesSeen,
      carry: this.carrying ? Buffer.concat(this.carry, this.carryBytes).toString('base64') : null,
      carryOffset: this.carryOffset,
      carryDropped: this.carryDropped,
      terminator: this.terminator,
      pendingCr: this.pendingCr,
    };
  }

  restoreState(state: SplitterState): void {
    this.nextLineNumber = state.nextLineNumber;
    this.bytesSeen = state.bytesSeen;
    this.carrying = state.carry !== null;
    this.carry = state.carry === null ? [] : [Buffer.from(state.carry, 'base64')];
    this.carryBytes = this.carry[0]?.length ?? 0;
    this.carryOffset = state.carryOffset;
    this.carryDropped = state.carryDropped;
    this.terminator = state.terminator;
    this.pendingCr = state.pendingCr;
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let pos = 0;
    if (this.pendingCr) {
      // The last chunk ended with a `\r` (kept out of the carried line): this byte says what it was.
      this.pendingCr = false;
      if (this.terminator === UNDECIDED) this.terminator = chunk[0] === NEWLINE ? NEWLINE : CARRIAGE_RETURN;
      if (chunk[0] === NEWLINE) {
        this.emitCarry(2);
        pos = 1;
      } else if (this.terminator === CARRIAGE_RETURN) {
        this.emitCarry(1);
      } else {
        this.appendCarryFrom(Buffer.from([CARRIAGE_RETURN]), 0, 1);
      }
    }
    if (this.terminator === UNDECIDED && !this.decide(chunk, pos)) {
      // No terminator yet; a `\r` at the very end is decided by the next chunk.
      const endsWithCr = chunk.length > pos && chunk[chunk.length - 1] === CARRIAGE_RETURN;
      this.appendCarryFrom(chunk, pos, endsWithCr ? chunk.length - 1 : chunk.length);
      this.pendingCr = endsWithCr;
      this.bytesSeen += chunk.length;
      return;
    }
    const terminator = this.terminator;
    if (this.carrying) {
      const at = chunk.indexOf(terminator, pos);
      if (at === -1) {
        this.appendCarryFrom(chunk, pos, chunk.length);
        this.bytesSeen += chunk.length;
        return;
      }
      this.appendCarryFrom(chunk, pos, at);
      if (terminator === CARRIAGE_RETURN && at === chunk.length - 1) {
        this.pendingCr = true;
        this.bytesSeen += chunk.length;
        return;
      }
      const skip = terminator === CARRIAGE_RETURN && chunk[at + 1] === NEWLINE ? 1 : 0;
      this.emitCarry(1 + skip);
      pos = at + 1 + skip;
    }
    this.splitWithin(chunk, pos);
    this.bytesSeen += chunk.length;
  }

  /**
   * One whole line given by the caller (line mode): no terminator search. A trailing `\r\n`,
   * `\n` or `\r` is ignored. A partial line from `write` is finished first.
   */
  writeLine(line: Buffer): void {
    if (this.carrying) this.emitCarry(0);
    this.pendingCr = false;
    const start = this.nextLineNumber === 1 ? bomLength(line, 0) : 0;
    let end = line.length;
    if (end > start && line[end - 1] === NEWLINE) end--;
    if (end > start && line[end - 1] === CARRIAGE_RETURN) end--;
    let flags = 0;
    if (end - start > this.maxLineBytes) {
      end = start + this.maxLineBytes;
      flags |= LINE_TRUNCATED;
    }
    this.sink.line(line, start, end, this.nextLineNumber++, this.bytesSeen + start, flags, line.length - start);
    this.bytesSeen += line.length;
  }

  /** End of input: a last line without a terminator still counts. */
  end(): void {
    if (this.carrying) this.emitCarry(this.pendingCr ? 1 : 0);
    this.pendingCr = false;
  }

  /** Picks the terminator from the first one in chunk[from..]; false when the chunk holds none yet. */
  private decide(chunk: Buffer, from: number): boolean {
    const newline = chunk.indexOf(NEWLINE, from);
    const cr = chunk.indexOf(CARRIAGE_RETURN, from);
    if (cr === -1 || (newline !== -1 && newline < cr)) {
      if (newline === -1) return false;
      this.terminator = NEWLINE;
      return true;
    }
    if (cr + 1 < chunk.length) {
      this.terminator = chunk[cr + 1] === NEWLINE ? NEWLINE : CARRIAGE_RETURN;
      return true;
    }
    // The chunk ends with a `\r`: the next byte decides. Carry everything up to it.
    return false;
  }

  private splitWithin(chunk: Buffer, from: number): void {
    let pos = from;
    if (this.nextLineNumber === 1) pos += bomLength(chunk, pos);
    const sink = this.sink;
    const max = this.maxLineBytes;
    const terminator = this.terminator;
    const crMode = terminator === CARRIAGE_RETURN;
    const length = chunk.length;
    for (;;) {
      const at = chunk.indexOf(terminator, pos);
      if (at === -1) break;
      if (crMode && at === length - 1) {
        // Whether a `\n` follows is in the next chunk.
        this.appendCarryFrom(chunk, pos, at);
        this.pendingCr = true;
        return;
      }
      let end = at;
      let next = at + 1;
      if (crMode) {
        if (chunk[next] === NEWLINE) next++;
      } else if (end > pos && chunk[end - 1] === CARRIAGE_RETURN) {
        end--;
      }
      let flags = 0;
      if (end - pos > max) {
        end = pos + max;
        flags = LINE_TRUNCATED;
      }
      sink.line(chunk, pos, end, this.nextLineNumber++, this.bytesSeen + pos, flags, next - pos);
      pos = next;
    }
    if (pos < length) this.appendCarryFrom(chunk, pos, length);
  }

  private appendCarryFrom(chunk: Buffer, start: number, end: number): void {
    if (!this.carrying) {
      this.carrying = true;
      this.carryOffset = this.bytesSeen + start;
    }
    // One byte over the cap: room for a `\r` that may turn out to end the line.
    const room = this.maxLineBytes + 1 - this.carryBytes;
    let take = end - start;
    if (take > room) {
      this.carryDropped += take - Math.max(0, room);
      take = Math.max(0, room);
    }
    if (take > 0) {
      // Copy: the caller may reuse its buffer, and we keep at most one line.
      this.carry.push(Buffer.from(chunk.subarray(start, start + take)));
      this.carryBytes += take;
    }
  }

  /** Emits the carried line; `terminatorBytes` were consumed after it. */
  private emitCarry(terminatorBytes: number): void {
    const line = this.carry.length === 1 ? (this.carry[0] as Buffer) : Buffer.concat(this.carry, this.carryBytes);
    const start = this.nextLineNumber === 1 ? bomLength(line, 0) : 0;
    let end = line.length;
    if (this.carryDropped === 0 && this.terminator !== CARRIAGE_RETURN && end > start && line[end - 1] === CARRIAGE_RETURN) end--;
    let flags = 0;
    if (this.carryDropped > 0 || end - start > this.maxLineBytes) {
      end = Math.min(end, start + this.maxLineBytes);
      flags = LINE_TRUNCATED;
    }
    const offset = this.carryOffset + start;
    const span = line.length + this.carryDropped + terminatorBytes - start;
    this.carry = [];
    this.carryBytes = 0;
    this.carryDropped = 0;
    this.carrying = false;
    this.sink.line(line, start, end, this.nextLineNumber++, offset, flags, span);
  }
}

/** Length of a UTF-8 byte order mark at buf[at], or 0. Only the first line of a source may carry one. */
function bomLength(buf: Buffer, at: number): number {
  return buf.length >= at + 3 && buf[at] === 0xef && buf[at + 1] === 0xbb && buf[at + 2] === 0xbf ? 3 : 0;
}
