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

/** An Aho-Corasick automaton over byte classes. */
class Automaton {
  private readonly classOf = new Uint8Array(256);
  private readonly classBits: number;
  private readonly delta: Int32Array;
  /** Values reported in each state: valueStart[s]..valueStart[s+1] in `values`. */
  private readonly valueStart: Int32Array;
  private readonly values: Int32Array;

  constructor(patterns: ReadonlyArray<{ bytes: Buffer; values: readonly number[] }>) {
    let classes = 1; // class 0: every byte no pattern holds
    for (const { bytes } of patterns) for (const byte of bytes) if (this.classOf[byte] === 0) this.classOf[byte] = classes++;
    this.classBits = Math.max(1, Math.ceil(Math.log2(classes)));
    const width = 1 << this.classBits;

    // Trie with per-state outputs, then failure links breadth first into a full transition table.
    const children: Array<Map<number, number>> = [new Map()];
    const outputs: number[][] = [[]];
    for (const { bytes, values } of patterns) {
      let state = 0;
      for (const byte of bytes) {
        const cls = this.classOf[byte] as number;
        let next = (children[state] as Map<number, number>).get(cls);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          outputs.push([]);
          (children[state] as Map<number, number>).set(cls, next);
        }
        state = next;
      }
      (outputs[state] as number[]).push(...values);
    }
    const states = children.length;
    const delta = new Int32Array(states * width);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let cls = 0; cls < width; cls++) {
      const next = (children[0] as Map<number, number>).get(cls) ?? 0;
      delta[cls] = next;
      if (next !== 0) queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      (outputs[state] as number[]).push(...(outputs[fail[state] as number] as number[]));
      for (let cls = 0; cls < width; cls++) {
        const next = (children[state] as Map<number, number>).get(cls);
        if (next === undefined) {
          delta[state * width + cls] = delta[(fail[state] as number) * width + cls] as number;
        } else {
          fail[next] = delta[(fail[state] as number) * width + cls] as number;
          delta[state * width + cls] = next;
          queue.push(next);
        }
      }
    }
    this.delta = delta;
    this.valueStart = new Int32Array(states + 1);
    const flat: number[] = [];
    for (let state = 0; state < states; state++) {
      this.valueStart[state] = flat.length;
      flat.push(...new Set(outputs[state]));
    }
    this.valueStart[states] = flat.length;
    this.values = Int32Array.from(flat);
  }

  match(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    const { delta, classOf, valueStart, values } = this;
    const bits = this.classBits;
    let state = 0;
    for (let i = from; i < end; i++) {
      state = delta[(state << bits) | (classOf[buf[i] as number] as number)] as number;
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

export class LiteralSet {
  private readonly starts: Anchored[] = [];
  private readonly ends: Anchored[] = [];
  private readonly scans: Anchored[] = [];
  private readonly automaton: Automaton | null;
  /** True when the set holds no literal: `match` finds nothing. */
  readonly empty: boolean;

  constructor(entries: readonly LiteralEntry[]) {
    const group = (at: LiteralAnchor): Anchored[] => {
      const byText = new Map<string, number[]>();
      for (const entry of entries) {
        if (entry.at !== at || entry.text === '') continue;
        const values = byText.get(entry.text) ?? [];
        if (!values.includes(entry.value)) values.push(entry.value);
        byText.set(entry.text, values);
      }
      return [...byText].map(([text, values]) => ({ bytes: Buffer.from(text, 'utf8'), values }));
    };
    this.starts = group('start');
    this.ends = group('end');
    const anywhere = group('anywhere');
    // Two literals scan faster one by one than through the automaton; more do not.
    if (anywhere.length <= 2) {
      this.scans = anywhere;
      this.automaton = null;
    } else {
      this.automaton = new Automaton(anywhere);
    }
    this.empty = this.starts.length === 0 && this.ends.length === 0 && anywhere.length === 0;
  }

  /** Adds to `out` the values of every literal in buf[from, end) (anchors at `from` and `end`). */
  match(buf: Uint8Array, from: number, end: number, out: Candidates): void {
    for (const { bytes, values } of this.starts) {
      if (end - from >= bytes.length && startsWithAt(buf, from, bytes)) for (const value of values) out.add(value);
    }
    if (this.ends.length > 0) {
      let last = end;
      while (last > from && (buf[last - 1] === 0x20 || buf[last - 1] === 0x09)) last--;
      for (const { bytes, values } of this.ends) {
        if (last - from >= bytes.length && startsWithAt(buf, last - bytes.length, bytes)) for (const value of values) out.add(value);
      }
    }
    for (const { bytes, values } of this.scans) {
      if (indexWithin(buf, from, end, bytes) !== -1) for (const value of values) out.add(value);
    }
    this.automaton?.match(buf, from, end, out);
  }
}

function startsWithAt(buf: Uint8Array, at: number, bytes: Buffer): boolean {
  for (let k = 0; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}
