/**
 * Event time, kept honest before the engine sees it:
 *
 * - **Duplicates**: an event identical to one of the last few thousand (a shipper that retried
 *   a batch) is counted and not correlated again.
 * - **Order**: events are held in a small reorder buffer and handed on in time order once the
 *   clock is `reorderMs` past them, so an excerpt pasted out of order, or two threads whose lines
 *   reach the file late, correlate as they happened. An event further back than that (a clock
 *   stepped back, a stray old line) keeps its place: what came before it goes first. Bounded by
 *   count and size: past either, the oldest goes on at once.
 * - **Clock jumps**: the clock (per input kind) moves forward with the events and ticks, but a jump
 *   of more than `maxClockJumpMs` is believed only when the next observation confirms it. One
 *   stray line dated 9999 cannot close every other group; a server that really restarted days
 *   later moves the clock at its second line.
 *
 * Everything depends only on the sequence of events, never on how the input was chunked.
 */
import type { AnyEvent, InputKind } from '../events/log-event';
import type { CorrelationEngine } from './engine';

export interface TimePolicyOptions {
  /** Event time an event may arrive late and still be correlated in order. Default 2,000 ms. */
  reorderMs: number;
  /** Events held for ordering at most (per kind); past it the oldest goes on. Default 10,000. */
  maxReorderEvents: number;
  /** Characters of event text held for ordering at most (per kind). Default 4 Mi (a checkpoint carries them whole). */
  maxReorderChars: number;
  /** A forward jump of the clock larger than this waits for a second observation. Default 1 h. */
  maxClockJumpMs: number;
  /** Recent events remembered to spot exact repeats. Default 4,096. */
  duplicateMemory: number;
}

export const DEFAULT_TIME_POLICY: TimePolicyOptions = {
  reorderMs: 2_000,
  maxReorderEvents: 10_000,
  maxReorderChars: 4 * 1024 * 1024,
  maxClockJumpMs: 60 * 60_000,
  duplicateMemory: 4096,
};

interface Held {
  event: AnyEvent;
  rules: number[];
  seq: number;
}

/**
 * Held events in (time, arrival) order: those that arrive in order (nearly all) go to a FIFO,
 * O(1) each; only late ones go to a binary min-heap. The earliest is the smaller of the two heads.
 */
class HeldEvents {
  private readonly fifo: Held[] = [];
  private fifoHead = 0;
  private readonly heap: Held[] = [];
  chars = 0;

  get size(): number {
    return this.fifo.length - this.fifoHead + this.heap.length;
  }

  /** Every held event, earliest first (for a checkpoint). */
  get items(): Held[] {
    return [...this.fifo.slice(this.fifoHead), ...this.heap].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }

  peek(): Held | undefined {
    const first = this.fifo[this.fifoHead];
    const top = this.heap[0];
    if (first === undefined) return top;
    if (top === undefined) return first;
    return before(top, first) ? top : first;
  }

  push(item: Held): void {
    this.chars += item.event.text.length;
    const last = this.fifo.length > this.fifoHead ? this.fifo[this.fifo.length - 1] : undefined;
    if (last === undefined || !before(item, last)) {
      this.fifo.push(item);
      return;
    }
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = heap[parent] as Held;
      if (!before(item, up)) break;
      heap[i] = up;
      i = parent;
    }
    heap[i] = item;
  }

  pop(): Held | undefined {
    const first = this.fifo[this.fifoHead];
    const top = this.heap[0];
    if (first === undefined && top === undefined) return undefined;
    const fromHeap = first === undefined || (top !== undefined && before(top, first));
    const item = fromHeap ? this.popHeap() : this.shiftFifo();
    this.chars -= item.event.text.length;
    return item;
  }

  private shiftFifo(): Held {
    const item = this.fifo[this.fifoHead] as Held;
    this.fifo[this.fifoHead++] = undefined as unknown as Held; // let it be collected
    if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo.splice(0, this.fifoHead);
      this.fifoHead = 0;
    } else if (this.fifoHead === this.fifo.length) {
      this.fifo.length = 0;
      this.fifoHead = 0;
    }
    return item;
  }

  private popHeap(): Held {
    const heap = this.heap;
    const top = heap[0] as Held;
    const last = heap.pop() as Held;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(heap[right] as Held, heap[left] as Held) ? right : left;
        if (!before(heap[child] as Held, last)) break;
        heap[i] = heap[child] as Held;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Held, b: Held): boolean {
  return a.event.time < b.event.time || (a.event.time === b.event.time && a.seq < b.seq);
}

interface KindClock {
  /** The latest believed time. */
  frontier: number;
  /** A far jump waiting for confirmation. */
  suspect: number | null;
  held: HeldEvents;
}

/** What the time policy holds, as plain JSON. */
export interface TimePolicyState {
  clocks: Array<{ kind: InputKind; frontier: number | null; suspect: number | null; held: Array<{ event: AnyEvent; rules: number[]; seq: number }> }>;
  seq: number;
  recent: number[];
}

/** Two 32-bit hashes of the text in one safe integer: repeats are found, different lines almost never collide. */
function fingerprintOf(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}

export class TimePolicy {
  private readonly engine: CorrelationEngine;
  private readonly options: TimePolicyOptions;
  private readonly clocks = new Map<InputKind, KindClock>();
  private seq = 0;
  private readonly recentSet = new Set<number>();
  private readonly recentRing: number[];
  private ringAt = 0;

