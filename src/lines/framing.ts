/**
 * The wrappers logs come in, taken off so the lines inside read as the log wrote them:
 *
 * - `compose`: `docker compose logs` prefixes, `nexus_1  | <line>` (lines of other services are set aside);
 * - `kubectl`: `kubectl logs --prefix`, `[pod/nexus-0/nexus] <line>`;
 * - `cri`: container runtime files, `<RFC 3339 time> stdout F <line>` (`P` parts joined);
 * - `docker-json`: Docker's json-file driver, `{"log":"<line>\n","stream":"stdout","time":"..."}`;
 * - `quoted`: `> ` quoted blocks pasted into issues and mails (nested `> > ` too);
 * - `indented`: markdown code indented by spaces or a tab;
 * - `journal`: the systemd journal (`journalctl -u nexus`): `Sep 10 01:36:22 host nexus[812]: <line>`,
 *   or with an ISO time first (`-o short-iso`);
 * - `prefixed`: one to three names before every line (`stern`, `kubectl logs` of several pods,
 *   a console that tags lines with the container: `nexus-0 nexus <line>`, `nexus3 <line>`);
 * - `timestamped`: an RFC 3339 time before every line (`docker logs -t`, `kubectl logs --timestamps`);
 * - `piped`: a log viewer's column before ` | ` (`Thu, Sep 28 2023 6:59:03 pm | <line>`);
 * - `tabbed`: an export with epoch milliseconds and a time in tab-separated columns first (CloudWatch);
 * - `plain`: none of these.
 *
 * Which one is decided once per source, by the first line that starts a log record under one
 * of them (the events stage says what a record start is); lines before it wait, then go through
 * the same framing. A source with no record at all (a pasted stack trace, a start-up that died
 * before logging) is still unwrapped when every line it waited with has the same time column. The decision depends only on the bytes, not on how they were chunked, and a
 * plain source costs nothing per line.
 */
import type { LineSink } from './line-splitter';
import { LINE_TRUNCATED } from './line-splitter';

export type FramingKind = 'plain' | 'compose' | 'kubectl' | 'cri' | 'docker-json' | 'quoted' | 'indented' | 'journal' | 'prefixed' | 'timestamped' | 'piped' | 'tabbed';

export interface FramingOptions {
  /** Whether buf[start, end) starts a log record (e.g. a Nexus timestamp). */
  isRecordStart(buf: Uint8Array, start: number, end: number): boolean;
  /** Bytes kept of a joined line (CRI and json-file parts). */
  maxLineBytes: number;
  /** Lines looked at before deciding `plain` when none starts a record. Default 256. */
  maxUndecidedLines?: number;
}

export interface FramingState {
  kind: FramingKind | null;
  /** compose: the service whose lines are kept; indented: the indent; prefixed: the prefix. */
  detail: string | null;
  /** Lines read before the decision: [base64, line, offset, flags, span]. */
  waiting: Array<[string, number, number, number, number]>;
  waitingBytes: number;
  /** A CRI or json-file line still in parts: its bytes so far (base64), line, offset, span. */
  partial: [string, number, number, number] | null;
}

