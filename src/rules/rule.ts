/**
 * The rule contract. A rule is one module that says everything about itself: what it reads
 * (inputs, levels, loggers, literals), how it correlates (key, window, what continues or ends a
 * group), what the incident is about (its subject) and what it means (summary, cause, fix).
 * The engine owns the rest: groups, windows, the incident's id and envelope, counts, rates,
 * distinct values, evidence, lifecycle, checkpoints. Built-in rules and user rules implement
 * the same interface. How to write one: docs/rules/writing-a-rule.md.
 *
 * A rule's state must be plain JSON (objects, arrays, strings, numbers, booleans, null) and
 * small: it goes into checkpoints. Counts, distinct values and evidence are the engine's.
 */
import type { AnyEvent, Evidence, InputKind } from '../events/log-event';

/** From the most to the least severe. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** True when `severity` is `threshold` or more severe. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

export type Confidence = 'high' | 'medium' | 'low';

/**
 * Why a group was closed:
 * - `matched`: the event that completes it arrived (e.g. the 400 response, a clean stop);
 * - `window`: no event joined it for its window, in event time;
 * - `superseded`: the same key started something else (a pooled thread, a restart);
 * - `evicted`: too many groups (or bytes) were open at once; the oldest is emitted, never dropped;
 * - `end-of-input`: the input ended with the group still open;
 * - `shutdown`: the process was asked to stop with the group still open;
 * - `aborted`: the stream it was read from was destroyed with the group still open.
 */
export type CloseReason = 'matched' | 'window' | 'superseded' | 'evicted' | 'end-of-input' | 'shutdown' | 'aborted';

export interface Reference {
  title: string;
  url: string | null;
}

/** What an incident is about, rendered by every output as `<type> <name>`. */
export type SubjectType =
  | 'repository'
  | 'blobstore'
  | 'remote'
  | 'task'
  | 'image'
  | 'server'
  | 'instance'
  | 'database'
  | 'user'
  | 'client'
  | 'directory'
  | 'ldap'
  | 'jvm'
  | 'search-index'
  | 'path';

export interface Subject {
  type: SubjectType;
  name: string;
}

/** Families of failures, for the triage view (top problems by class). */
export type Category = 'docker' | 'proxy' | 'blobstore' | 'task' | 'jvm' | 'database' | 'security' | 'server' | 'storage' | 'requests' | 'custom';

