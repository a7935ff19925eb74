/** The incident model: what every rule emits. Field docs: docs/incidents.md. */

/** Bumped when a field changes meaning or disappears. */
export const INCIDENT_SCHEMA_VERSION = 1;

/** From the most to the least severe. */
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** True when `severity` is `threshold` or more severe. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

/**
 * Why an incident was closed:
 * - `matched`: the event that completes it arrived (e.g. the 400 response);
 * - `window`: its correlation window passed in event time with no completing event;
 * - `superseded`: the same key (a pooled thread) started something else;
 * - `evicted`: too many groups were open at once; the oldest is emitted, never dropped;
 * - `end-of-input`: the input ended with the group still open;
 * - `shutdown`: the process was asked to stop with the group still open.
 */
export type CloseReason = 'matched' | 'window' | 'superseded' | 'evicted' | 'end-of-input' | 'shutdown';

/**
 * Where an incident is in its life: `opened` when its first line is seen, `updated` as lines
 * join it, `closed` once (with a closeReason). Only closed incidents are reported by default.
 */
export type Lifecycle = 'opened' | 'updated' | 'closed';

/** A log line the incident rests on. */
export interface Evidence {
  /** File name, or `-` for stdin. */
  source: string;
  /** 1-based line number in the source. */
  line: number;
  /** Byte offset of the line in the (decompressed) source. */
  offset: number;
  /** The line as logged, hard wraps repaired. */
  text: string;
}

export interface Reference {
  title: string;
  url: string | null;
}

export interface Diagnosis {
  /** Short stable id of the cause, e.g. `layer-check-answered-by-other-repository`. */
  cause: string;
  /** What happened and why, for an operator. */
  explanation: string;
  /** high: the log shows it; medium: the usual cause of this pattern; low: one possible cause. */
  confidence: 'high' | 'medium' | 'low';
  /** Indexes into the incident's `evidence` of the lines the cause rests on. */
  evidence: number[];
  /** Steps to fix, in order. */
  remediation: string[];
  references: Reference[];
}

export interface Incident {
  schemaVersion: number;
  /** Stable hash of this occurrence: the same log lines give the same id on every run. */
  id: string;
  /** Stable hash of the failure itself: repeats of the same failure share it. */
  fingerprint: string;
  rule: string;
  severity: Severity;
  /** One sentence for a human. */
  summary: string;
  /** `closed` unless lifecycle events were asked for. */
  lifecycle: Lifecycle;
  /** 1 for the first line of the incident, one more for each line that joined it and for its close. */
  revision: number;
  /** How many closed incidents have had this fingerprint so far, this one included. */
  occurrences: number;
  /** ISO-8601 UTC with milliseconds. */
  firstSeen: string;
  lastSeen: string;
  /** Why it closed; null while it is open (lifecycle `opened` / `updated`). */
  closeReason: CloseReason | null;
  node: string | null;
  thread: string | null;
  user: string | null;
  evidence: Evidence[];
  /** Evidence lines left out past the per-incident cap. */
  evidenceOmitted: number;
  diagnosis: Diagnosis;
}
