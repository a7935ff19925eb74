/**
 * The correlation engine: hands each relevant event to the rules it may concern, keeps every
 * rule's open groups, and closes them on a completing event, a superseding one, the end of their
 * window in event time, the caps (groups and bytes), or the end of input. Every group it opens
 * becomes exactly one incident (or is counted as discarded by its rule): nothing is dropped.
 *
 * The engine owns the incident: its id is fixed when the group opens; its fingerprint is hashed
 * from the parts the rule names; counts, rate, distinct values, evidence (one policy for every
 * rule), lifecycle records (throttled), recurrence and causes are the same for every rule. A
 * storm of one failure on one subject is one group, so output grows with distinct problems,
 * not with lines.
 *
 * Windows run on event time, one clock per input kind (request.log is read after nexus.log, on
 * its own clock): `advance(kind, time)` closes what that time leaves behind. Groups are kept per
 * rule and kind in lanes ordered by last touch, so closing the expired ones and evicting the
 * oldest cost O(1) each, however many groups are open.
 */
import { INPUT_KINDS, type AnyEvent, type Evidence, type InputKind } from '../events/log-event';
import { RuleError, type AnyRule, type CloseReason, type Finding, type GroupView, type ParkedGroup } from '../rules/rule';
import { Causality } from './causality';
import { detachStrings, hasLongLine, Lane, OpenGroup, type EnvelopeLimits, type IdSeed } from './group';
import { INCIDENT_SCHEMA_VERSION, type Incident, type Lifecycle } from './incident';
import { RecurrenceCounter } from './recurrence';
import { stableHash } from './stable-hash';

export interface EngineOptions extends Partial<EnvelopeLimits> {
  /** Open groups across all rules; past it the least recently touched is emitted as `evicted`. */
  maxOpenGroups: number;
  /** Estimated bytes of open groups (evidence, distinct values); past it the least recently touched are evicted. */
  maxOpenBytes?: number;
  /** Also emit `opened` and `updated` records, not only `closed` ones. */
  lifecycle?: boolean;
  /** Event time between two `updated` records of one incident, at least. Default 10 s. */
  updateIntervalMs?: number;
  /** Address of a rule's page from its docs path (e.g. `docker-manifest-missing-layers.md`). */
  docsUrl?: (page: string) => string;
}

export interface EngineCounters {
  incidents: number;
  incidentsByRule: Record<string, number>;
  evicted: number;
  /** Events whose time was before the clock of their kind (out of order); still correlated. */
  lateEvents: number;
  /** Events identical to a recent one (a shipper that retried): counted, not correlated again. */
  duplicateEvents: number;
  /** Groups that closed without being incidents by their rule (e.g. an absence whose event came). */
  discarded: number;
  /** Lifecycle records emitted while open (`opened`, `updated`). */
  lifecycleRecords: number;
}

/** A group as plain JSON, for checkpoints. */
export interface GroupState {
  rule: string;
  key: string;
  kind: InputKind;
  id: string;
  state: unknown;
  firstTime: number;
  lastTime: number;
  count: number;
  revision: number;
  node: string | null;
  thread: string | null;
  user: string | null;
  evidence: Evidence[];
  tail: Evidence | null;
  pastKept: number;
  distinct: Array<[string, string[], number[], boolean]>;
  nextUpdateAt: number;
  lastUpdateTime: number | null;
  /** An aggregate of runs, and how many. */
  aggregate: boolean;
  runs: number;
  /** Only lines with no time joined it. */
  timeless: boolean;
}

/** The engine's open state as plain JSON (rule states must be plain JSON too). */
export interface EngineState {
  /** Groups per lane, least recently touched first. */
  groups: GroupState[];
  counters: EngineCounters;
  recurrence: Array<[string, number]>;
  causality: ReturnType<Causality['state']>;
}

interface Parked {
  group: OpenGroup;
  reason: CloseReason;
  closedAt: number | null;
  lastTimeBefore: number | null;
  revision: number;
}

const DEFAULT_LIMITS: EnvelopeLimits = { maxEvidence: 32, maxEvidenceChars: 2048, distinctLimit: 20, distinctTracked: 10_000 };
export const DEFAULT_MAX_OPEN_BYTES = 32 * 1024 * 1024;
/** Groups parked for enrichment at most; past it they are reported as they are. */
const MAX_PARKED = 10_000;