export interface FramingCounters {
  /** Lines of other compose services, not read as this log's. */
  foreignLines: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const PIPE = 0x7c;
const GT = 0x3e;
const OPEN = 0x5b;
const CLOSE = 0x5d;

const MAX_WAITING_BYTES = 1024 * 1024;

interface Unwrapped {
  buf: Buffer;
  start: number;
  end: number;
  /** CRI `P` or a json-file line without its `\n`: the line goes on in the next one. */
  partial: boolean;
}

/** Name chars of a compose service: letters, digits, `_`, `.`, `-`. */
function isNameByte(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === 0x2e || byte === 0x2d;
}

/** `name  | ` at the start: the index after it and the name's end, or -1. */
function composePrefix(buf: Uint8Array, start: number, end: number): [number, number] {
  let at = start;
  while (at < end && at - start < 64 && isNameByte(buf[at] as number)) at++;
  const nameEnd = at;
  if (nameEnd === start) return [-1, -1];
  while (at < end && buf[at] === SPACE) at++;
  if (at === nameEnd || buf[at] !== PIPE) return [-1, -1];
  at++;
  if (buf[at] === SPACE) at++;
  return [at, nameEnd];
}

/** `[pod/...] ` at the start: the index after it, or -1. */
function kubectlPrefix(buf: Uint8Array, start: number, end: number): number {
  if (buf[start] !== OPEN || end - start < 6 || buf[start + 1] !== 0x70 || buf[start + 2] !== 0x6f || buf[start + 3] !== 0x64 || buf[start + 4] !== 0x2f) {
    return -1; // `[pod/`
  }
  let at = start + 5;
  while (at < end && buf[at] !== CLOSE) at++;
  if (at >= end || buf[at + 1] !== SPACE) return -1;
  return at + 2;
}

/** `2024-01-01T00:00:00.123456789Z stdout F ` at the start: [content start, partial] or -1. */
function criPrefix(buf: Uint8Array, start: number, end: number): [number, boolean] {
  let at = start;
  // An RFC 3339 time: digits, `-`, `T`, `:`, `.`, `Z`, `+`.
  if (end - start < 30 || buf[start + 4] !== 0x2d || buf[start + 10] !== 0x54) return [-1, false];
  while (at < end && buf[at] !== SPACE) at++;
  at++;
  const stream = at;
  while (at < end && buf[at] !== SPACE) at++;
  const word = Buffer.from(buf.subarray(stream, at)).toString('latin1');
  if (word !== 'stdout' && word !== 'stderr') return [-1, false];
  const tag = buf[at + 1];
  if ((tag !== 0x46 && tag !== 0x50) || (buf[at + 2] !== SPACE && at + 2 !== end)) return [-1, false];
  return [Math.min(at + 3, end), tag === 0x50];
}

const COLON = 0x3a;
/** Names taken off at most before a line (`pod container`, plus one more). */
const MAX_PREFIX_NAMES = 3;
const MAX_NAME_BYTES = 100;

/** The end of a run of name bytes from `at` (at most MAX_NAME_BYTES), or `at` when none. */
function nameRunEnd(buf: Uint8Array, at: number, end: number): number {
  const from = at;
  while (at < end && at - from < MAX_NAME_BYTES && isNameByte(buf[at] as number)) at++;
  return at;
}

/** The end of a run of bytes that are not spaces, from `at` (at most MAX_NAME_BYTES). */
function wordEnd(buf: Uint8Array, at: number, end: number): number {
  const from = at;
  while (at < end && at - from < MAX_NAME_BYTES && buf[at] !== SPACE && buf[at] !== TAB) at++;
  return at;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/**
 * A journal line's prefix: `Sep 10 01:36:22 host ident[pid]: ` (or `2025-09-10T01:36:22+0000 host
 * ident[pid]: `): the index after it, or -1.
 */
function journalPrefix(buf: Uint8Array, start: number, end: number): number {
  let at = start;
  const first = buf[at];
  if (first !== undefined && first >= 0x41 && first <= 0x5a && buf[at + 3] === SPACE) {
    // `Sep 10 01:36:22 ` (the day space-padded: `Sep  1`)
    at += 4;
    if (buf[at] === SPACE) at++;
    while (isDigit(buf[at])) at++;
    if (buf[at] !== SPACE || !isDigit(buf[at + 1]) || buf[at + 3] !== COLON || buf[at + 6] !== COLON) return -1;
    at = wordEnd(buf, at + 1, end);
  } else if (isDigit(first) && buf[at + 4] === 0x2d && buf[at + 10] === 0x54) {
    at = wordEnd(buf, at, end); // `2025-09-10T01:36:22+0000`
  } else {
    return -1;
  }
  if (buf[at] !== SPACE) return -1;
  const host = at + 1;
  at = wordEnd(buf, host, end);
  if (at === host || buf[at] !== SPACE) return -1;
  const ident = at + 1;
  at = wordEnd(buf, ident, end);
  if (at - ident < 2 || buf[at - 1] !== COLON || buf[at] !== SPACE) return -1;
  return at + 1;
}

/** `2026-03-10T17:32:03.169783772Z ` (or with an offset) at the start: the index after it and its spaces, or -1. */
function rfc3339Prefix(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 21 || !isDigit(buf[start]) || buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d || buf[start + 10] !== 0x54 || buf[start + 13] !== COLON) return -1;
  const after = wordEnd(buf, start, end);
  const last = buf[after - 1];
  // Ends with Z or a numeric offset: not a Nexus timestamp (`,` millis and `+0000` after a space).
  if (last !== 0x5a && !isDigit(last)) return -1;
  if (buf[after] !== SPACE) return -1;
  let at = after + 1;
  while (at < end && at - after < 4 && buf[at] === SPACE) at++;
  return at;
}

const LEVEL_WORDS = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', 'FATAL'].map((word) => Buffer.from(word, 'latin1'));

/** Whether a level and a thread start at `at` (a Nexus layout with an ISO time: `2025-09-10T01:36:22.857Z WARN  [main] ...`). */
function startsWithLevel(buf: Uint8Array, at: number, end: number): boolean {
  const word = LEVEL_WORDS.find((w) => end - at > w.length && w.every((byte, i) => buf[at + i] === byte));
  if (word === undefined) return false;
  let next = at + word.length;
  while (next < end && buf[next] === SPACE) next++;
  return next > at + word.length && buf[next] === OPEN;
}

/** A viewer's column ended by ` | ` in the first 64 bytes (no `|` before it): the index after it, or -1. */
function pipedPrefix(buf: Uint8Array, start: number, end: number): number {
  const limit = Math.min(end - 2, start + 64);
  for (let at = start + 1; at < limit; at++) {
    if (buf[at] === PIPE) return buf[at - 1] === SPACE && buf[at + 1] === SPACE ? at + 2 : -1;
  }
  return -1;
}

/** `1755699474174<TAB>2025-08-20T14:17:54.174Z<TAB>`: epoch milliseconds and a time, tab-separated; the index after, or -1. */
function tabbedPrefix(buf: Uint8Array, start: number, end: number): number {
  let at = start;
  while (at < end && isDigit(buf[at])) at++;
  if (at - start < 10 || at - start > 16 || buf[at] !== TAB) return -1;
  const time = at + 1;
  while (at + 1 < end && at - time < 40 && buf[at + 1] !== TAB) at++;
  at++;
  if (buf[at] !== TAB || !isDigit(buf[time])) return -1;
  return at + 1;
}

/** Leading `>` quote marks (each with one optional space): the index after them, or -1. */
function quotePrefix(buf: Uint8Array, start: number, end: number): number {
  let at = start;
  if (buf[at] !== GT) return -1;
  while (at < end && buf[at] === GT) {
    at++;
    if (buf[at] === SPACE) at++;
  }
  return at;
}

/** The framings that only take a prefix off each line: where the line starts inside it, or -1. */
const PREFIX_OF: Partial<Record<FramingKind, (buf: Uint8Array, start: number, end: number) => number>> = {
  kubectl: kubectlPrefix,
  quoted: quotePrefix,
  timestamped: rfc3339Prefix,
  piped: pipedPrefix,
  tabbed: tabbedPrefix,
  journal: journalPrefix,
};

export class LineFramer implements LineSink {
  readonly counters: FramingCounters = { foreignLines: 0 };
  private readonly sink: LineSink;
  private readonly options: FramingOptions;
  private kind: FramingKind | null = null;
  private detail: string | null = null;
  private waiting: Array<{ bytes: Buffer; line: number; offset: number; flags: number; span: number }> = [];
  private waitingBytes = 0;
  private partial: { bytes: Buffer; line: number; offset: number; span: number } | null = null;

