/**
 * An open group and what the engine keeps of it for every rule alike: counts, times, distinct
 * values, evidence (one policy: the first lines, the last line always, an omitted count), its
 * size in memory, and its place in its lane (least recently touched first).
 */
import type { AnyEvent, Evidence, InputKind } from '../events/log-event';
import type { DistinctValues } from '../rules/rule';
import { hash32, stableHash } from './stable-hash';

export interface EnvelopeLimits {
  /** Evidence lines kept per incident, the last line included. */
  maxEvidence: number;
  /** Characters kept of an evidence line (longer lines are cut and flagged with their length). */
  maxEvidenceChars: number;
  /** Distinct values listed per name. */
  distinctLimit: number;
  /** Distinct values remembered per name to count them exactly; past it the total is a lower bound. */
  distinctTracked: number;
}

interface Distinct {
  values: string[];
  seen: Set<number>;
  capped: boolean;
}

/** Rough bytes per remembered hash and per kept string character (V8 two-byte worst case). */
const HASH_BYTES = 16;
const CHAR_BYTES = 2;
const GROUP_BYTES = 600;

/** What an incident id is made of: its rule, its key (the group's), and the first line's time and place. */
export interface IdSeed {
  rule: string;
  time: number;
  line: number;
}

export class OpenGroup {
  readonly rule: number;
  readonly key: string;
  readonly kind: InputKind;
  /** The id, hashed on first use: most runs of a storm are folded or discarded without one. */
  private idValue: string | null;
  private readonly idSeed: IdSeed | null;
  state: unknown;
  firstTime: number;
  lastTime: number;
  count = 0;
  revision = 0;
  readonly node: string | null;
  readonly thread: string | null;
  readonly user: string | null;
  evidence: Evidence[] = [];
  /** The latest line past the kept ones: always shown last. */
  tail: Evidence | null = null;
  /** Lines seen past the kept ones, the tail included. */
  pastKept = 0;
  before: Evidence[] = [];
  after: Evidence[] = [];
  readonly distinct = new Map<string, Distinct>();
  bytes = GROUP_BYTES;
  /** Lifecycle throttle: the count at which the next `updated` record is due, and the time of the last one. */
  nextUpdateAt = 2;
  lastUpdateTime = Number.NEGATIVE_INFINITY;
  /** Only lines with no time joined it so far: its times mean nothing. */
  timeless: boolean;
  /** An aggregate of runs (rules with `aggregate`), not a run. */
  aggregate = false;
  /** Runs folded in (an aggregate); 1 for a run. */
  runs = 1;
  /** Lane links. */
  prev: OpenGroup | null = null;
  next: OpenGroup | null = null;

  constructor(rule: number, key: string, kind: InputKind, id: string | IdSeed, state: unknown, event: AnyEvent) {
    this.rule = rule;
    this.key = detached(key);
    this.kind = kind;
    this.idValue = typeof id === 'string' ? id : null;
    this.idSeed = typeof id === 'string' ? null : id;
    this.state = state;
    this.firstTime = event.time;
    this.lastTime = event.time;
    this.timeless = event.timeUnknown === true;
    this.node = detachedOrNull('node' in event ? (event.node ?? null) : 'nodeId' in event ? event.nodeId : null);
    this.thread = detachedOrNull('thread' in event ? event.thread : null);
    this.user = detachedOrNull('user' in event ? event.user : 'userId' in event ? event.userId : null);
    this.bytes += key.length * CHAR_BYTES;
  }

  get id(): string {
    if (this.idValue === null) {
      const seed = this.idSeed as IdSeed;
      this.idValue = stableHash([seed.rule, this.key, seed.time, seed.line]);
    }
    return this.idValue;
  }

  /** Estimated bytes of the rule's state at its last measure (part of `bytes`). */
  stateBytes = 0;

  /** Measures the rule's state again; returns the change in `bytes`. */
  measureState(): number {
    const now = estimateBytes(this.state);
    const change = now - this.stateBytes;
    this.stateBytes = now;
    this.bytes += change;
    return change;
  }

