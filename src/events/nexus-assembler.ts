/**
 * nexus.log lines -> events (task logs too: same layout). A line that starts with a timestamp
 * starts an event; any other line continues the event before it (stack traces, hard wraps).
 *
 * Per header line: its level (one byte past the timestamp); if a rule reads that level, its
 * logger (when a rule of the level names loggers); then the literals of the rules for that level
 * and logger, all at once. Only events holding one are decoded and parsed. Rules that read stack
 * traces (`continuation: true`) also get events whose exception lines (not frames) hold one of
 * their literals: such events are kept as bytes until their trace says.
 *
 * A header cut before its ` - ` separator (a pasted excerpt wrapped at spaces) is joined with
 * the lines that follow until it is whole, then read the same way.
 *
 * To keep event time moving through stretches with no relevant events, the timestamp of each
 * header line that crosses a 64 KiB boundary of the source is reported as a tick: positions
 * only, so any chunking gives the same ticks.
 */
import { HeaderScan, LEVEL_ERROR, LEVEL_WARN, levelCode, levelName, loggerKey } from './header-scan';
import { parseHeader, parseHeaderTail, parseLoggerLine } from './header-parser';
import { hasUnclosedDelimiter, repairHardWraps } from './hard-wraps';
import { Candidates, type LiteralSet } from './literal-set';
import type { LevelRoutes, NexusPlan } from './dispatch-plan';
import type { NexusEvent } from './log-event';
import { parseTimestamp } from './timestamp';
import type { EventSink, SourceCounters } from './event-sink';

const LINE_TRUNCATED = 2;
/** Stands for the middle of a line too long to decode whole. */
const CUT_MARK = Buffer.from(' [...] ');
/** Ticks: one per header line that crosses a boundary of this many bytes. */
export const TICK_BYTES = 64 * 1024;
/** Lines joined at most to a header cut before its separator. */
const MAX_JOINED = 4;
/** Lines before a source's first record kept to be read as loose text (a pasted trace, an e-mail). */
const MAX_ORPHAN_LINES = 512;
const MAX_ORPHAN_CHARS = 256 * 1024;

/** A line before the first record of a source. */
interface OrphanLine {
  text: string;
  line: number;
  offset: number;
  frame: boolean;
}

export interface NexusAssemblerOptions {
  kind: 'nexus' | 'task';
  source: string;
  plan: NexusPlan | null;
  ruleCount: number;
  /** Continuation (exception) lines kept per event; more are counted, not kept. */
  maxContinuationLines: number;
  /** Characters kept of an event's header with its wrap fragments, and of its kept continuation lines together. */
  maxEventChars: number;
}

interface PendingEvent {
  /** The decoded header line, once the event is known to be relevant. */
  header: string | null;
  /** The header's bytes while it is only possibly relevant (a rule reads its stack trace), or cut (`joining`). */
  bytes: Buffer | null;
  level: number;
  loggerHash: number;
  /** Rules whose literals it holds so far. */
  rules: number[];
  line: number;
  offset: number;
  /** A header cut before its separator: lines are joined to it (count), -1 once whole or given up. */
  joining: number;
  /** Keep exception lines: a rule reads them, or a hard wrap may need repairing. Decided at the first continuation line. */
  keep: boolean | null;
  continuation: string[];
  continuationChars: number;
  continuationDropped: number;
  truncated: boolean;
  /** Bytes of the header line when it was cut at maxEventChars. */
  lineBytes: number | null;
}

/** Where an assembler is, as plain JSON. */
export interface AssemblerState {
  pending: (Omit<PendingEvent, 'bytes'> & { bytes: string | null }) | null;
  seenEvent: boolean;
  orphans: OrphanLine[];
}

const SPACE = 0x20;
const TAB = 0x09;

/** A stack frame (`\tat ...`, `    at ...`, `\t... 12 more`): counted, never kept. */
function isFrame(buf: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at < end && (buf[at] === SPACE || buf[at] === TAB)) at++;
  if (at === start) return false;
  return (buf[at] === 0x61 && buf[at + 1] === 0x74 && buf[at + 2] === SPACE) || (buf[at] === 0x2e && buf[at + 1] === 0x2e && buf[at + 2] === 0x2e);
}