  constructor(sink: LineSink, options: FramingOptions) {
    this.sink = sink;
    this.options = options;
  }

  /** The framing decided for this source, or null while undecided. */
  get framing(): FramingKind | null {
    return this.kind;
  }

  line(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number): void {
    if (this.kind === 'plain') {
      this.sink.line(buf, start, end, lineNumber, byteOffset, flags, span);
      return;
    }
    if (this.kind === null) {
      this.waitOrDecide(buf, start, end, lineNumber, byteOffset, flags, span);
      return;
    }
    this.unwrapLine(buf, start, end, lineNumber, byteOffset, flags, span);
  }

  /** End of the source: undecided lines go on as plain (or unwrapped, see `columnOfAll`); a line in parts goes on as it is. */
  end(): void {
    if (this.kind === null) this.decide(this.columnOfAll(), null);
    if (this.partial !== null) {
      const { bytes, line, offset, span } = this.partial;
      this.partial = null;
      this.sink.line(bytes, 0, bytes.length, line, offset, 0, span);
    }
  }

  state(): FramingState {
    return {
      kind: this.kind,
      detail: this.detail,
      waiting: this.waiting.map((w) => [w.bytes.toString('base64'), w.line, w.offset, w.flags, w.span]),
      waitingBytes: this.waitingBytes,
      partial: this.partial === null ? null : [this.partial.bytes.toString('base64'), this.partial.line, this.partial.offset, this.partial.span],
    };
  }