/** nexus.log levels, as the header spells them (`FATAL`/`SEVERE` read as ERROR, `WARNING` as WARN). */
export type Level = 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
export const LEVELS: readonly Level[] = ['ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];

/**
 * A literal the event must contain: anywhere (a string), or anchored at the start or end of
 * the message (nexus and task logs) or line (other inputs). Anchored literals cost one compare.
 */
export type Literal = string | { text: string; at: 'start' | 'end' };

/** What a rule reads from nexus.log (or task logs). Levels and loggers are binding. */
export interface NexusReads {
  input?: 'nexus' | 'task';
  /** Levels read. Lines of other levels never reach the rule. */
  levels: readonly Level[];
  /**
   * Loggers read: full names or their last segment (`QuartzTaskInfo`). Without it the rule reads
   * every logger; at INFO and DEBUG that costs a search of every line (docs/performance.md).
   */
  loggers?: readonly string[];
  /** At least one; the event reaches `match` only when its message holds one. */
  literals: readonly Literal[];
  /**
   * Also look for the literals in the event's stack-trace lines (exception lines, not frames),
   * and keep those lines for `match` (`event.continuation`).
   */
  continuation?: boolean;
}

/** What a rule reads from request.log or outbound-request.log: the status decides first, cheaply. */
export interface HttpLogReads {
  input: 'request' | 'outbound';
  /** Inclusive status ranges, e.g. `[[400, 499]]`. Default: every status. */
  statuses?: ReadonlyArray<readonly [number, number]>;
  /** Literals of the line; default none (every line of the statuses). */
  literals?: readonly Literal[];
}

/** What a rule reads from audit.log (one JSON object a line). */
export interface AuditReads {
  input: 'audit';
  literals: readonly Literal[];
}

export type ReadSpec = NexusReads | HttpLogReads | AuditReads;

/** The input kind a read spec is about. */
export function inputOf(spec: ReadSpec): InputKind {
  return spec.input ?? 'nexus';
}

/** Counted distinct values of one name: the first few, and how many there were. */
export interface DistinctValues {
  values: string[];
  /** Distinct values seen (exact up to the engine's cap, then a lower bound: see `capped`). */
  total: number;
  /** True when more values came than the engine could remember: `total` is a lower bound. */
  capped?: boolean;
}

/** What the engine knows of a group when the rule describes it. */
export interface GroupView {
  /** Why it closed; null while it is open (lifecycle records). */
  reason: CloseReason | null;
  /** Event time of its first and last signal (meaningless when `timeless`). */
  firstTime: number;
  lastTime: number;
  /** Its lines carry no time (loose text: a pasted trace, an e-mail): the incident's times are null. */
  timeless: boolean;
  /** Signals folded into it. */
  count: number;
  /** Distinct values the signals named (`Rule.distinct`), by name. */
  distinct: Readonly<Record<string, DistinctValues>>;
  /** Event time when it closed: the time of the event that superseded or completed it, or the clock when its window passed. */
  closedAt: number | null;
  /** The latest event time seen before the closing event (for a restart: the last line of the run). */
  lastTimeBefore: number | null;
  /** The window it was read with. */
  windowMs: number;
  /** Evidence lines: added before by an enrichment, the group's own, added after. Indexes run in that order. */
  evidence: { before: number; own: number; after: number };
  /**
   * Runs folded into this incident (rules with `aggregate`): 1 for a single run. With more,
   * `firstTime`, `lastTime`, `count` and `distinct` cover all of them and the state is the
   * latest run's.
   */
  runs: number;
}

/** A value shown as `label: value` by every output. */
export type Fact = string | number | boolean | null | readonly string[];

export interface FindingDiagnosis {
  /** Short stable id of the cause, kebab-case, e.g. `remote-tls-untrusted`. */
  cause: string;
  explanation: string;
  /** high: the log shows it; medium: the usual cause of this pattern; low: one possible cause. */
  confidence: Confidence;
  /** Steps to fix, most useful first: the first one is "what to do first". */
  remediation: readonly string[];
  references?: readonly Reference[];
  /** Indexes into the incident's evidence of the lines the cause rests on. Default: all. */
  evidence?: readonly number[];
}

/** What a rule says about a group: the engine wraps it into the incident envelope. */
export interface Finding {
  subject: Subject | null;
  /** Parts that identify the failure itself: repeats share them (the engine hashes them with the rule id). */
  fingerprint: ReadonlyArray<string | number | null>;
  /** One sentence for a person. */
  summary: string;
  diagnosis: FindingDiagnosis;
  /** Default: the rule's severity. */
  severity?: Severity;
  /** Key facts, rendered generically (`label: value`). */
  facts?: Readonly<Record<string, Fact>>;
  /** Extra top-level incident fields for programs (documented on the rule's page). */
  fields?: Readonly<Record<string, unknown>>;
  /** Who, when it is not the first event's: e.g. the user of the request that failed. */
  user?: string | null;
}

/**
 * Incidents of another rule that cause this rule's: one of `rule` that was open, or closed at
 * most `withinMs` before this incident began, is named in `causes` (and this one in its
 * `consequences`). With `sameSubject`, only when both name the same subject.
 */
export interface CauseLink {
  rule: string;
  withinMs: number;
  sameSubject?: boolean;
}

/** A group parked for enrichment: its state (mutable during `line`) and what the engine knows. */
export interface ParkedGroup<State> {
  state: State;
  group: GroupView;
  /** Adds a line the diagnosis rests on, before or after the group's own evidence. */
  addEvidence(evidence: Evidence, where: 'before' | 'after'): void;
}

/**
 * A secondary input that sharpens this rule's closed incidents (e.g. request.log for failed
 * pushes). When such an input is read (after the nexus logs), closed groups of the rule wait;
 * `begin` says what to look for, `line` sees every line holding a literal, then the groups are
 * described with what was added to their state.
 */
export interface Enrichment<State, Collector> {
  input: Exclude<InputKind, 'nexus' | 'task'>;
  /** Literals of the line; only lines holding one are parsed. */
  literals: readonly string[];
  /**
   * Optional byte-level check of a line holding a literal (at `hit`), before it is parsed:
   * e.g. the digest after `/blobs/` is one of those wanted. Keeps big request logs fast.
   */
  accept?(collector: Collector, line: Uint8Array, start: number, end: number, hit: number): boolean;
  begin(groups: ReadonlyArray<ParkedGroup<State>>): Collector | null;
  line(collector: Collector, event: AnyEvent): void;
  /** Writes what was found into each group (state and evidence). */
  finish(collector: Collector, groups: ReadonlyArray<ParkedGroup<State>>): void;
}

export interface Rule<Signal = unknown, State = unknown> {
  /** Stable id, kebab-case, e.g. `docker-manifest-missing-layers`. */
  readonly id: string;
  /** One line, for --list-rules and reports. */
  readonly title: string;
  readonly severity: Severity;
  readonly category: Category;
  /** Its page, relative to docs/rules/. Default `<id>.md`. */
  readonly docs?: string;
  /** What it reads; at least one. Binding: nothing else reaches `match`. */
  readonly reads: readonly ReadSpec[];
  /**
   * A group closes when no signal joined it for this long, in event time. `Infinity`: only a
   * completing or superseding signal, or the end of input, closes it (e.g. a server run).
   */
  readonly windowMs: number;
  /** Distinct values listed per name (the total is always counted). Default 20. */
  readonly distinctLimit?: number;
  readonly causedBy?: readonly CauseLink[];
  /**
   * Runs of the same failure fold into one incident: each group (one run: a task run, one
   * request) is described, and runs with the same fingerprint within `windowMs` of each other are
   * one incident with the run count (`GroupView.runs`). For rules whose groups are per request
   * or per run but whose failures repeat (a task failing every night).
   */
  readonly aggregate?: { windowMs: number };
  readonly enrich?: Enrichment<State, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  /** What the event means to this rule, or undefined when nothing. */
  match(event: AnyEvent): Signal | undefined;
  /** Correlation key: signals with the same key fold into one group while it is open. */
  key(signal: Signal, event: AnyEvent): string;
  /**
   * Whether a signal with no open group of its key opens one. Default: true. False for a signal
   * that only ends what another began (a task's `-> WAITING (OK)`): with nothing open it is
   * dropped at the cost of a map lookup, so frequent healthy lines open no group.
   */
  opens?(signal: Signal): boolean;
  /** A new state for a signal that opens a group. */
  open(signal: Signal, event: AnyEvent): State;
  /** Whether the signal belongs to the open group; false closes it (`superseded`) and opens a new one. Default: true. */
  continues?(state: Readonly<State>, signal: Signal, event: AnyEvent): boolean;
  /** Folds the signal into the state; true when the group is complete (`matched`). */
  add(state: State, signal: Signal, event: AnyEvent): boolean | void;
  /** Values to count as distinct, by name (e.g. `{ blob: id }`). */
  distinct?(signal: Signal): Readonly<Record<string, string>> | undefined;
  /** The finding for a group, closed or open; null: this group is not an incident (counted as discarded). */
  describe(state: Readonly<State>, group: GroupView): Finding | null;
}

/** A rule with its type parameters erased, as the engine holds it. */
export type AnyRule = Rule<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An error thrown by a rule's code: surfaces naming the rule (exit 70), never as an input error. */
export class RuleError extends Error {
  override readonly name = 'RuleError';
  readonly rule: string;

  constructor(rule: string, where: string, cause: unknown) {
    super(`rule ${rule} failed in ${where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.rule = rule;
  }
}