export class NexusAssembler {
  private readonly sink: EventSink;
  private readonly options: NexusAssemblerOptions;
  private readonly counters: SourceCounters;
  private readonly scan = new HeaderScan();
  /** A second scanner for joined headers: settling one runs while `scan` holds the current line. */
  private readonly joinScan = new HeaderScan();
  private readonly candidates: Candidates;
  private pending: PendingEvent | null = null;
  private seenEvent = false;
  private orphans: OrphanLine[] = [];
  private orphanChars = 0;

  constructor(sink: EventSink, options: NexusAssemblerOptions, counters: SourceCounters) {
    this.sink = sink;
    this.options = options;
    this.counters = counters;
    this.candidates = new Candidates(options.ruleCount);
  }

  line(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number, flags: number, span: number): void {
    if (flags & LINE_TRUNCATED) this.counters.truncatedLines++;
    if (!this.scan.scanLevel(buf, start, end)) {
      const pending = this.pending;
      if (pending !== null) this.continueEvent(pending, buf, start, end, flags);
      else if (!this.seenEvent) this.keepOrphan(buf, start, end, lineNumber, byteOffset);
      return;
    }
    this.counters.events++;
    if (!this.seenEvent) {
      this.seenEvent = true;
      if (this.orphans.length > 0) this.readOrphans(parseTimestamp(buf.toString('latin1', start, Math.min(end, start + 40)))?.epochMs ?? null);
    }
    if (this.pending !== null) this.finish();
    if (Math.floor(byteOffset / TICK_BYTES) !== Math.floor((byteOffset + span) / TICK_BYTES)) this.tick(buf, start, end);
    const level = this.scan.level;
    const routes = this.options.plan?.levels[level];
    if (routes === null || routes === undefined) return;
    let loggerHash = 0;
    let from = start;
    if (routes.needsLogger) {
      if (!this.scan.scanLogger(buf, end)) {
        // No ` - `: a header cut by a wrap. Join what follows before deciding.
        this.pending = this.newPending(null, this.bytesOf(buf, start, end), level, 0, [], lineNumber, byteOffset, this.cutFlags(start, end, flags), 0);
        return;
      }
      loggerHash = this.scan.loggerHash;
      from = this.scan.messageStart;
    }
    // Hot path: no allocation until the line is known to matter.
    const own = loggerHash === 0 ? undefined : routes.byLogger.get(loggerHash);
    const any = routes.anyLogger;
    if (own === undefined && any === null) return;
    const candidates = this.candidates;
    candidates.clear();
    own?.header?.match(buf, from, end, candidates);
    any?.header?.match(buf, from, end, candidates);
    const relevant = candidates.size > 0;
    if (!relevant && (own?.continuation ?? null) === null && (any?.continuation ?? null) === null) return;
    this.pending = relevant
      ? this.newPending(this.bytesOf(buf, start, end).toString('utf8'), null, level, loggerHash, this.candidates.list.slice(), lineNumber, byteOffset, this.cutFlags(start, end, flags), -1)
      : this.newPending(null, this.bytesOf(buf, start, end), level, loggerHash, [], lineNumber, byteOffset, this.cutFlags(start, end, flags), -1);
    if (end - start > this.options.maxEventChars) this.pending.lineBytes = end - start;
  }

  /**
   * A header's bytes, copied; past `maxEventChars` only its head and its tail, joined by
   * CUT_MARK, so a hostile line of 1 MiB is never decoded whole (each such string is garbage V8
   * lets pile up; the literals were already searched in all its bytes) while what parsers read at
   * either end (a name at the start, `(FAILED)` at the end) is still there. The event is flagged.
   */
  private bytesOf(buf: Buffer, start: number, end: number): Buffer {
    const max = this.options.maxEventChars;
    if (end - start <= max) return Buffer.from(buf.subarray(start, end));
    const half = Math.floor((max - CUT_MARK.length) / 2);
    return Buffer.concat([buf.subarray(start, start + half), CUT_MARK, buf.subarray(end - half, end)]);
  }

