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
 * whole, and the split stays linear: a cut line keeps its head and its last bytes, joined by
 * ` [...] `, so what ends a line (a request.log status after a 2 MB URL, a task's `(FAILED)`)
 * is still read, and in any chunking the same bytes come out.
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
/** Joins the head and the tail of a cut line: no pattern can match across the cut that the whole line does not hold. */
const CUT_MARK = Buffer.from(' [...] ');
const MAX_TAIL_BYTES = 4096;

/** Where a splitter is, as plain JSON: enough to resume the same source exactly. */
export interface SplitterState {
  nextLineNumber: number;
  bytesSeen: number;
  /** Bytes of a line not finished yet, base64; null when the last byte ended a line. */
  carry: string | null;
  carryOffset: number;
  /** Bytes of the carried line dropped past the cap. */
  carryDropped: number;
  /** The last bytes of the carried line (its tail, if it is cut), base64; absent in older checkpoints. */
  carryTail?: string | null;
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
  /** The last `tailCapacity` bytes of the carried line, kept or dropped (its tail if it is cut). */
  private tail: Buffer;
  private tailLength = 0;
  /** Bytes kept of a cut line's end, and of its head: head + CUT_MARK + tail = maxLineBytes. */
  private readonly tailBytes: number;
  private readonly headBytes: number;
  /** A `\r` ended the last chunk: in `\r` mode a following `\n` belongs to it; undecided, it decides. */
  private pendingCr = false;

  /** Absolute byte offset of the next chunk's first byte. */
  private bytesSeen = 0;
  private nextLineNumber = 1;

  constructor(sink: LineSink, options: LineSplitterOptions) {
    this.sink = sink;
    this.maxLineBytes = Math.max(1, Math.floor(options.maxLineBytes));
    // A quarter of the cap (at most 4 KiB) for the end; a cap too small for a mark keeps the head only.
    const tail = Math.min(MAX_TAIL_BYTES, Math.floor(this.maxLineBytes / 4));
    this.tailBytes = this.maxLineBytes - tail - CUT_MARK.length > 0 ? tail : 0;
    this.headBytes = this.tailBytes > 0 ? this.maxLineBytes - this.tailBytes - CUT_MARK.length : this.maxLineBytes;
    // One byte more than the tail: room for a `\r` that turns out to end the line.
    this.tail = Buffer.alloc(this.tailBytes + 1);
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
      carryTail: this.carrying && this.carryDropped > 0 ? this.tail.subarray(0, this.tailLength).toString('base64') : null,
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
    const tail = state.carryTail === undefined || state.carryTail === null ? Buffer.alloc(0) : Buffer.from(state.carryTail, 'base64');
    this.tailLength = 0;
    if (this.carrying) {
      // The tail is the end of the kept bytes unless some were dropped (then it was saved).
      const kept = this.carry[0] ?? Buffer.alloc(0);
      this.pushTail(this.carryDropped > 0 ? tail : kept, 0, this.carryDropped > 0 ? tail.length : kept.length);
    }
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
    if (end - start > this.maxLineBytes) {
      const cut = this.cutLine(line.subarray(start, start + this.headBytes), line.subarray(end - this.tailBytes, end));
      this.sink.line(cut, 0, cut.length, this.nextLineNumber++, this.bytesSeen + start, LINE_TRUNCATED, line.length - start);
    } else {
      this.sink.line(line, start, end, this.nextLineNumber++, this.bytesSeen + start, 0, line.length - start);
    }
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
      if (end - from > max) {
        const cut = this.cutLine(chunk.subarray(from, from + this.headBytes), chunk.subarray(end - this.tailBytes, end));
        sink.line(cut, 0, cut.length, this.nextLineNumber++, this.bytesSeen + from, LINE_TRUNCATED, next - from);
      } else {
        sink.line(chunk, from, end, this.nextLineNumber++, this.bytesSeen + from, 0, next - from);
      }
      pos = next;
    }
    if (pos < length) this.appendCarryFrom(chunk, pos, length);
  }

  private appendCarryFrom(chunk: Buffer, start: number, end: number): void {
    if (!this.carrying) {
      this.carrying = true;
      this.carryOffset = this.bytesSeen + start;
    }
    this.pushTail(chunk, start, end);
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

  /** A cut line: its head, the mark, its tail (or the head alone when the cap is too small for a mark). */
  private cutLine(head: Buffer, tail: Buffer): Buffer {
    return this.tailBytes === 0 ? Buffer.from(head) : Buffer.concat([head, CUT_MARK, tail]);
  }

  /** Keeps the last bytes of the carried line (a rolling window of tailBytes + 1). */
  private pushTail(buf: Buffer, start: number, end: number): void {
    const capacity = this.tail.length;
    const incoming = end - start;
    if (incoming >= capacity) {
      buf.copy(this.tail, 0, end - capacity, end);
      this.tailLength = capacity;
      return;
    }
    const keep = Math.min(this.tailLength, capacity - incoming);
    this.tail.copy(this.tail, 0, this.tailLength - keep, this.tailLength);
    buf.copy(this.tail, keep, start, end);
    this.tailLength = keep + incoming;
  }

  /** Emits the carried line; `terminatorBytes` were consumed after it. */
  private emitCarry(terminatorBytes: number): void {
    const line = this.carry.length === 1 ? (this.carry[0] as Buffer) : Buffer.concat(this.carry, this.carryBytes);
    const start = afterNuls(line, this.nextLineNumber === 1 ? bomLength(line, 0) : 0, line.length);
    // The line's last byte is the tail's: a `\r` of a `\r\n` is not part of the line.
    const crEnd = this.terminator !== CARRIAGE_RETURN && this.tailLength > 0 && this.tail[this.tailLength - 1] === CARRIAGE_RETURN ? 1 : 0;
    const length = line.length + this.carryDropped - crEnd;
    const offset = this.carryOffset + start;
    const span = line.length + this.carryDropped + terminatorBytes - start;
    const tailEnd = this.tailLength - crEnd;
    const cut = length - start > this.maxLineBytes ? this.cutLine(line.subarray(start, start + this.headBytes), this.tail.subarray(Math.max(0, tailEnd - this.tailBytes), tailEnd)) : null;
    this.carry = [];
    this.carryBytes = 0;
    this.carryDropped = 0;
    this.carrying = false;
    this.tailLength = 0;
    if (cut !== null) this.sink.line(cut, 0, cut.length, this.nextLineNumber++, offset, LINE_TRUNCATED, span);
    else this.sink.line(line, start, length, this.nextLineNumber++, offset, 0, span);
  }
}

/** The index after the NUL bytes at `at`. */
function afterNuls(buf: Buffer, at: number, end: number): number {
  while (at < end && buf[at] === 0) at++;
  return at;
}

/** Length of a UTF-8 byte order mark at buf[at], or 0. Only the first line of a source may carry one. */
function bomLength(buf: Buffer, at: number): number {
  return buf.length >= at + 3 && buf[at] === 0xef && buf[at + 1] === 0xbb && buf[at + 2] === 0xbf ? 3 : 0;
}