  restoreState(state: FramingState): void {
    this.kind = state.kind;
    this.detail = state.detail;
    this.waiting = state.waiting.map(([bytes, line, offset, flags, span]) => ({ bytes: Buffer.from(bytes, 'base64'), line, offset, flags, span }));
    this.waitingBytes = state.waitingBytes;
    this.partial = state.partial === null ? null : { bytes: Buffer.from(state.partial[0], 'base64'), line: state.partial[1], offset: state.partial[2], span: state.partial[3] };
  }

  private waitOrDecide(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number): void {
    const found = this.detect(buf, start, end);
    if (found === null) {
      this.waiting.push({ bytes: Buffer.from(buf.subarray(start, end)), line: lineNumber, offset: byteOffset, flags, span });
      this.waitingBytes += end - start;
      if (this.waiting.length >= (this.options.maxUndecidedLines ?? 256) || this.waitingBytes >= MAX_WAITING_BYTES) this.decide(this.columnOfAll(), null);
      return;
    }
    this.decide(found.kind, found.detail);
    this.line(buf, start, end, lineNumber, byteOffset, flags, span);
  }

  /** Which framing makes this line a record start, if any. */
  private detect(buf: Buffer, start: number, end: number): { kind: FramingKind; detail: string | null } | null {
    const isStart = this.options.isRecordStart;
    // Before the plain test: a record behind `docker logs -t`'s time would pass for one with an ISO time.
    const stamped = rfc3339Prefix(buf, start, end);
    if (stamped !== -1 && isStart(buf, stamped, end)) return { kind: 'timestamped', detail: null };
    // A time column before a line that is not a record (a stack frame) is no record, unless a level
    // and a thread follow it (a layout with an ISO time); CRI and the journal are tried below.
    if (isStart(buf, start, end) && (stamped === -1 || startsWithLevel(buf, stamped, end))) return { kind: 'plain', detail: null };
    if (buf[start] === 0x7b) {
      const json = this.fromJson(buf, start, end);
      if (json !== null && isStart(json.buf, json.start, json.end)) return { kind: 'docker-json', detail: null };
    }
    const [cri] = criPrefix(buf, start, end);
    if (cri !== -1 && isStart(buf, cri, end)) return { kind: 'cri', detail: null };
    const [afterCompose, nameEnd] = composePrefix(buf, start, end);
    if (afterCompose !== -1 && isStart(buf, afterCompose, end)) return { kind: 'compose', detail: buf.toString('latin1', start, nameEnd) };
    const kubectl = kubectlPrefix(buf, start, end);
    if (kubectl !== -1 && isStart(buf, kubectl, end)) return { kind: 'kubectl', detail: null };
    const piped = pipedPrefix(buf, start, end);
    if (piped !== -1 && isStart(buf, piped, end)) return { kind: 'piped', detail: null };
    const tabbed = tabbedPrefix(buf, start, end);
    if (tabbed !== -1 && isStart(buf, tabbed, end)) return { kind: 'tabbed', detail: null };
    const quote = quotePrefix(buf, start, end);
    if (quote !== -1 && isStart(buf, quote, end)) return { kind: 'quoted', detail: null };
    let indent = start;
    while (indent < end && indent - start < 16 && (buf[indent] === SPACE || buf[indent] === TAB)) indent++;
    if (indent > start && isStart(buf, indent, end)) return { kind: 'indented', detail: buf.toString('latin1', start, indent) };
    const journal = journalPrefix(buf, start, end);
    if (journal !== -1 && isStart(buf, journal, end)) return { kind: 'journal', detail: null };
    // One to three names, each followed by one space: the same prefix is then expected on every line.
    let at = start;
    for (let names = 0; names < MAX_PREFIX_NAMES; names++) {
      const after = nameRunEnd(buf, at, end);
      if (after === at || buf[after] !== SPACE) break;
      at = after + 1;
      if (isStart(buf, at, end)) return { kind: 'prefixed', detail: buf.toString('latin1', start, at) };
    }
    return null;
  }

