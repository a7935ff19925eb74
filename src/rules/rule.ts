/**
 * The rule interface. Built-in rules implement it exactly as user rules will.
 *
 * A rule turns relevant events into signals, groups signals by a key (a thread, a
 * repository...), and turns each group into an incident when it closes. The engine owns
 * the groups, the event-time windows, the cap and the close reasons; a rule only says what
 * an event means and what the finished group is.
 *
 * A group must be plain JSON data (objects, arrays, strings, numbers, booleans, null): the
 * engine copies it into checkpoints (`Analyzer.snapshot()`).
 */
import type { LogEvent } from '../events/log-event';
import type { CloseReason, Incident, Severity } from '../incidents/incident';

export interface CorrelationRule<Signal = unknown, Group = unknown> {
  /** Stable id, kebab-case, e.g. `docker-manifest-missing-layers`. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /**
   * Literal substrings of a header line. Only events whose header contains at least one
   * reach `match`; all other lines are never decoded. Must not be empty.
   */
  readonly prefilter: readonly string[];
  /**
   * The levels of the events the rule reads, e.g. `['WARN', 'ERROR']`. With it, the prefilter
   * literals are looked for only in header lines of those levels (no scan of every chunk), so
   * a catalogue of rules stays fast. Without it, every line is searched.
   */
  readonly levels?: readonly string[];
  /** The rule reads `event.continuation` (stack-trace lines); otherwise they are not decoded for it. */
  readonly readsContinuation?: boolean;
  /** A group closes when no signal joined it for this long, in event (log) time. */
  readonly windowMs: number;

  /** What the event means to this rule, or undefined when nothing. */
  match(event: LogEvent): Signal | undefined;
  /** Correlation key of a signal, e.g. node + thread. */
  keyOf(signal: Signal, event: LogEvent): string;
  /** A new empty group for a signal that starts one. */
  open(signal: Signal, event: LogEvent): Group;
  /** Whether the signal belongs to the open group; false closes the group as `superseded`. */
  continues(group: Group, signal: Signal, event: LogEvent): boolean;
  /** Folds the signal into the group; returns true when the group is complete (`matched`). */
  add(group: Group, signal: Signal, event: LogEvent): boolean;
  /**
   * The incident for a group, closed (`reason`) or still open (`reason` null, for lifecycle
   * events); `span` is the event time of its first and last signal. The engine sets
   * `lifecycle`, `revision` and `occurrences` afterwards. null: this group is not an incident
   * (e.g. an absence rule whose awaited event came); the engine counts it as `discarded`.
   */
  toIncident(group: Group, reason: CloseReason | null, span: GroupSpan): Incident | null;
}

export interface GroupSpan {
  firstTime: number;
  lastTime: number;
}

/** A rule with its type parameters erased, as the engine holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRule = CorrelationRule<any, any>;
