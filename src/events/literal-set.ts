/**
 * Many literals searched in one line at once, on raw bytes: the cost of a line does not grow
 * with the number of literals (so, of rules). Anchored literals (`at: 'start' | 'end'`) are one
 * compare each; the others run through one Aho-Corasick automaton over byte classes (one table
 * read per byte), or a plain scan when there are one or two. Each literal carries a value (a
 * rule's index); a match adds every value of every literal found to a `Candidates` set.
 */

export type LiteralAnchor = 'start' | 'end' | 'anywhere';

export interface LiteralEntry {
  text: string;
  at: LiteralAnchor;
  value: number;
}

/** A set of small integers (rule indexes) reused line after line: no allocation per line. */
export class Candidates {
  readonly list: number[] = [];
  private readonly seen: Int32Array;
  private generation = 1;

  constructor(size: number) {
    this.seen = new Int32Array(Math.max(1, size));
  }

  clear(): void {
    this.list.length = 0;
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.seen.fill(0);
      this.generation = 1;
    }
  }

  add(value: number): void {
    if (this.seen[value] === this.generation) return;
    this.seen[value] = this.generation;
    this.list.push(value);
  }

  get size(): number {
    return this.list.length;
  }
}

interface Anchored {
  bytes: Buffer;
  values: number[];
}

/** The byte classes of a set of patterns: class 0 is every byte no pattern holds. */
function byteClasses(patterns: ReadonlyArray<{ bytes: Uint8Array }>): { classOf: Uint8Array; bits: number } {
  const classOf = new Uint8Array(256);
  let classes = 1;
  for (const { bytes } of patterns) for (const byte of bytes) if (classOf[byte] === 0) classOf[byte] = classes++;
  return { classOf, bits: Math.max(1, Math.ceil(Math.log2(classes))) };
}

/**
 * A trie of the literals: edges as linked lists in typed arrays (built in the literals' bytes,
 * no table of states x classes, no object per state), values per state in CSR form. The dense
 * transition table anchored matching walks is made from it once (`next`).
 */
class Trie {
  readonly classOf: Uint8Array;
  readonly bits: number;
  readonly states: number;
  readonly valueStart: Int32Array;
  readonly values: Int32Array;
  /** Edges: the first of each state, the next of each edge, and each edge's class and child. */
  readonly firstEdge: Int32Array;
  readonly nextEdge: Int32Array;
  readonly edgeClass: Int32Array;
  readonly edgeChild: Int32Array;
  /** state * width + class -> child, -1 for none. */
  readonly next: Int32Array;

  constructor(patterns: ReadonlyArray<{ bytes: Uint8Array; values: readonly number[] }>) {
    const { classOf, bits } = byteClasses(patterns);
    this.classOf = classOf;
    this.bits = bits;
    let capacity = 1;
    for (const { bytes } of patterns) capacity += bytes.length;
    const firstEdge = new Int32Array(capacity).fill(-1);
    const nextEdge = new Int32Array(capacity);
    const edgeClass = new Int32Array(capacity);
    const edgeChild = new Int32Array(capacity);
    const own = new Map<number, number[]>();
    let states = 1;
    let edgeCount = 0;
    for (const { bytes, values } of patterns) {
      let state = 0;
      for (let b = 0; b < bytes.length; b++) {
        const cls = classOf[bytes[b] as number] as number;
        let edge = firstEdge[state] as number;
        while (edge !== -1 && edgeClass[edge] !== cls) edge = nextEdge[edge] as number;
        if (edge === -1) {
          edge = edgeCount++;
          edgeClass[edge] = cls;
          edgeChild[edge] = states++;
          nextEdge[edge] = firstEdge[state] as number;
          firstEdge[state] = edge;
        }
        state = edgeChild[edge] as number;
      }
      const list = own.get(state) ?? [];
      for (const value of values) if (!list.includes(value)) list.push(value);
      own.set(state, list);
    }
    this.states = states;
    this.firstEdge = firstEdge;
    this.nextEdge = nextEdge;
    this.edgeClass = edgeClass;
    this.edgeChild = edgeChild;
    const { start, flat } = csrOf(states, (state) => own.get(state));
    this.valueStart = start;
    this.values = flat;
    const width = 1 << bits;
    this.next = new Int32Array(states * width).fill(-1);
    for (let state = 0; state < states; state++) {
      for (let edge = firstEdge[state] as number; edge !== -1; edge = nextEdge[edge] as number) this.next[state * width + (edgeClass[edge] as number)] = edgeChild[edge] as number;
    }
  }