export class CorrelationEngine {
  readonly counters: EngineCounters = { incidents: 0, incidentsByRule: {}, evicted: 0, lateEvents: 0, duplicateEvents: 0, discarded: 0, lifecycleRecords: 0 };
  readonly rules: readonly AnyRule[];
  private readonly options: Required<Omit<EngineOptions, keyof EnvelopeLimits>>;
  private readonly limits: EnvelopeLimits[];
  private readonly emit: (incident: Incident) => void;
  private readonly groups: Array<Map<string, OpenGroup>>;
  /** Lanes by rule index and kind. */
  private readonly lanes = new Map<string, Lane>();
  private readonly laneSlots: Array<Lane | undefined> = [];
  private readonly lanesByKind = new Map<InputKind, Lane[]>();
  /** Per kind: the earliest time at which an open group of that kind may expire (stale-low is fine). */
  private readonly nextDeadline = new Map<InputKind, number>();
  private readonly clocks = new Map<InputKind, number>();
  /**
   * The latest event time of each kind before the event being processed (what `lastTimeBefore`
   * reports: for a restart, when the run's last line was written). Not the clock, which the time
   * policy keeps ahead of the events it holds back for ordering.
   */
  private readonly previousClock = new Map<InputKind, number>();
  /** The latest time of an event processed, per kind. */
  private readonly lastEventTime = new Map<InputKind, number>();
  private readonly recurrence = new RecurrenceCounter();
  private readonly causality: Causality;
  private openCount = 0;
  private openBytes = 0;
  private readonly parking = new Set<number>();
  private parked: Parked[] = [];

  constructor(rules: readonly AnyRule[], options: EngineOptions, emit: (incident: Incident) => void) {
    this.rules = rules;
    this.options = {
      maxOpenGroups: Math.max(1, options.maxOpenGroups),
      maxOpenBytes: Math.max(1024 * 1024, options.maxOpenBytes ?? DEFAULT_MAX_OPEN_BYTES),
      lifecycle: options.lifecycle === true,
      updateIntervalMs: options.updateIntervalMs ?? 10_000,
      docsUrl: options.docsUrl ?? ((page) => `docs/rules/${page}`),
    };
    const base: EnvelopeLimits = {
      maxEvidence: Math.max(2, options.maxEvidence ?? DEFAULT_LIMITS.maxEvidence),
      maxEvidenceChars: Math.max(80, options.maxEvidenceChars ?? DEFAULT_LIMITS.maxEvidenceChars),
      distinctLimit: options.distinctLimit ?? DEFAULT_LIMITS.distinctLimit,
      distinctTracked: Math.max(1, options.distinctTracked ?? DEFAULT_LIMITS.distinctTracked),
    };
    this.limits = rules.map((rule) => ({ ...base, distinctLimit: rule.distinctLimit ?? base.distinctLimit }));
    this.emit = emit;
    this.groups = rules.map(() => new Map());
    this.causality = new Causality(rules);
  }

  get openGroups(): number {
    return this.openCount;
  }

  /** Estimated bytes held by open groups. */
  get openGroupBytes(): number {
    return this.openBytes;
  }

  /** The clock of a kind: the latest time it was advanced to; -Infinity before any. */
  clock(kind: InputKind): number {
    return this.clocks.get(kind) ?? Number.NEGATIVE_INFINITY;
  }

  /** Closed groups of these rules wait for `releaseParked` (their enrichment input is coming). */
  park(ruleIds: readonly string[]): void {
    this.rules.forEach((rule, index) => {
      if (ruleIds.includes(rule.id)) this.parking.add(index);
    });
  }