  /** Folds one event's envelope part in; returns the bytes it added. */
  record(event: AnyEvent, values: Readonly<Record<string, string>> | undefined, limits: EnvelopeLimits): number {
    const before = this.bytes;
    this.count++;
    this.revision++;
    if (event.timeUnknown !== true) {
      if (this.timeless) {
        this.timeless = false;
        this.firstTime = event.time;
        this.lastTime = event.time;
      }
      if (event.time < this.firstTime) this.firstTime = event.time;
      if (event.time > this.lastTime) this.lastTime = event.time;
    }
    const line = evidenceOf(event, limits.maxEvidenceChars);
    if (this.evidence.length < limits.maxEvidence - 1) {
      this.evidence.push(line);
      this.bytes += line.text.length * CHAR_BYTES + 64;
    } else {
      if (this.tail === null) this.bytes += line.text.length * CHAR_BYTES + 64;
      else this.bytes += (line.text.length - this.tail.text.length) * CHAR_BYTES;
      this.tail = line;
      this.pastKept++;
    }
    if (values !== undefined) {
      for (const name of Object.keys(values)) {
        const value = values[name];
        if (value === undefined || value === '') continue;
        let distinct = this.distinct.get(name);
        if (distinct === undefined) {
          distinct = { values: [], seen: new Set(), capped: false };
          this.distinct.set(name, distinct);
        }
        const hash = hash32(value);
        if (distinct.seen.has(hash)) continue;
        if (distinct.seen.size >= limits.distinctTracked) {
          distinct.capped = true;
          continue;
        }
        distinct.seen.add(hash);
        this.bytes += HASH_BYTES;
        if (distinct.values.length < limits.distinctLimit) {
          distinct.values.push(detached(value));
          this.bytes += value.length * CHAR_BYTES + 32;
        }
      }
    }
    return this.bytes - before;
  }

  /** Folds a finished run into this aggregate: its state becomes the latest, its counts and lines join. */
  foldRun(run: OpenGroup, limits: EnvelopeLimits): number {
    const before = this.bytes;
    this.state = run.state;
    this.runs++;
    if (this.timeless && !run.timeless) {
      this.timeless = false;
      this.firstTime = run.firstTime;
      this.lastTime = run.lastTime;
    }
    this.count += run.count;
    this.revision += run.revision;
    if (run.firstTime < this.firstTime) this.firstTime = run.firstTime;
    if (run.lastTime > this.lastTime) this.lastTime = run.lastTime;
    const lines = run.evidenceList();
    for (const line of lines) {
      if (this.evidence.length < limits.maxEvidence - 1) {
        this.evidence.push(line);
        this.bytes += line.text.length * CHAR_BYTES + 64;
      } else {
        this.bytes += (line.text.length - (this.tail?.text.length ?? 0)) * CHAR_BYTES + (this.tail === null ? 64 : 0);
        this.tail = line;
        this.pastKept++;
      }
    }
    this.pastKept += run.evidenceOmitted;
    for (const [name, d] of run.distinct) {
      let mine = this.distinct.get(name);
      if (mine === undefined) {
        mine = { values: [], seen: new Set(), capped: false };
        this.distinct.set(name, mine);
      }
      if (d.capped) mine.capped = true;
      for (const hash of d.seen) {
        if (mine.seen.has(hash)) continue;
        if (mine.seen.size >= limits.distinctTracked) {
          mine.capped = true;
          break;
        }
        mine.seen.add(hash);
        this.bytes += HASH_BYTES;
      }
      for (const value of d.values) {
        if (mine.values.length >= limits.distinctLimit) break;
        if (!mine.values.includes(value)) {
          mine.values.push(value);
          this.bytes += value.length * CHAR_BYTES + 32;
        }
      }
    }
    return this.bytes - before;
  }

  /** A new aggregate from a group's first finished run: it takes the run's envelope. */
  static aggregateOf(run: OpenGroup, key: string): OpenGroup {
    const origin = { kind: run.kind, time: run.firstTime, node: run.node, thread: run.thread, user: run.user } as unknown as AnyEvent;
    const aggregate = new OpenGroup(run.rule, key, run.kind, run.id, run.state, origin);
    aggregate.aggregate = true;
    aggregate.timeless = run.timeless;
    aggregate.firstTime = run.firstTime;
    aggregate.lastTime = run.lastTime;
    aggregate.count = run.count;
    aggregate.revision = run.revision;
    aggregate.evidence = run.evidenceList().slice(0, Math.max(1, run.evidence.length + (run.tail === null ? 0 : 1) + run.before.length + run.after.length));
    aggregate.tail = null;
    aggregate.pastKept = run.evidenceOmitted;
    for (const [name, d] of run.distinct) aggregate.distinct.set(name, { values: d.values.slice(), seen: new Set(d.seen), capped: d.capped });
    aggregate.bytes = run.bytes;
    return aggregate;
  }

  distinctView(): Record<string, DistinctValues> {
    const out: Record<string, DistinctValues> = {};
    for (const [name, d] of this.distinct) out[name] = d.capped ? { values: d.values.slice(), total: d.seen.size, capped: true } : { values: d.values.slice(), total: d.seen.size };
    return out;
  }

