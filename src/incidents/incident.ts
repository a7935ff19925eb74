/** The incident model: the envelope the engine builds around every rule's finding. Field docs: docs/incidents.md. */
import type { Evidence } from '../events/log-event';
import type {
  Category,
  CloseReason,
  Confidence,
  DistinctValues,
  Fact,
  Reference,
  Severity,
  Subject,
} from '../rules/rule';

export type { Category, CloseReason, Confidence, DistinctValues, Evidence, Fact, Reference, Severity, Subject };
export { SEVERITIES, atLeast } from '../rules/rule';

/** Bumped when a field changes meaning or disappears. 2: subject, count, rate, distinct, facts, causes. */
export const INCIDENT_SCHEMA_VERSION = 2;

/**
 * Where an incident is in its life: `opened` when its first line is seen, `updated` as it grows
 * (throttled: at count doublings), `closed` once (with a closeReason). Only closed incidents are
 * reported by default.
 */
export type Lifecycle = 'opened' | 'updated' | 'closed';

export interface Diagnosis {
  /** Short stable id of the cause, e.g. `layer-check-answered-by-other-repository`. */
  cause: string;
  /** What happened and why, for an operator. */
  explanation: string;
  /** high: the log shows it; medium: the usual cause of this pattern; low: one possible cause. */
  confidence: Confidence;
  /** Indexes into the incident's `evidence` of the lines the cause rests on. */
  evidence: number[];
  /** Steps to fix, in order: the first is what to do first. */
  remediation: string[];
  references: Reference[];
}

export interface Incident {
  schemaVersion: number;
  /** Hash of the rule, key, first time and place: fixed when the incident opens, the same on every run. */
  id: string;
  /** Hash of the failure itself: repeats of the same failure share it. */
  fingerprint: string;
  rule: string;
  /** The rule's title. */
  title: string;
  category: Category;
  severity: Severity;
  /** One sentence for a person. */
  summary: string;
  /** What the incident is about (repository, blob store, remote, task...); null when the log does not say. */
  subject: Subject | null;
  /** `closed` unless lifecycle records were asked for. */
  lifecycle: Lifecycle;
  /** 1 for the first line, one more for each line that joined, one more for a close no line caused. */
  revision: number;
  /** How many closed incidents have had this fingerprint so far, this one included. */
  occurrences: number;
  /** Log lines folded into it: a storm of one failure is one incident with its count. */
  count: number;
  /** count per minute between firstSeen and lastSeen (count itself when they are less than a minute apart). */
  ratePerMinute: number;
  /** Distinct values the lines named, by name (e.g. blob ids): the first few and the total. */
  distinct: Record<string, DistinctValues>;
  /** Key facts, rendered as `label: value`. */
  facts: Record<string, Fact>;
  /** ISO-8601 UTC with milliseconds; null when its lines carry no time (loose text: a pasted trace, an e-mail). */
  firstSeen: string | null;
  lastSeen: string | null;
  /** Why it closed; null while open. */
  closeReason: CloseReason | null;
  node: string | null;
  thread: string | null;
  user: string | null;
  /** The first lines, and the last one always; `evidenceOmitted` counts the rest. */
  evidence: Evidence[];
  evidenceOmitted: number;
  diagnosis: Diagnosis;
  /** Ids of incidents this one is a consequence of (e.g. out of memory before failed requests). */
  causes: string[];
  /** Ids of incidents known to be consequences of this one when it was reported. */
  consequences: string[];
  /** The rule's page: an address to read (the installed docs, else the published ones). */
  docs: string;
  /** Rule-specific fields (documented on the rule's page). */
  [field: string]: unknown;
}