  private cutFlags(start: number, end: number, flags: number): number {
    return end - start > this.options.maxEventChars ? flags | LINE_TRUNCATED : flags;
  }

  /** Searches a header's message with the literals of its logger's rules and of the rules of any logger; true when one holds. */
  private match(routes: LevelRoutes, loggerHash: number, buf: Uint8Array, from: number, end: number): boolean {
    const candidates = this.candidates;
    candidates.clear();
    if (loggerHash !== 0) routes.byLogger.get(loggerHash)?.header?.match(buf, from, end, candidates);
    routes.anyLogger?.header?.match(buf, from, end, candidates);
    return candidates.size > 0;
  }

  /** Some rule for this level and logger reads stack traces. */
  private readsTraces(routes: LevelRoutes, loggerHash: number): boolean {
    return (routes.anyLogger?.continuation ?? null) !== null || (loggerHash !== 0 && (routes.byLogger.get(loggerHash)?.continuation ?? null) !== null);
  }

  private newPending(header: string | null, bytes: Buffer | null, level: number, loggerHash: number, rules: number[], line: number, offset: number, flags: number, joining: number): PendingEvent {
    return { header, bytes, level, loggerHash, rules, line, offset, joining, keep: null, continuation: [], continuationChars: 0, continuationDropped: 0, truncated: (flags & LINE_TRUNCATED) !== 0, lineBytes: null };
  }

  /** Hands on the event in progress, if any (end of a source, or a live stream gone quiet). */
  flush(): void {
    if (this.pending !== null) this.finish();
  }

  /** End of the source: loose text with no record after it is read now, its time unknown. */
  end(): void {
    this.flush();
    if (this.orphans.length > 0) this.readOrphans(null);
  }

  state(): AssemblerState {
    const p = this.pending;
    return {
      pending: p === null ? null : { ...p, bytes: p.bytes === null ? null : p.bytes.toString('base64'), rules: [...p.rules], continuation: [...p.continuation] },
      seenEvent: this.seenEvent,
      orphans: this.orphans.map((o) => ({ ...o })),
    };
  }

  restoreState(state: AssemblerState): void {
    const p = state.pending;
    this.pending = p === null ? null : { ...p, bytes: p.bytes === null ? null : Buffer.from(p.bytes, 'base64'), rules: [...p.rules], continuation: [...p.continuation] };
    this.seenEvent = state.seenEvent;
    this.orphans = state.orphans.map((o) => ({ ...o }));
    this.orphanChars = this.orphans.reduce((sum, o) => sum + o.text.length, 0);
  }

  private keepOrphan(buf: Buffer, start: number, end: number, lineNumber: number, byteOffset: number): void {
    this.counters.unparsedLines++;
    if (this.orphans.length >= MAX_ORPHAN_LINES || this.orphanChars >= MAX_ORPHAN_CHARS || end === start) return;
    const text = buf.toString('utf8', start, Math.min(end, start + MAX_ORPHAN_CHARS - this.orphanChars));
    this.orphans.push({ text, line: lineNumber, offset: byteOffset, frame: isFrame(buf, start, end) });
    this.orphanChars += text.length;
  }

