/**
 * The correlation engine: routes relevant events to rules, keeps each rule's open groups,
 * and closes them on a completing event, a new request on the same key, the end of their
 * window in event time, the open-group cap, or the end of input. Every group it opens
 * becomes exactly one incident: nothing is dropped silently.
 *
 * Windows run on log time: the watermark is the latest event time seen (including the
 * sampled ticks), so replaying an old file gives the same groups as reading it live.
 */
import type { LogEvent } from '../events/log-event';
import type { CloseReason, Incident } from '../incidents/incident';
import { RecurrenceCounter } from '../incidents/recurrence';
import type { AnyRule } from './rule';

export interface EngineOptions {
  /** Open groups across all rules; past it the group touched least recently is emitted as `evicted`. */
  maxOpenGroups: number;
  /** Also emit `opened` and `updated` incidents, not only `closed` ones. */
  lifecycle?: boolean;
}

export interface EngineCounters {
  incidents: number;
  incidentsByRule: Record<string, number>;
  evicted: number;
  /** Events whose time was before the watermark (out of order); they are still correlated (docs/reliability.md). */
  lateEvents: number;
  /** Events identical to a recent one (a shipper that retried): counted, not correlated again. */
  duplicateEvents: number;
  /** Groups that closed without being incidents by their rule (e.g. an absence whose event came). */
  discarded: number;
}

/** Levels rare enough in a log that searching each of their lines for literals costs little. */
const RARE_LEVELS = new Set(['WARN', 'WARNING', 'ERROR', 'FATAL', 'SEVERE']);

/** How many recent relevant events are remembered to spot exact repeats. */
const RECENT_EVENTS = 4096;

interface OpenGroup {
  readonly rule: AnyRule;
  readonly key: string;
  readonly state: unknown;
  firstTime: number;
  lastTime: number;
  /** Signals folded in so far (the incident's revision while open). */
  revision: number;
}

/** The engine's open state as plain JSON (rule group states must be plain JSON too). */
export interface EngineState {
  /** null before any event (JSON has no -Infinity). */
  watermark: number | null;
  groups: Array<{ rule: string; key: string; state: unknown; firstTime: number; lastTime: number; revision: number }>;
  recent: string[];
  counters: EngineCounters;
  recurrence: Array<[string, number]>;
}

export class CorrelationEngine {
  readonly counters: EngineCounters = { incidents: 0, incidentsByRule: {}, evicted: 0, lateEvents: 0, duplicateEvents: 0, discarded: 0 };
  private readonly rules: readonly AnyRule[];
  private readonly options: Required<EngineOptions>;
  private readonly recurrence = new RecurrenceCounter();
  private readonly emit: (incident: Incident) => void;
  /** Per rule, open groups by key in least-recently-touched order (Map keeps insertion order). */
  private readonly groups: Map<AnyRule, Map<string, OpenGroup>>;
  private openCount = 0;
  private watermark = -Infinity;
  /** Header texts of recent relevant events; the text holds time (ms), node, thread and message. */
  private readonly recent = new Set<string>();

  constructor(rules: readonly AnyRule[], options: EngineOptions, emit: (incident: Incident) => void) {
    for (const rule of rules) {
      if (rule.prefilter.length === 0) throw new Error(`rule ${rule.id}: prefilter must name at least one literal`);
    }
    this.rules = rules;
    this.options = { maxOpenGroups: Math.max(1, options.maxOpenGroups), lifecycle: options.lifecycle === true };
    this.emit = emit;
    this.groups = new Map(rules.map((rule) => [rule, new Map<string, OpenGroup>()]));
  }

  state(): EngineState {
    const groups: EngineState['groups'] = [];
    for (const open of this.groups.values()) {
      for (const group of open.values()) {
        const { rule, key, state, firstTime, lastTime, revision } = group;
        groups.push({ rule: rule.id, key, state: structuredClone(state), firstTime, lastTime, revision });
      }
    }
    return {
      watermark: Number.isFinite(this.watermark) ? this.watermark : null,
      groups,
      recent: [...this.recent],
      counters: structuredClone(this.counters),
      recurrence: this.recurrence.state(),
    };
  }

  restoreState(state: EngineState): void {
    const byId = new Map(this.rules.map((rule) => [rule.id, rule]));
    for (const open of this.groups.values()) open.clear();
    this.openCount = 0;
    for (const saved of state.groups) {
      const rule = byId.get(saved.rule);
      if (rule === undefined) throw new Error(`checkpoint has a group of rule '${saved.rule}', which this analyzer does not run`);
      const { key, firstTime, lastTime, revision } = saved;
      (this.groups.get(rule) as Map<string, OpenGroup>).set(key, { rule, key, state: structuredClone(saved.state), firstTime, lastTime, revision });
      this.openCount++;
    }
    this.watermark = state.watermark ?? Number.NEGATIVE_INFINITY;
    this.recent.clear();
    for (const text of state.recent) this.recent.add(text);
    Object.assign(this.counters, structuredClone(state.counters));
    this.recurrence.restoreState(state.recurrence);
  }