  /**
   * No line starts a record: a time column that every waiting line has (at least two of them) is
   * still taken off, so that a stack trace's lines read as its lines. Otherwise plain.
   */
  private columnOfAll(): FramingKind {
    const lines = this.waiting.filter((w) => w.bytes.length > 0);
    if (lines.length < 2) return 'plain';
    for (const [kind, prefix] of [['timestamped', rfc3339Prefix], ['tabbed', tabbedPrefix]] as const) {
      if (lines.every((w) => prefix(w.bytes, 0, w.bytes.length) !== -1)) return kind;
    }
    return 'plain';
  }

  private decide(kind: FramingKind, detail: string | null): void {
    this.kind = kind;
    this.detail = detail;
    const waiting = this.waiting;
    this.waiting = [];
    this.waitingBytes = 0;
    for (const w of waiting) this.line(w.bytes, 0, w.bytes.length, w.line, w.offset, w.flags, w.span);
  }

  private unwrapLine(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number): void {
    const inner = this.unwrap(buf, start, end);
    if (inner === null) {
      if (this.kind === 'compose') {
        this.counters.foreignLines++;
        return;
      }
      this.emit(buf, start, end, lineNumber, byteOffset, flags, span, false);
      return;
    }
    this.emit(inner.buf, inner.start, inner.end, lineNumber, byteOffset, flags, span, inner.partial);
  }

  /** The line inside its wrapper; null when it is not wrapped that way (or, compose, another service's). */
  private unwrap(buf: Buffer, start: number, end: number): Unwrapped | null {
    const prefix = this.kind === null ? undefined : PREFIX_OF[this.kind];
    if (prefix !== undefined) {
      const after = prefix(buf, start, end);
      return after === -1 ? null : { buf, start: after, end, partial: false };
    }
    switch (this.kind) {
      case 'compose': {
        const [after, nameEnd] = composePrefix(buf, start, end);
        if (after === -1) return null;
        if (this.detail !== null && buf.toString('latin1', start, nameEnd) !== this.detail) return null;
        return { buf, start: after, end, partial: false };
      }
      case 'cri': {
        const [after, partial] = criPrefix(buf, start, end);
        return after === -1 ? null : { buf, start: after, end, partial };
      }
      case 'docker-json':
        return this.fromJson(buf, start, end);
      case 'prefixed': {
        // Lines without the prefix (a console's own lines between) go on as they are.
        const prefix = this.detail ?? '';
        if (end - start < prefix.length) return null;
        for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix.charCodeAt(i)) return null;
        return { buf, start: start + prefix.length, end, partial: false };
      }
      case 'indented': {
        // Up to the indent of the first record: a stack frame's own tab or spaces stay.
        const indent = this.detail ?? '';
        let at = start;
        for (let i = 0; i < indent.length && at < end && buf[at] === indent.charCodeAt(i); i++) at++;
        return { buf, start: at, end, partial: false };
      }
      default:
        return { buf, start, end, partial: false };
    }
  }

  /** A json-file record: its `log` field without the trailing newline (partial when it had none). */
  private fromJson(buf: Buffer, start: number, end: number): Unwrapped | null {
    let record: unknown;
    try {
      record = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      return null;
    }
    const log = (record as { log?: unknown } | null)?.log;
    if (typeof log !== 'string') return null;
    const complete = log.endsWith('\n');
    let text = complete ? log.slice(0, -1) : log;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const bytes = Buffer.from(text, 'utf8');
    return { buf: bytes, start: 0, end: bytes.length, partial: !complete };
  }

  /** Hands on a line, or keeps its part until the line is complete (CRI `P`, json-file without `\n`). */
  private emit(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number, partial: boolean): void {
    if (this.partial === null && !partial) {
      this.sink.line(buf, start, end, lineNumber, byteOffset, flags, span);
      return;
    }
    const before = this.partial;
    const room = this.options.maxLineBytes - (before?.bytes.length ?? 0);
    const piece = buf.subarray(start, start + Math.max(0, Math.min(end - start, room)));
    const bytes = before === null ? Buffer.from(piece) : Buffer.concat([before.bytes, piece]);
    const joined = { bytes, line: before?.line ?? lineNumber, offset: before?.offset ?? byteOffset, span: (before?.span ?? 0) + span };
    if (partial) {
      this.partial = joined;
      return;
    }
    this.partial = null;
    const cut = end - start > room ? LINE_TRUNCATED : 0;
    this.sink.line(joined.bytes, 0, joined.bytes.length, joined.line, joined.offset, flags | cut, joined.span);
  }
}