  /** One event, for the rules (by index) whose reads it satisfied. Call `advance` first: events come in time order per kind. */
  process(event: AnyEvent, ruleIndexes: readonly number[]): void {
    // The clock is moved by the caller (the time policy), never by an event alone: one stray
    // far-future line must not close every other group.
    const clock = this.clock(event.kind);
    const lastEvent = this.lastEventTime.get(event.kind);
    this.previousClock.set(event.kind, lastEvent ?? clock);
    if (lastEvent === undefined || event.time > lastEvent) this.lastEventTime.set(event.kind, event.time);
    if (event.time < clock) this.counters.lateEvents++;
    for (const index of ruleIndexes) {
      const rule = this.rules[index] as AnyRule;
      let signal: unknown;
      try {
        signal = rule.match(event);
      } catch (error) {
        throw new RuleError(rule.id, 'match', error);
      }
      if (signal !== undefined) this.fold(index, rule, signal, event);
    }
  }

  /** Moves a kind's clock forward and closes the groups of that kind whose window has passed. */
  advance(kind: InputKind, time: number): void {
    if (!(time > this.clock(kind))) return;
    this.clocks.set(kind, time);
    if (time <= (this.nextDeadline.get(kind) ?? Number.POSITIVE_INFINITY)) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const lane of this.lanesByKind.get(kind) ?? []) {
      // Least recently touched first; groups are touched in (almost) time order, so stop at the first still open.
      let group = lane.head;
      while (group !== null) {
        const deadline = group.lastTime + this.windowOf(group);
        if (deadline >= time) {
          if (deadline < earliest) earliest = deadline;
          break;
        }
        const next = group.next;
        this.close(group, 'window', { closedAt: time });
        group = next;
      }
    }
    this.nextDeadline.set(kind, earliest);
  }

  /** Closes every open group, oldest first, e.g. at end of input or shutdown. */
  closeAll(reason: CloseReason): void {
    this.closeLanes(() => [...this.lanes.values()], reason);
  }

  /** Closes the open groups of some input kinds, oldest first (their inputs were all read). */
  closeKinds(kinds: readonly InputKind[], reason: CloseReason): void {
    this.closeLanes(() => kinds.flatMap((kind) => this.lanesByKind.get(kind) ?? []), reason);
  }

  /**
   * Closes the groups of these lanes, oldest first; runs before the aggregates they fold into.
   * The lanes are listed again for the aggregates: closing a run can open the first aggregate
   * of its rule, in a lane that did not exist before.
   */
  private closeLanes(lanesOf: () => readonly Lane[], reason: CloseReason): void {
    for (const aggregates of [false, true]) {
      const all: OpenGroup[] = [];
      for (const lane of lanesOf()) for (const group of lane) if (group.aggregate === aggregates) all.push(group);
      all.sort((a, b) => a.lastTime - b.lastTime || a.firstTime - b.firstTime);
      for (const group of all) this.close(group, reason, { closedAt: null });
    }
  }

  /** Parked groups, by rule, for their enrichment (see `Rule.enrich`). */
  parkedGroups(ruleId: string): Array<ParkedGroup<unknown>> {
    return this.parked
      .filter((p) => (this.rules[p.group.rule] as AnyRule).id === ruleId)
      .map((p) => ({
        state: p.group.state,
        group: this.view(p.group, p.reason, p.closedAt, p.lastTimeBefore),
        addEvidence: (evidence: Evidence, where: 'before' | 'after') => {
          const cut = evidence.text.length > (this.limits[p.group.rule] as EnvelopeLimits).maxEvidenceChars;
          const line = cut ? { ...evidence, text: evidence.text.slice(0, (this.limits[p.group.rule] as EnvelopeLimits).maxEvidenceChars), length: evidence.text.length } : evidence;
          (where === 'before' ? p.group.before : p.group.after).push(line);
        },
      }));
  }

  /** Describes and emits the parked groups of these rules (all when not given), enriched or not, in the order they closed. */
  releaseParked(ruleIds?: readonly string[]): void {
    const release = (p: Parked): boolean => ruleIds === undefined || ruleIds.includes((this.rules[p.group.rule] as AnyRule).id);
    const parked = this.parked.filter(release);
    this.parked = this.parked.filter((p) => !release(p));
    this.rules.forEach((rule, index) => {
      if (ruleIds === undefined || ruleIds.includes(rule.id)) this.parking.delete(index);
    });
    for (const p of parked) this.finish(p.group, p.reason, p.closedAt, p.lastTimeBefore, p.revision);
  }

  state(): EngineState {
    const groups: GroupState[] = [];
    for (const lane of this.lanes.values()) {
      for (const g of lane) {
        groups.push({
          rule: (this.rules[g.rule] as AnyRule).id,
          key: g.key,
          kind: g.kind,
          id: g.id,
          state: structuredClone(g.state),
          firstTime: g.firstTime,
          lastTime: g.lastTime,
          count: g.count,
          revision: g.revision,
          node: g.node,
          thread: g.thread,
          user: g.user,
          evidence: g.evidence.map((e) => ({ ...e })),
          tail: g.tail === null ? null : { ...g.tail },
          pastKept: g.pastKept,
          distinct: [...g.distinct].map(([name, d]) => [name, d.values.slice(), [...d.seen], d.capped]),
          nextUpdateAt: g.nextUpdateAt,
          lastUpdateTime: Number.isFinite(g.lastUpdateTime) ? g.lastUpdateTime : null,
          aggregate: g.aggregate,
          runs: g.runs,
          timeless: g.timeless,
        });
      }
    }
    return { groups, counters: structuredClone(this.counters), recurrence: this.recurrence.state(), causality: this.causality.state() };
  }

  /** Clocks, as plain JSON (null for a kind never advanced). */
  clockState(): Partial<Record<InputKind, number>> {
    return Object.fromEntries(this.clocks);
  }

  restoreState(state: EngineState, clocks: Partial<Record<InputKind, number>>): void {
    const byId = new Map(this.rules.map((rule, index) => [rule.id, index]));
    for (const saved of state.groups) {
      const index = byId.get(saved.rule);
      if (index === undefined) throw new Error(`checkpoint has a group of rule '${saved.rule}', which this analyzer does not run`);
      const origin = { kind: saved.kind, time: saved.firstTime, node: saved.node, thread: saved.thread, user: saved.user } as unknown as AnyEvent;
      const group = new OpenGroup(index, saved.key, saved.kind, saved.id, structuredClone(saved.state), origin);
      group.firstTime = saved.firstTime;
      group.lastTime = saved.lastTime;
      group.count = saved.count;
      group.revision = saved.revision;
      group.evidence = saved.evidence.map((e) => ({ ...e }));
      group.tail = saved.tail === null ? null : { ...saved.tail };
      group.pastKept = saved.pastKept;
      for (const [name, values, seen, capped] of saved.distinct) group.distinct.set(name, { values: values.slice(), seen: new Set(seen), capped });
      group.nextUpdateAt = saved.nextUpdateAt;
      group.lastUpdateTime = saved.lastUpdateTime ?? Number.NEGATIVE_INFINITY;
      group.aggregate = saved.aggregate;
      group.runs = saved.runs;
      group.timeless = saved.timeless;
      group.bytes += JSON.stringify(saved.evidence).length * 2 + saved.distinct.reduce((sum, [, values, seen]) => sum + values.join('').length * 2 + seen.length * 16, 0);
      this.insert(group);
    }
    for (const [kind, time] of Object.entries(clocks)) if (typeof time === 'number') this.clocks.set(kind as InputKind, time);
    Object.assign(this.counters, structuredClone(state.counters));
    this.recurrence.restoreState(state.recurrence);
    this.causality.restoreState(state.causality);
  }

  private windowOf(group: OpenGroup): number {
    const rule = this.rules[group.rule] as AnyRule;
    return group.aggregate ? (rule.aggregate?.windowMs ?? rule.windowMs) : rule.windowMs;
  }

  private laneOf(rule: number, kind: InputKind, aggregate = false): Lane {
    // Looked up on every signal: a number, not a string built each time.
    const slot = (rule * INPUT_KINDS.length + INPUT_KINDS.indexOf(kind)) * 2 + (aggregate ? 1 : 0);
    let lane = this.laneSlots[slot];
    if (lane === undefined) {
      lane = new Lane();
      this.laneSlots[slot] = lane;
      this.lanes.set(`${rule}:${kind}${aggregate ? ':runs' : ''}`, lane);
      const ofKind = this.lanesByKind.get(kind) ?? [];
      ofKind.push(lane);
      this.lanesByKind.set(kind, ofKind);
    }
    return lane;
  }

  private insert(group: OpenGroup): void {
    (this.groups[group.rule] as Map<string, OpenGroup>).set(group.key, group);
    this.laneOf(group.rule, group.kind, group.aggregate).append(group);
    this.openCount++;
    this.openBytes += group.bytes;
    const deadline = group.lastTime + this.windowOf(group);
    if (deadline < (this.nextDeadline.get(group.kind) ?? Number.POSITIVE_INFINITY)) this.nextDeadline.set(group.kind, deadline);
  }

  private fold(index: number, rule: AnyRule, signal: unknown, event: AnyEvent): void {
    let key: string;
    try {
      key = rule.key(signal, event);
    } catch (error) {
      throw new RuleError(rule.id, 'key', error);
    }
    const open = this.groups[index] as Map<string, OpenGroup>;
    let group = open.get(key);
    if (group !== undefined && (group.timeless || event.timeUnknown === true)) {
      // No time to window by: a line with no time joins the group of its key, whatever it is.
      this.laneOf(index, group.kind, group.aggregate).touch(group);
    } else if (group !== undefined) {
      if (event.time + rule.windowMs < group.firstTime) {
        // Far older than the open group (a stray line): its own group, so it cannot split this one.
        this.foldIsolated(index, rule, signal, event, key);
        return;
      }
      if (event.time - group.lastTime > rule.windowMs) {
        this.close(group, 'window', { closedAt: event.time });
        group = undefined;
      } else if (rule.continues !== undefined && !this.call(rule, 'continues', () => rule.continues?.(group?.state as never, signal, event))) {
        this.close(group, 'superseded', { closedAt: event.time });
        group = undefined;
      } else {
        this.laneOf(index, group.kind, group.aggregate).touch(group);
      }
    }
    if (group === undefined) {
      if (rule.opens !== undefined && !this.call(rule, 'opens', () => rule.opens?.(signal) !== false)) return;
      group = this.openGroup(index, rule, signal, event, key);
    }
    this.addTo(group, rule, signal, event);
  }

  private foldIsolated(index: number, rule: AnyRule, signal: unknown, event: AnyEvent, key: string): void {
    if (rule.opens !== undefined && !this.call(rule, 'opens', () => rule.opens?.(signal) !== false)) return;
    const state = this.call(rule, 'open', () => rule.open(signal, event));
    const group = new OpenGroup(index, key, event.kind, this.idOf(rule, key, event), state, event);
    group.record(event, rule.distinct?.(signal), this.limits[index] as EnvelopeLimits);
    const complete = this.call(rule, 'add', () => rule.add(group.state, signal, event)) === true;
    this.finish(group, complete ? 'matched' : 'window', event.time, this.previousClock.get(event.kind) ?? null, group.revision + (complete ? 0 : 1));
  }

  /** The id's parts: hashed only if the group is ever reported (hashing is a tenth of a task storm's cost). */
  private idOf(rule: AnyRule, _key: string, event: AnyEvent): IdSeed {
    return { rule: rule.id, time: event.time, line: event.line };
  }

  private openGroup(index: number, rule: AnyRule, signal: unknown, event: AnyEvent, key: string): OpenGroup {
    const state = this.call(rule, 'open', () => rule.open(signal, event));
    const group = new OpenGroup(index, key, event.kind, this.idOf(rule, key, event), state, event);
    this.insert(group);
    if (this.openCount > this.options.maxOpenGroups) this.evictOldest(group);
    return group;
  }

  private addTo(group: OpenGroup, rule: AnyRule, signal: unknown, event: AnyEvent): void {
    const values = rule.distinct === undefined ? undefined : this.call(rule, 'distinct', () => rule.distinct?.(signal));
    const added = group.record(event, values, this.limits[group.rule] as EnvelopeLimits);
    this.openBytes += added;
    const complete = this.call(rule, 'add', () => rule.add(group.state, signal, event)) === true;
    // A rule's captures from a long line are slices of it: copied, or the state keeps the line.
    if (!complete && hasLongLine(event)) detachStrings(group.state);
    // What the rule keeps counts against maxOpenBytes too: measured at the first adds and then
    // at count doublings (a walk of the state is cheap that rarely), so a rule that keeps long
    // strings from hostile lines cannot grow memory past the budget.
    if (!complete && (group.count & (group.count - 1)) === 0) this.openBytes += group.measureState();
    if (complete) {
      this.close(group, 'matched', { closedAt: event.time, bySignal: true });
    } else if (this.options.lifecycle) {
      this.lifecycleRecord(group, event.time);
    }
    if (this.openBytes > this.options.maxOpenBytes) this.evictForBytes(complete ? null : group);
  }

  /** `opened` for the first signal, then `updated` at count doublings, at most once per interval. */
  private lifecycleRecord(group: OpenGroup, time: number): void {
    let lifecycle: Lifecycle;
    if (group.count === 1) lifecycle = 'opened';
    else if (group.count >= group.nextUpdateAt && time - group.lastUpdateTime >= this.options.updateIntervalMs) lifecycle = 'updated';
    else return;
    if (lifecycle === 'updated') {
      while (group.nextUpdateAt <= group.count) group.nextUpdateAt *= 2;
    }
    group.lastUpdateTime = time;
    const incident = this.describe(group, null, null, null, lifecycle, group.revision);
    if (incident === null) return;
    this.counters.lifecycleRecords++;
    this.emit(incident);
  }

  private evictOldest(keep: OpenGroup | null): void {
    let oldest: OpenGroup | null = null;
    for (const lane of this.lanes.values()) {
      const candidate = lane.head === keep ? (keep?.next ?? null) : lane.head;
      if (candidate !== null && (oldest === null || candidate.lastTime < oldest.lastTime)) oldest = candidate;
    }
    if (oldest === null) return;
    this.counters.evicted++;
    this.close(oldest, 'evicted', { closedAt: null });
  }

  private evictForBytes(keep: OpenGroup | null): void {
    while (this.openBytes > this.options.maxOpenBytes && this.openCount > (keep === null ? 0 : 1)) this.evictOldest(keep);
  }

  private close(group: OpenGroup, reason: CloseReason, how: { closedAt: number | null; bySignal?: boolean }): void {
    const open = this.groups[group.rule] as Map<string, OpenGroup>;
    if (open.get(group.key) !== group) return;
    open.delete(group.key);
    this.laneOf(group.rule, group.kind, group.aggregate).remove(group);
    this.openCount--;
    this.openBytes -= group.bytes;
    const lastTimeBefore = this.previousClock.get(group.kind) ?? null;
    const revision = group.revision + (how.bySignal === true ? 0 : 1);
    if (this.parking.has(group.rule) && this.parked.length < MAX_PARKED) {
      this.parked.push({ group, reason, closedAt: how.closedAt, lastTimeBefore: Number.isFinite(lastTimeBefore) ? lastTimeBefore : null, revision });
      return;
    }
    this.finish(group, reason, how.closedAt, Number.isFinite(lastTimeBefore) ? lastTimeBefore : null, revision);
  }

  private finish(group: OpenGroup, reason: CloseReason, closedAt: number | null, lastTimeBefore: number | null, revision: number): void {
    const rule = this.rules[group.rule] as AnyRule;
    if (rule.aggregate !== undefined && !group.aggregate) {
      this.foldRun(group, rule, reason, closedAt, lastTimeBefore);
      return;
    }
    const incident = this.describe(group, reason, closedAt, lastTimeBefore, 'closed', revision);
    if (incident === null) {
      this.counters.discarded++;
      this.causality.forget(group.id);
      return;
    }
    incident.occurrences = this.recurrence.record(incident.fingerprint);
    this.counters.incidents++;
    this.counters.incidentsByRule[rule.id] = (this.counters.incidentsByRule[rule.id] ?? 0) + 1;
    this.causality.closed(group.rule, incident, group.firstTime, group.lastTime);
    this.emit(incident);
  }

  /** A finished run of an aggregating rule joins the aggregate of its fingerprint (or starts one). */
  private foldRun(run: OpenGroup, rule: AnyRule, reason: CloseReason, closedAt: number | null, lastTimeBefore: number | null): void {
    const finding = this.call(rule, 'describe', () => rule.describe(run.state as never, this.view(run, reason, closedAt, lastTimeBefore)));
    if (finding === null) {
      this.counters.discarded++;
      return;
    }
    const key = `\u0001${stableHash(finding.fingerprint)}`;
    const open = this.groups[run.rule] as Map<string, OpenGroup>;
    const limits = this.limits[run.rule] as EnvelopeLimits;
    let aggregate = open.get(key);
    if (aggregate !== undefined && run.firstTime - aggregate.lastTime > (rule.aggregate?.windowMs ?? 0)) {
      this.close(aggregate, 'window', { closedAt: run.firstTime });
      aggregate = undefined;
    }
    if (aggregate === undefined) {
      this.insert(OpenGroup.aggregateOf(run, key));
      if (this.openCount > this.options.maxOpenGroups) this.evictOldest(null);
      return;
    }
    this.openBytes += aggregate.foldRun(run, limits);
    this.laneOf(run.rule, aggregate.kind, true).touch(aggregate);
    if (this.openBytes > this.options.maxOpenBytes) this.evictForBytes(null);
  }

  private view(group: OpenGroup, reason: CloseReason | null, closedAt: number | null, lastTimeBefore: number | null): GroupView {
    return {
      reason,
      firstTime: group.firstTime,
      lastTime: group.lastTime,
      timeless: group.timeless,
      count: group.count,
      distinct: group.distinctView(),
      closedAt,
      lastTimeBefore,
      windowMs: (this.rules[group.rule] as AnyRule).windowMs,
      evidence: { before: group.before.length, own: group.evidence.length + (group.tail === null ? 0 : 1), after: group.after.length },
      runs: group.runs,
    };
  }

  private describe(group: OpenGroup, reason: CloseReason | null, closedAt: number | null, lastTimeBefore: number | null, lifecycle: Lifecycle, revision: number): Incident | null {
    const rule = this.rules[group.rule] as AnyRule;
    const view = this.view(group, reason, closedAt, lastTimeBefore);
    const finding: Finding | null = this.call(rule, 'describe', () => rule.describe(group.state as never, view));
    if (finding === null) return null;
    const evidence = group.evidenceList();
    const minutes = group.timeless ? 0 : (group.lastTime - group.firstTime) / 60_000;
    const d = finding.diagnosis;
    const incident: Incident = {
      schemaVersion: INCIDENT_SCHEMA_VERSION,
      id: group.id,
      fingerprint: stableHash([rule.id, ...finding.fingerprint]),
      rule: rule.id,
      title: rule.title,
      category: rule.category,
      severity: finding.severity ?? rule.severity,
      summary: finding.summary,
      subject: finding.subject,
      lifecycle,
      revision,
      occurrences: lifecycle === 'closed' ? 1 : this.recurrence.peek(stableHash([rule.id, ...finding.fingerprint])),
      count: group.count,
      ratePerMinute: minutes < 1 ? group.count : Math.round((group.count / minutes) * 10) / 10,
      distinct: view.distinct as Incident['distinct'],
      facts: { ...(finding.facts ?? {}) },
      firstSeen: group.timeless ? null : new Date(group.firstTime).toISOString(),
      lastSeen: group.timeless ? null : new Date(group.lastTime).toISOString(),
      closeReason: reason,
      node: group.node,
      thread: group.thread,
      user: finding.user !== undefined ? finding.user : group.user,
      ...(finding.fields ?? {}),
      evidence,
      evidenceOmitted: group.evidenceOmitted,
      diagnosis: {
        cause: d.cause,
        explanation: d.explanation,
        confidence: d.confidence,
        evidence: d.evidence === undefined ? evidence.map((_line, i) => i) : d.evidence.filter((i) => i >= 0 && i < evidence.length),
        remediation: [...d.remediation],
        references: [...(d.references ?? [])],
      },
      causes: this.causality.causesOf(group, finding.subject?.name ?? null, (ruleIndex) => (this.groups[ruleIndex] as Map<string, OpenGroup>).values()),
      consequences: lifecycle === 'closed' ? this.causality.consequencesOf(group.id) : this.causality.peekConsequences(group.id),
      docs: this.options.docsUrl(rule.docs ?? `${rule.id}.md`),
    };
    return incident;
  }

  private call<T>(rule: AnyRule, where: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof RuleError) throw error;
      throw new RuleError(rule.id, where, error);
    }
  }
}