  constructor(engine: CorrelationEngine, options: Partial<TimePolicyOptions> = {}) {
    this.engine = engine;
    this.options = { ...DEFAULT_TIME_POLICY, ...options };
    this.recentRing = new Array<number>(Math.max(1, this.options.duplicateMemory)).fill(-1);
  }

  /** A relevant event from a reader. */
  event(event: AnyEvent, rules: number[]): void {
    const print = fingerprintOf(event.text) + (event.kind === 'nexus' ? 0 : 1);
    if (this.recentSet.has(print)) {
      this.engine.counters.duplicateEvents++;
      return;
    }
    this.remember(print);
    if (event.timeUnknown === true) {
      // Loose text with no time: nothing to order it by, and it moves no clock.
      this.engine.process(event, rules);
      return;
    }
    const clock = this.clockOf(event.kind);
    // An event already further back than the reorder window (a clock stepped back, a stray line)
    // keeps its place in the stream: what arrived before it goes first.
    if (event.time <= clock.frontier - this.options.reorderMs) this.release(event.kind, clock, true);
    this.observe(clock, event.time);
    clock.held.push({ event, rules, seq: this.seq++ });
    this.release(event.kind, clock, false);
  }

  /** Event time seen on a line no rule needed. */
  tick(kind: InputKind, time: number): void {
    const clock = this.clockOf(kind);
    this.observe(clock, time);
    this.release(kind, clock, false);
  }

  /** Hands on every held event of a kind (or all), in time order: the end of input, or a live stream gone quiet. */
  flush(kind?: InputKind): void {
    for (const [k, clock] of this.clocks) if (kind === undefined || k === kind) this.release(k, clock, true);
  }

  /** Live use: after a flush, event time follows the wall clock (`time`) for this kind. */
  advanceTo(kind: InputKind, time: number): void {
    const clock = this.clockOf(kind);
    this.release(kind, clock, true);
    if (time > clock.frontier) clock.frontier = time;
    this.engine.advance(kind, time);
  }

  /** The latest believed event time of a kind; -Infinity before any. */
  frontier(kind: InputKind): number {
    return this.clocks.get(kind)?.frontier ?? Number.NEGATIVE_INFINITY;
  }

  /** Events held for ordering now. */
  get held(): number {
    let n = 0;
    for (const clock of this.clocks.values()) n += clock.held.size;
    return n;
  }

  state(): TimePolicyState {
    return {
      clocks: [...this.clocks].map(([kind, c]) => ({
        kind,
        frontier: Number.isFinite(c.frontier) ? c.frontier : null,
        suspect: c.suspect,
        held: c.held.items.map((h) => ({ event: { ...h.event }, rules: h.rules.slice(), seq: h.seq })),
      })),
      seq: this.seq,
      recent: [...this.recentRing.slice(this.ringAt), ...this.recentRing.slice(0, this.ringAt)].filter((h) => h !== -1),
    };
  }

  restoreState(state: TimePolicyState): void {
    this.clocks.clear();
    for (const saved of state.clocks) {
      const clock: KindClock = { frontier: saved.frontier ?? Number.NEGATIVE_INFINITY, suspect: saved.suspect, held: new HeldEvents() };
      for (const h of saved.held) clock.held.push({ event: h.event, rules: h.rules.slice(), seq: h.seq });
      this.clocks.set(saved.kind, clock);
    }
    this.seq = state.seq;
    this.recentSet.clear();
    this.recentRing.fill(-1);
    this.ringAt = 0;
    for (const print of state.recent) this.remember(print);
  }

  private clockOf(kind: InputKind): KindClock {
    let clock = this.clocks.get(kind);
    if (clock === undefined) {
      clock = { frontier: Number.NEGATIVE_INFINITY, suspect: null, held: new HeldEvents() };
      this.clocks.set(kind, clock);
    }
    return clock;
  }

  private remember(print: number): void {
    const old = this.recentRing[this.ringAt] as number;
    if (old !== -1) this.recentSet.delete(old);
    this.recentRing[this.ringAt] = print;
    this.recentSet.add(print);
    this.ringAt = (this.ringAt + 1) % this.recentRing.length;
  }

  private observe(clock: KindClock, time: number): void {
    if (!Number.isFinite(time)) return;
    if (clock.frontier === Number.NEGATIVE_INFINITY || time <= clock.frontier + this.options.maxClockJumpMs) {
      if (time > clock.frontier) clock.frontier = time;
      clock.suspect = null;
      return;
    }
    if (clock.suspect === null) {
      clock.suspect = time; // believed when the next observation agrees
      return;
    }
    clock.frontier = Math.min(clock.suspect, time);
    clock.suspect = null;
  }

  private release(kind: InputKind, clock: KindClock, all: boolean): void {
    const held = clock.held;
    const limit = clock.frontier - this.options.reorderMs;
    for (;;) {
      const top = held.peek();
      if (top === undefined) break;
      const due = all || top.event.time <= limit || held.size > this.options.maxReorderEvents || held.chars > this.options.maxReorderChars;
      if (!due) break;
      held.pop();
      // Never past the believed clock: an unconfirmed far-future line moves nothing.
      this.engine.advance(kind, Math.min(top.event.time, clock.frontier));
      this.engine.process(top.event, top.rules);
    }
    if (Number.isFinite(limit)) this.engine.advance(kind, limit);
  }
}
