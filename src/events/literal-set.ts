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
 * A trie in one typed array (`-1`: no child), values per state in CSR form. Built once per rule
 * set; typed arrays, not Maps, so a catalogue of a few hundred literals builds in well under a
 * millisecond (start-up counts on small files).
 */
class Trie {
  readonly classOf: Uint8Array;
  readonly bits: number;
  readonly next: Int32Array;
  readonly states: number;
  readonly valueStart: Int32Array;
  readonly values: Int32Array;
  /** Values ending at each state, before any merging (kept for the automaton's outputs). */
  readonly own: number[][];
  /** Each state's edges as class, child pairs: walking them costs the literals' bytes, not states x classes. */
  readonly edges: number[][];

  constructor(patterns: ReadonlyArray<{ bytes: Uint8Array; values: readonly number[] }>) {
    const { classOf, bits } = byteClasses(patterns);
    this.classOf = classOf;
    this.bits = bits;
    const width = 1 << bits;
    let capacity = 1;
    for (const { bytes } of patterns) capacity += bytes.length;
    const next = new Int32Array(capacity * width).fill(-1);
    const own: number[][] = [[]];
    const edges: number[][] = [[]];
    let states = 1;
    for (const { bytes, values } of patterns) {
      let state = 0;
      for (const byte of bytes) {
        const slot = state * width + (classOf[byte] as number);
        let child = next[slot] as number;
        if (child === -1) {
          child = states++;
          next[slot] = child;
          own.push([]);
          edges.push([]);
          (edges[state] as number[]).push(classOf[byte] as number, child);
        }
        state = child;
      }
      for (const value of values) if (!(own[state] as number[]).includes(value)) (own[state] as number[]).push(value);
    }
    this.next = next.subarray(0, states * width);
    this.states = states;
    this.own = own;
    this.edges = edges;
    const { start, flat } = csr(own);
    this.valueStart = start;
    this.values = flat;
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

function csr(lists: ReadonlyArray<readonly number[]>): { start: Int32Array; flat: Int32Array } {
  const start = new Int32Array(lists.length + 1);
  let total = 0;
  for (let i = 0; i < lists.length; i++) {
    start[i] = total;
    total += (lists[i] as readonly number[]).length;
  }
  start[lists.length] = total;
  const flat = new Int32Array(total);
  let at = 0;
  for (const list of lists) for (const value of list) flat[at++] = value;
  return { start, flat };
}

/**
 * An Aho-Corasick automaton over byte classes. Only the trie's edges and the failure links are
 * built up front (cost: the literals' bytes); the other transitions are worked out the first
 * time a line needs them and kept (a lazy DFA), so a set that is never or rarely used costs
 * almost nothing at start-up, and a busy one becomes one table read per byte.
 */
class Automaton {
  private readonly classOf: Uint8Array;
  private readonly classBits: number;
  /** state * width + class -> next state; -1: not worked out yet. */
  private readonly delta: Int32Array;
  private readonly fail: Int32Array;
  /** Values reported in each state: valueStart[s]..valueStart[s+1] in `values`. */
  private readonly valueStart: Int32Array;
  private readonly values: Int32Array;

  constructor(patterns: ReadonlyArray<{ bytes: Buffer; values: readonly number[] }>) {
    const trie = new Trie(patterns);
    this.classOf = trie.classOf;
    this.classBits = trie.bits;
    const width = 1 << trie.bits;
    const delta = trie.next.slice();
    const fail = new Int32Array(trie.states);
    const outputs = trie.own.map((values) => [...values]);
    // Breadth first over the trie's own edges: a child's failure is where its parent's failure goes on its byte.
    const queue = new Int32Array(trie.states);
    let tail = 0;
    for (let cls = 0; cls < width; cls++) if (delta[cls] === -1) delta[cls] = 0;
    const rootEdges = trie.edges[0] as number[];
    for (let e = 1; e < rootEdges.length; e += 2) queue[tail++] = rootEdges[e] as number;
    this.delta = delta;
    this.fail = fail;
    for (let head = 0; head < tail; head++) {
      const state = queue[head] as number;
      const edges = trie.edges[state] as number[];
      for (let e = 0; e < edges.length; e += 2) {
        const cls = edges[e] as number;
        const child = edges[e + 1] as number;
        const target = this.step(fail[state] as number, cls);
        fail[child] = target;
        for (const value of outputs[target] as number[]) if (!(outputs[child] as number[]).includes(value)) (outputs[child] as number[]).push(value);
        queue[tail++] = child;
      }
    }
    const { start, flat } = csr(outputs);
    this.valueStart = start;
    this.values = flat;
  }

  /** The transition from `state` on `cls`, worked out through failure links on first use. */
  private step(state: number, cls: number): number {
    const bits = this.classBits;
    const slot = (state << bits) | cls;
    let next = this.delta[slot] as number;
    if (next !== -1) return next;
    next = this.step(this.fail[state] as number, cls); // the root's row is complete: this ends
    this.delta[slot] = next;
    return next;
  }

  match(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    const { delta, classOf, valueStart, values } = this;
    const bits = this.classBits;
    let state = 0;
    for (let i = from; i < end; i++) {
      const cls = classOf[buf[i] as number] as number;
      let next = delta[(state << bits) | cls] as number;
      if (next === -1) next = this.step(state, cls);
      state = next;
      const first = valueStart[state] as number;
      const last = valueStart[state + 1] as number;
      for (let v = first; v < last; v++) out.add(values[v] as number);
    }
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