  /** Values of every pattern that buf[from..] starts with (walks at most the longest pattern). */
  matchPrefix(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    const { next, classOf, valueStart, values } = this;
    const bits = this.bits;
    let state = 0;
    for (let i = from; i < end; i++) {
      state = next[(state << bits) | (classOf[buf[i] as number] as number)] as number;
      if (state === -1) return;
      for (let v = valueStart[state] as number, last = valueStart[state + 1] as number; v < last; v++) out.add(values[v] as number);
    }
  }

  /** Values of every pattern (stored reversed) that buf[..end) ends with. */
  matchSuffix(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    const { next, classOf, valueStart, values } = this;
    const bits = this.bits;
    let state = 0;
    for (let i = end - 1; i >= from; i--) {
      state = next[(state << bits) | (classOf[buf[i] as number] as number)] as number;
      if (state === -1) return;
      for (let v = valueStart[state] as number, last = valueStart[state + 1] as number; v < last; v++) out.add(values[v] as number);
    }
  }
}

/** Per-state value lists in CSR form: the values of state s are flat[start[s]..start[s+1]). */
function csrOf(states: number, listOf: (state: number) => readonly number[] | undefined): { start: Int32Array; flat: Int32Array } {
  const start = new Int32Array(states + 1);
  const flat: number[] = [];
  for (let state = 0; state < states; state++) {
    start[state] = flat.length;
    const list = listOf(state);
    if (list !== undefined) flat.push(...list);
  }
  start[states] = flat.length;
  return { start, flat: Int32Array.from(flat) };
}

/** A transition not worked out yet (rows are below 2^31). */
const UNKNOWN = 0x7fffffff;

/**
 * An Aho-Corasick automaton over byte classes. Only the trie's edges and the failure links are
 * built up front (cost: the literals' bytes); the other transitions are worked out the first
 * time a line needs them and kept (a lazy DFA), so a set that is never or rarely used costs
 * almost nothing at start-up, and a busy one becomes one table read per byte. A transition holds
 * the next state's row (state << bits), negated when that state reports values: the loop then
 * reads two tables per byte and tests a sign.
 */
class Automaton {
  private readonly classOf: Uint8Array;
  private readonly classBits: number;
  /** row + class -> next row, negative when the next state reports values; UNKNOWN: not worked out yet. */
  private readonly delta: Int32Array;
  private readonly fail: Int32Array;
  /** Values reported in each state: valueStart[s]..valueStart[s+1] in `values`. */
  private readonly valueStart: Int32Array;
  private readonly values: Int32Array;

  constructor(patterns: ReadonlyArray<{ bytes: Buffer; values: readonly number[] }>) {
    const trie = new Trie(patterns);
    this.classOf = trie.classOf;
    const bits = trie.bits;
    this.classBits = bits;
    const width = 1 << bits;
    const fail = new Int32Array(trie.states);
    // Each state reports its own values and those of its failure (a literal ending inside another).
    const outputs = new Map<number, number[]>();
    for (let state = 0; state < trie.states; state++) {
      const from = trie.valueStart[state] as number;
      const to = trie.valueStart[state + 1] as number;
      if (to > from) outputs.set(state, Array.from(trie.values.subarray(from, to)));
    }
    const goto = (state: number, cls: number): number => {
      for (;;) {
        const child = trie.next[state * width + cls] as number;
        if (child !== -1) return child;
        if (state === 0) return 0;
        state = fail[state] as number;
      }
    };
    // Breadth first over the trie's edges: a child's failure is where its parent's failure goes on its byte.
    const queue = new Int32Array(trie.states);
    let tail = 0;
    for (let edge = trie.firstEdge[0] as number; edge !== -1; edge = trie.nextEdge[edge] as number) queue[tail++] = trie.edgeChild[edge] as number;
    for (let head = 0; head < tail; head++) {
      const state = queue[head] as number;
      for (let edge = trie.firstEdge[state] as number; edge !== -1; edge = trie.nextEdge[edge] as number) {
        const child = trie.edgeChild[edge] as number;
        const target = state === 0 ? 0 : goto(fail[state] as number, trie.edgeClass[edge] as number);
        fail[child] = target;
        const inherited = outputs.get(target);
        if (inherited !== undefined) {
          const list = outputs.get(child) ?? [];
          for (const value of inherited) if (!list.includes(value)) list.push(value);
          outputs.set(child, list);
        }
        queue[tail++] = child;
      }
    }
    const { start, flat } = csrOf(trie.states, (state) => outputs.get(state));
    this.valueStart = start;
    this.values = flat;
    this.fail = fail;
    // Trie edges now, the rest on first use; the root's row is complete (a miss stays at the root).
    const delta = new Int32Array(trie.states * width).fill(UNKNOWN);
    for (let cls = 0; cls < width; cls++) delta[cls] = 0;
    for (let state = 0; state < trie.states; state++) {
      for (let edge = trie.firstEdge[state] as number; edge !== -1; edge = trie.nextEdge[edge] as number) {
        delta[(state << bits) | (trie.edgeClass[edge] as number)] = this.encode(trie.edgeChild[edge] as number);
      }
    }
    this.delta = delta;
  }