  /** Evidence in order: enrichment lines before, the kept lines, the last line, enrichment lines after. */
  evidenceList(): Evidence[] {
    return [...this.before, ...this.evidence, ...(this.tail === null ? [] : [this.tail]), ...this.after];
  }

  /** Lines seen but not in the evidence. */
  get evidenceOmitted(): number {
    return this.tail === null ? this.pastKept : this.pastKept - 1;
  }
}

/**
 * Rough bytes of a rule's state: strings at two bytes a character, 16 per other value, walked
 * to a bounded depth and node count (a huge array is sampled: its first entries scaled up).
 */
export function estimateBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return 40 + value.length * CHAR_BYTES;
  if (value === null || typeof value !== 'object' || depth > 5) return 16;
  if (value instanceof Map || value instanceof Set) {
    let bytes = 64;
    let seen = 0;
    for (const entry of value instanceof Map ? value.entries() : value.values()) {
      if (++seen > 64) return bytes + ((bytes - 64) / 64) * (value.size - 64);
      bytes += estimateBytes(entry, depth + 1);
    }
    return bytes;
  }
  if (Array.isArray(value)) {
    let bytes = 32;
    const sampled = Math.min(value.length, 64);
    for (let i = 0; i < sampled; i++) bytes += estimateBytes(value[i], depth + 1);
    return sampled === 0 ? bytes : 32 + ((bytes - 32) / sampled) * value.length;
  }
  let bytes = 32;
  for (const key of Object.keys(value)) bytes += 16 + estimateBytes((value as Record<string, unknown>)[key], depth + 1);
  return bytes;
}

/** The evidence line of an event, cut at `maxChars` (its length kept). */
export function evidenceOf(event: AnyEvent, maxChars: number): Evidence {
  const { source, line, offset, text } = event;
  if (text.length <= maxChars) return { source, line, offset, text };
  const length = 'lineBytes' in event && event.lineBytes !== undefined ? event.lineBytes : text.length;
  return { source, line, offset, text: detached(text.slice(0, maxChars)), length };
}

/**
 * A copy of `text` that does not keep the line it was taken from alive. V8 makes a slice (a
 * regex capture, `slice`, `substring`) of a long string point into that string, so a 70-character
 * digest or the 2,048 characters of evidence cut from a 1 MiB line would keep the whole megabyte
 * for as long as the group is open: memory would follow the lines, not the options. Concatenating
 * makes V8 copy the characters into a string of their own.
 */
export function detached(text: string): string {
  return text.length === 0 ? text : (` ${text}`).slice(1);
}

function detachedOrNull(text: string | null): string | null {
  return text === null ? null : detached(text);
}

/** Characters of a line past which what a rule keeps from it is copied off it (`detachStrings`). */
export const LONG_LINE_CHARS = 4096;

/** True when the event has a line long enough that slices of it must not be kept. */
export function hasLongLine(event: AnyEvent): boolean {
  if (event.text.length > LONG_LINE_CHARS) return true;
  const continuation = 'continuation' in event ? event.continuation : undefined;
  return Array.isArray(continuation) && continuation.some((line) => line.length > LONG_LINE_CHARS);
}

/**
 * Replaces, in place, every string of a rule's state (plain JSON, walked to a bounded depth)
 * with a `detached` copy, so the state keeps no long line alive. Object identity is kept.
 */
export function detachStrings(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') value[i] = detached(item);
      else detachStrings(item, depth + 1);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === 'string') record[key] = detached(item);
    else detachStrings(item, depth + 1);
  }
}

/** Least recently touched first; O(1) touch, removal and oldest. */
export class Lane {
  head: OpenGroup | null = null;
  tail: OpenGroup | null = null;
  size = 0;

  append(group: OpenGroup): void {
    group.prev = this.tail;
    group.next = null;
    if (this.tail === null) this.head = group;
    else this.tail.next = group;
    this.tail = group;
    this.size++;
  }

  remove(group: OpenGroup): void {
    if (group.prev === null) this.head = group.next;
    else group.prev.next = group.next;
    if (group.next === null) this.tail = group.prev;
    else group.next.prev = group.prev;
    group.prev = null;
    group.next = null;
    this.size--;
  }

  touch(group: OpenGroup): void {
    if (this.tail === group) return;
    this.remove(group);
    this.append(group);
  }

  *[Symbol.iterator](): IterableIterator<OpenGroup> {
    for (let group = this.head; group !== null; group = group.next) yield group;
  }
}
