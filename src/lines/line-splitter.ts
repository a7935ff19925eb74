/**
 * Byte-level line splitter: raw chunks in, lines out as byte ranges of the chunk, with line
 * numbers and byte offsets. No decode, no copy (but of a line that spans chunks).
 *
 * Why not split2 or readline: both decode every line to a string and re-scan their pending
 * buffer, which caps them near 300 MB/s (docs/performance.md). Here a line costs one native
 * `indexOf` for its terminator.
 *
 * Terminators: `\n` and `\r\n`; a source with no `\n` at all in its first 64 KiB but lone
 * `\r`s (old Mac style, some copy-paste tools) is split on `\r`. One stray `\r` in a normal
 * log changes nothing. The choice depends only on the bytes, never on how they were chunked:
 * bytes wait (at most 64 KiB) until a `\n` decides it. Lines longer than `maxLineBytes` are cut (flagged), never buffered
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
/** Terminator not known yet (no `\n` seen, and less than DECIDE_BYTES read). */
const UNDECIDED = 0;
/** Bytes read without a `\n` after which a source with lone `\r`s is split on them. */
const DECIDE_BYTES = 64 * 1024;

/** Where a splitter is, as plain JSON: enough to resume the same source exactly. */
export interface SplitterState {
  nextLineNumber: number;
  bytesSeen: number;
  /** Bytes of a line not finished yet, base64; null when the last byte ended a line. */
  carry: string | null;
  carryOffset: number;
  /** Bytes of the carried line dropped past the cap. */
  carryDropped: number;
  /** 10 (`\n`), 13 (`\r`) or 0 while undecided. */
  terminator: number;
  /** Bytes read while undecided, base64 (at most 64 KiB and a chunk). */
  undecided: string | null;
  /** The previous chunk ended with the `\r` of a `\r\n` in `\r` mode, or a `\r` not yet known to be one. */
  pendingCr: boolean;
}

export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly sink: LineSink;
  private terminator = UNDECIDED;
  private undecided: Buffer[] = [];
  private undecidedBytes = 0;

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

  /**
   * Reads a segment of a bigger source that starts at byte `offset` on a line start: offsets
   * are absolute, line numbers count from the segment (the caller adds the lines before it),
   * and the terminator is `\n` (segments are cut only in such files).
   */
  startSegment(offset: number): void {
    this.bytesSeen = offset;
    this.terminator = NEWLINE;
  }

  /** Lines emitted so far. */
  get lineCount(): number {
    return this.nextLineNumber - 1;
  }

  /** Bytes consumed so far (including a leading BOM). */
  get byteCount(): number {
    return this.bytesSeen + this.undecidedBytes;
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
      undecided: this.undecidedBytes === 0 ? null : Buffer.concat(this.undecided, this.undecidedBytes).toString('base64'),
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
    this.undecided = state.undecided === null ? [] : [Buffer.from(state.undecided, 'base64')];
    this.undecidedBytes = this.undecided[0]?.length ?? 0;
    this.pendingCr = state.pendingCr;
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.terminator === UNDECIDED) {
      // Copy: the caller may reuse its buffer.
      this.undecided.push(Buffer.from(chunk));
      this.undecidedBytes += chunk.length;
      if (chunk.indexOf(NEWLINE) !== -1) this.decide(NEWLINE);
      else if (this.undecidedBytes >= DECIDE_BYTES) this.decide(this.hasLoneCr() ? CARRIAGE_RETURN : NEWLINE);
      return;
    }
    this.writeDecided(chunk);
  }

  private writeDecided(chunk: Buffer): void {
    let pos = 0;
    if (this.pendingCr) {
      // The last chunk ended with a `\r` (kept out of the carried line): this byte says what it was.
      this.pendingCr = false;
      if (chunk[0] === NEWLINE) {
        this.emitCarry(2);
        pos = 1;
      } else {
        this.emitCarry(1);
      }
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

  /** Settles the terminator and splits what waited for it. */
  private decide(terminator: number): void {
    this.terminator = terminator;
    const waiting = Buffer.concat(this.undecided, this.undecidedBytes);
    this.undecided = [];
    this.undecidedBytes = 0;
    if (waiting.length > 0) this.writeDecided(waiting);
  }

  /** A `\r` not followed by `\n` in the bytes that waited. */
  private hasLoneCr(): boolean {
    const bytes = Buffer.concat(this.undecided, this.undecidedBytes);
    for (let at = bytes.indexOf(CARRIAGE_RETURN); at !== -1; at = bytes.indexOf(CARRIAGE_RETURN, at + 1)) {
      if (bytes[at + 1] !== NEWLINE) return true;
    }
    return false;
  }

  /**
   * One whole line given by the caller (line mode): no terminator search. A trailing `\r\n`,
   * `\n` or `\r` is ignored. A partial line from `write` is finished first.
   */
  writeLine(line: Buffer): void {
    if (this.terminator === UNDECIDED) this.decide(this.hasLoneCr() ? CARRIAGE_RETURN : NEWLINE);
    if (this.carrying) this.emitCarry(0);
    this.pendingCr = false;
    const start = afterNuls(line, this.nextLineNumber === 1 ? bomLength(line, 0) : 0, line.length);
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
    if (this.terminator === UNDECIDED) this.decide(this.hasLoneCr() ? CARRIAGE_RETURN : NEWLINE);
    if (this.carrying) this.emitCarry(this.pendingCr ? 1 : 0);
    this.pendingCr = false;
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
      // NUL bytes before a line (a file preallocated, then written after a crash) are not part of it.
      let from = pos;
      if (chunk[from] === 0) from = afterNuls(chunk, from, end);
      let flags = 0;
      if (end - from > max) {
        end = from + max;
        flags = LINE_TRUNCATED;
      }
      sink.line(chunk, from, end, this.nextLineNumber++, this.bytesSeen + from, flags, next - from);
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
    const start = afterNuls(line, this.nextLineNumber === 1 ? bomLength(line, 0) : 0, line.length);
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
/** The index after the NUL bytes at `at`. */
function afterNuls(buf: Buffer, at: number, end: number): number {
  while (at < end && buf[at] === 0) at++;
  return at;
}

function bomLength(buf: Buffer, at: number): number {
  return buf.length >= at + 3 && buf[at] === 0xef && buf[at + 1] === 0xbb && buf[at + 2] === 0xbf ? 3 : 0;
}