  private encode(state: number): number {
    const row = state << this.classBits;
    return (this.valueStart[state + 1] as number) > (this.valueStart[state] as number) ? -row : row;
  }

  /** The transition from the state of `row` on `cls`, worked out through failure links on first use. */
  private resolve(row: number, cls: number): number {
    let next = this.delta[row | cls] as number;
    if (next !== UNKNOWN) return next;
    const failRow = (this.fail[row >> this.classBits] as number) << this.classBits;
    next = this.resolve(failRow, cls); // the root's row is complete: this ends
    this.delta[row | cls] = next;
    return next;
  }

  match(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    const { delta, classOf } = this;
    let row = 0;
    for (let i = from; i < end; i++) {
      const cls = classOf[buf[i] as number] as number;
      let next = delta[row | cls] as number;
      if (next === UNKNOWN) next = this.resolve(row, cls);
      if (next >= 0) {
        row = next;
      } else {
        row = -next;
        this.report(row >> this.classBits, out);
      }
    }
  }

  private report(state: number, out: Candidates): void {
    const { valueStart, values } = this;
    for (let v = valueStart[state] as number, last = valueStart[state + 1] as number; v < last; v++) out.add(values[v] as number);
  }
}

/** First index of `needle` in buf[from, end), or -1: a search that never runs past the line. */
export function indexWithin(buf: Uint8Array, from: number, end: number, needle: Buffer): number {
  const first = needle[0] as number;
  const length = needle.length;
  const last = end - length;
  for (let i = from; i <= last; i++) {
    if (buf[i] !== first) continue;
    let k = 1;
    while (k < length && buf[i + k] === needle[k]) k++;
    if (k === length) return i;
  }
  return -1;
}

/** The compiled form of a set: built on the first line that needs it. */
interface Compiled {
  starts: Trie | null;
  ends: Trie | null;
  scans: Anchored[];
  automaton: Automaton | null;
}

export class LiteralSet {
  private readonly entries: readonly LiteralEntry[];
  private compiled: Compiled | null = null;
  /** True when the set holds no literal: `match` finds nothing. */
  readonly empty: boolean;

  constructor(entries: readonly LiteralEntry[]) {
    this.entries = entries.filter((entry) => entry.text !== '');
    this.empty = this.entries.length === 0;
  }

  /** Adds to `out` the values of every literal in buf[from, end) (anchors at `from` and `end`). */
  match(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    // Compiled on first use: a catalogue has tens of sets and a given log needs a few, and
    // start-up (run once, before the JIT warms up) counts on small files.
    const { starts, ends, scans, automaton } = this.compiled ?? (this.compiled = compile(this.entries));
    starts?.matchPrefix(buf, from, end, out);
    if (ends !== null) {
      let last = end;
      while (last > from && (buf[last - 1] === 0x20 || buf[last - 1] === 0x09)) last--;
      ends.matchSuffix(buf, from, last, out);
    }
    for (const { bytes, values } of scans) {
      if (indexWithin(buf, from, end, bytes) !== -1) for (const value of values) out.add(value);
    }
    automaton?.match(buf, from, end, out);
  }
}

function compile(entries: readonly LiteralEntry[]): Compiled {
  const group = (at: LiteralAnchor): Anchored[] => {
    const byText = new Map<string, number[]>();
    for (const entry of entries) {
      if (entry.at !== at) continue;
      const values = byText.get(entry.text) ?? [];
      if (!values.includes(entry.value)) values.push(entry.value);
      byText.set(entry.text, values);
    }
    return [...byText].map(([text, values]) => ({ bytes: Buffer.from(text, 'utf8'), values }));
  };
  const starts = group('start');
  const ends = group('end');
  const anywhere = group('anywhere');
  // Two literals scan faster one by one than through the automaton; more do not.
  const manyAnywhere = anywhere.length > 2;
  return {
    starts: starts.length === 0 ? null : new Trie(starts),
    ends: ends.length === 0 ? null : new Trie(ends.map(({ bytes, values }) => ({ bytes: Uint8Array.from(bytes).reverse(), values }))),
    scans: manyAnywhere ? [] : anywhere,
    automaton: manyAnywhere ? new Automaton(anywhere) : null,
  };
}