  /**
   * Loose text before a source's first record (a pasted stack trace, a task e-mail, a selection
   * that starts mid-timestamp) is read too: a line that still has a header tail (`WARN [thread]
   * user logger - message`) goes by its level and logger; any other line is offered to the rules
   * that read ERROR or WARN lines of any logger. Each line holding a literal is an event, with
   * the loose lines after it as its continuation. Its time is that of the first record after it,
   * or unknown when none follows.
   */
  private readOrphans(time: number | null): void {
    const orphans = this.orphans;
    this.orphans = [];
    this.orphanChars = 0;
    const plan = this.options.plan;
    if (plan === null) return;
    const found: Array<{ at: number; rules: number[]; header: ReturnType<typeof parseHeaderTail>; level: number }> = [];
    orphans.forEach((orphan, at) => {
      if (orphan.frame) return;
      const bytes = Buffer.from(orphan.text, 'utf8');
      const header = parseHeaderTail(orphan.text) ?? parseLoggerLine(orphan.text);
      this.candidates.clear();
      let level = LEVEL_ERROR;
      if (header !== undefined && header.level !== '') {
        level = levelCode(header.level);
        this.matchLoggerRoutes(plan, level, header.logger, header.message);
      } else if (header !== undefined) {
        // The logger without its level: the routes of ERROR, then of WARN, for that logger.
        for (const code of [LEVEL_ERROR, LEVEL_WARN]) {
          this.matchLoggerRoutes(plan, code, header.logger, header.message);
          level = code;
          if (this.candidates.size > 0) break;
        }
      } else {
        for (const code of [LEVEL_ERROR, LEVEL_WARN]) {
          const route = plan.levels[code]?.anyLogger ?? null;
          route?.header?.match(bytes, 0, bytes.length, this.candidates);
          route?.continuation?.match(bytes, 0, bytes.length, this.candidates);
        }
      }
      const rules = this.candidates.list.filter((rule) => plan.readsLogger(rule, level, header?.logger ?? ''));
      if (rules.length > 0) found.push({ at, rules, header, level });
    });
    found.forEach(({ at, rules, header, level }, index) => {
      const orphan = orphans[at] as OrphanLine;
      const next = found[index + 1]?.at ?? orphans.length;
      const continuation = orphans.slice(at + 1, next).filter((o) => !o.frame).map((o) => o.text).slice(0, this.options.maxContinuationLines);
      this.counters.relevantEvents++;
      const event: NexusEvent = {
        kind: this.options.kind,
        source: this.options.source,
        line: orphan.line,
        offset: orphan.offset,
        time: time ?? 0,
        ...(time === null ? { timeUnknown: true as const } : {}),
        timestampText: '',
        level: header === undefined || header.level === '' ? (levelName(level) ?? 'ERROR') : header.level,
        thread: header?.thread ?? '',
        node: header?.node === undefined || header.node === '' ? null : header.node,
        user: header?.user ?? null,
        logger: header?.logger ?? '',
        message: header?.message ?? orphan.text,
        text: orphan.text,
        continuation,
        continuationDropped: next - at - 1 - continuation.length,
        truncated: false,
      };
      this.sink.event(event, rules);
    });
  }

  /** Candidates of a loose line with a logger: the rules of that level reading that logger, or any logger. */
  private matchLoggerRoutes(plan: NexusPlan, level: number, logger: string, text: string): void {
    const routes = plan.levels[level];
    const message = Buffer.from(text, 'utf8');
    for (const route of [routes?.byLogger.get(loggerKey(logger)), routes?.anyLogger]) {
      route?.header?.match(message, 0, message.length, this.candidates);
      route?.continuation?.match(message, 0, message.length, this.candidates);
    }
  }

  /** The literal sets of rules reading the traces of a pending event: its logger's, and any logger's. */
  private traceSets(pending: PendingEvent): [LiteralSet | null, LiteralSet | null] {
    const routes = this.options.plan?.levels[pending.level];
    if (routes === null || routes === undefined) return [null, null];
    return [pending.loggerHash === 0 ? null : (routes.byLogger.get(pending.loggerHash)?.continuation ?? null), routes.anyLogger?.continuation ?? null];
  }

  private continueEvent(pending: PendingEvent, buf: Buffer, start: number, end: number, flags: number): void {
    if (flags & LINE_TRUNCATED) pending.truncated = true;
    if (pending.joining >= 0) {
      if (this.join(pending, buf, start, end)) return;
    }
    const [ownTraces, anyTraces] = this.traceSets(pending);
    if (pending.keep === null) {
      // Exception lines are kept when a rule may read them, or when the header is visibly cut (a hard wrap).
      const header = pending.header;
      pending.keep = ownTraces !== null || anyTraces !== null || (header !== null && (hasUnclosedDelimiter(header) || header.endsWith(' ')));
    }
    if (!pending.keep || isFrame(buf, start, end)) {
      pending.continuationDropped++;
      return;
    }
    if (ownTraces !== null || anyTraces !== null) {
      const candidates = this.candidates;
      candidates.clear();
      for (const rule of pending.rules) candidates.add(rule);
      const before = candidates.size;
      ownTraces?.match(buf, start, end, candidates);
      anyTraces?.match(buf, start, end, candidates);
      if (candidates.size > before) pending.rules = candidates.list.slice();
    }
    if (pending.continuation.length >= this.options.maxContinuationLines || pending.continuationChars >= this.options.maxEventChars) {
      pending.continuationDropped++;
      return;
    }
    const text = buf.toString('utf8', start, Math.min(end, start + this.options.maxEventChars - pending.continuationChars));
    pending.continuation.push(text);
    pending.continuationChars += text.length;
  }