  /**
   * What the line splitter searches for: literals of rules without levels in every line; those
   * of rules with levels only in header lines of any of those levels (by their initials).
   */
  get prefilters(): { literals: string[]; gatedLiterals: Record<string, string[]>; continuationLiterals: string[] } {
    const literals = new Set<string>();
    const byLevel: Record<string, Set<string>> = {};
    for (const rule of this.rules) {
      // A gate costs a search of the line's literals in every line of its level: worth it for
      // rare levels only. Rules that read INFO, DEBUG or TRACE lines are searched per chunk.
      if (rule.levels === undefined || rule.levels.length === 0 || !rule.levels.every((level) => RARE_LEVELS.has(level.toUpperCase()))) {
        for (const literal of rule.prefilter) literals.add(literal);
        continue;
      }
      for (const level of rule.levels) {
        const initial = level.charAt(0).toUpperCase();
        byLevel[initial] ??= new Set();
        for (const literal of rule.prefilter) byLevel[initial].add(literal);
      }
    }
    const gatedLiterals: Record<string, string[]> = {};
    for (const [initial, set] of Object.entries(byLevel)) gatedLiterals[initial] = [...set];
    const continuationLiterals = [...new Set(this.rules.filter((rule) => rule.readsContinuation === true).flatMap((rule) => rule.prefilter))];
    return { literals: [...literals], gatedLiterals, continuationLiterals };
  }

  get openGroups(): number {
    return this.openCount;
  }

  /** The latest event time seen, or -Infinity before any. */
  get eventTime(): number {
    return this.watermark;
  }

  process(event: LogEvent): void {
    if (this.recent.has(event.text)) {
      this.counters.duplicateEvents++;
      return;
    }
    this.recent.add(event.text);
    if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.values().next().value as string);
    if (event.time < this.watermark) this.counters.lateEvents++;
    this.advance(event.time);
    for (const rule of this.rules) {
      if (!mentionsAny(event.text, rule.prefilter)) continue;
      const signal = rule.match(event);
      if (signal !== undefined) this.fold(rule, signal, event);
    }
  }

  /** Moves event time forward and closes the groups whose window has passed. */
  advance(epochMs: number): void {
    if (!(epochMs > this.watermark)) return;
    this.watermark = epochMs;
    for (const [rule, open] of this.groups) {
      // Oldest first; groups are touched in (almost) time order, so stop at the first still open.
      for (const group of open.values()) {
        if (group.lastTime + rule.windowMs >= epochMs) break;
        this.close(group, 'window');
      }
    }
  }

  /** Closes every open group, oldest first, e.g. at end of input or shutdown. */
  closeAll(reason: CloseReason): void {
    const all = [...this.groups.values()].flatMap((open) => [...open.values()]);
    all.sort((a, b) => a.lastTime - b.lastTime);
    for (const group of all) this.close(group, reason);
  }

  private fold(rule: AnyRule, signal: unknown, event: LogEvent): void {
    const open = this.groups.get(rule) as Map<string, OpenGroup>;
    const key = rule.keyOf(signal, event);
    let group = open.get(key);
    if (group !== undefined) {
      if (Math.abs(event.time - group.lastTime) > rule.windowMs) {
        this.close(group, 'window');
        group = undefined;
      } else if (!rule.continues(group.state, signal, event)) {
        this.close(group, 'superseded');
        group = undefined;
      } else {
        open.delete(key); // re-insert: most recently touched goes last
        open.set(key, group);
      }
    }
    if (group === undefined) {
      group = { rule, key, state: rule.open(signal, event), firstTime: event.time, lastTime: event.time, revision: 0 };
      open.set(key, group);
      this.openCount++;
      if (this.openCount > this.options.maxOpenGroups) this.evictOldest(group);
    }
    if (event.time < group.firstTime) group.firstTime = event.time;
    if (event.time > group.lastTime) group.lastTime = event.time;
    group.revision++;
    if (rule.add(group.state, signal, event)) {
      if (open.get(key) === group) this.close(group, 'matched', true);
    } else if (this.options.lifecycle) {
      const incident = this.snapshot(group, group.revision === 1 ? 'opened' : 'updated');
      if (incident !== null) this.emit(incident);
    }
  }

  /** An open group as an incident, for lifecycle events; null when it is not one (yet). */
  private snapshot(group: OpenGroup, lifecycle: 'opened' | 'updated'): Incident | null {
    const incident = group.rule.toIncident(group.state, null, { firstTime: group.firstTime, lastTime: group.lastTime });
    if (incident === null) return null;
    incident.lifecycle = lifecycle;
    incident.revision = group.revision;
    incident.occurrences = this.recurrence.peek(incident.fingerprint);
    return incident;
  }

  private evictOldest(keep: OpenGroup): void {
    let oldest: OpenGroup | undefined;
    for (const open of this.groups.values()) {
      for (const candidate of open.values()) {
        if (candidate === keep) continue;
        if (oldest === undefined || candidate.lastTime < oldest.lastTime) oldest = candidate;
        break; // only each rule's least recently touched group is a candidate
      }
    }
    if (oldest === undefined) return;
    this.counters.evicted++;
    this.close(oldest, 'evicted');
  }

  /** `bySignal`: the closing signal was just counted in the revision; other closes count one more. */
  private close(group: OpenGroup, reason: CloseReason, bySignal = false): void {
    const open = this.groups.get(group.rule) as Map<string, OpenGroup>;
    if (open.get(group.key) !== group) return;
    open.delete(group.key);
    this.openCount--;
    const incident = group.rule.toIncident(group.state, reason, { firstTime: group.firstTime, lastTime: group.lastTime });
    if (incident === null) {
      this.counters.discarded++;
      return;
    }
    incident.lifecycle = 'closed';
    incident.revision = group.revision + (bySignal ? 0 : 1);
    incident.occurrences = this.recurrence.record(incident.fingerprint);
    this.counters.incidents++;
    this.counters.incidentsByRule[group.rule.id] = (this.counters.incidentsByRule[group.rule.id] ?? 0) + 1;
    this.emit(incident);
  }
}

function mentionsAny(text: string, literals: readonly string[]): boolean {
  for (const literal of literals) if (text.includes(literal)) return true;
  return false;
}