  /**
   * A line after a header cut before its separator: joined to it while the header has no
   * separator yet or ends with a space (the cut was at a space), then the whole header is read
   * like any other. True when the line was joined.
   */
  private join(pending: PendingEvent, buf: Buffer, start: number, end: number): boolean {
    const bytes = pending.bytes as Buffer;
    const whole = this.joinScan.scanLevel(bytes, 0, bytes.length) && this.joinScan.scanLogger(bytes, bytes.length);
    const cutAtSpace = bytes.length > 0 && bytes[bytes.length - 1] === SPACE;
    if (pending.joining < MAX_JOINED && (!whole || cutAtSpace) && !isFrame(buf, start, end) && end > start && bytes.length + (end - start) <= this.options.maxEventChars) {
      pending.bytes = Buffer.concat([bytes, buf.subarray(start, end)]);
      pending.joining++;
      return true;
    }
    this.settleJoined(pending);
    return false;
  }

  /** The cut header is as whole as it gets: read it. The pending event is kept only if a rule may want it. */
  private settleJoined(pending: PendingEvent): void {
    pending.joining = -1;
    const bytes = pending.bytes as Buffer;
    const routes = this.joinScan.scanLevel(bytes, 0, bytes.length) ? this.options.plan?.levels[this.joinScan.level] : null;
    if (routes === null || routes === undefined) return;
    const withLogger = this.joinScan.scanLogger(bytes, bytes.length);
    const loggerHash = withLogger ? this.joinScan.loggerHash : 0;
    const relevant = this.match(routes, loggerHash, bytes, withLogger ? this.joinScan.messageStart : 0, bytes.length);
    if (!relevant && !this.readsTraces(routes, loggerHash)) {
      pending.rules = [];
      pending.keep = false;
      return;
    }
    pending.loggerHash = loggerHash;
    if (relevant) {
      pending.rules = this.candidates.list.slice();
      pending.header = bytes.toString('utf8');
      pending.bytes = null;
    }
  }

  private tick(buf: Buffer, start: number, end: number): void {
    const parsed = parseTimestamp(buf.toString('latin1', start, Math.min(end, start + 40)), 0);
    if (parsed !== undefined) this.sink.tick(parsed.epochMs);
  }

  private finish(): void {
    const pending = this.pending as PendingEvent;
    this.pending = null;
    if (pending.joining >= 0) this.settleJoined(pending);
    if (pending.rules.length === 0) return; // only possibly relevant, and its trace said no
    const headerText = pending.header ?? (pending.bytes as Buffer).toString('utf8');
    const header = parseHeader(headerText);
    if (header === undefined) {
      this.counters.unparsedLines++;
      return;
    }
    const plan = this.options.plan as NexusPlan;
    const rules = pending.rules.filter((rule) => plan.readsLogger(rule, pending.level, header.logger));
    if (rules.length === 0) return;
    const messageStart = headerText.length - header.message.length;
    const repaired = repairHardWraps(headerText, messageStart, pending.continuation, this.options.maxEventChars);
    this.counters.relevantEvents++;
    const event: NexusEvent = {
      kind: this.options.kind,
      source: this.options.source,
      line: pending.line,
      offset: pending.offset,
      time: header.epochMs,
      timestampText: header.timestampText,
      level: header.level,
      thread: header.thread,
      node: header.node === '' ? null : header.node,
      user: header.user,
      logger: header.logger,
      message: repaired.header.slice(messageStart),
      text: repaired.header,
      continuation: repaired.rest,
      continuationDropped: pending.continuationDropped,
      truncated: pending.truncated,
      ...(pending.lineBytes === null ? {} : { lineBytes: pending.lineBytes }),
    };
    this.sink.event(event, rules);
  }
}
