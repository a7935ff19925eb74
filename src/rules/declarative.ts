/**
 * Rules as data, for the common kinds (after SEC's Single, SingleWithThreshold, Pair and
 * PairWithWindow): a JSON (or YAML) object says what an event looks like, what it is keyed by,
 * the window, and what to report. `declarativeRule(spec)` turns it into a CorrelationRule, the
 * same interface the built-in rules implement. Format: docs/rules/custom-rules.md.
 *
 * - `single`: every matching event is an incident.
 * - `threshold`: matching events are counted per key while they keep coming within the window;
 *   when the group closes with at least `threshold` of them, it is an incident (with `count`).
 * - `pair`: `match` opens, `end` on the same key completes (closeReason `matched`); a group
 *   whose end never comes is an incident too (closeReason `window`, `end-of-input`...).
 * - `absence`: `match` opens; an incident only when `end` does NOT come within the window.
 */
import type { LogEvent } from '../events/log-event';
import { toIsoUtc } from '../events/timestamp';
import { INCIDENT_SCHEMA_VERSION, SEVERITIES, type CloseReason, type Evidence, type Incident, type Reference, type Severity } from '../incidents/incident';
import { stableHash } from '../incidents/stable-hash';
import type { CorrelationRule, GroupSpan } from './rule';

export type RuleKind = 'single' | 'threshold' | 'pair' | 'absence';
const KINDS: readonly RuleKind[] = ['single', 'threshold', 'pair', 'absence'];

/** What an event must look like. Regexes are JavaScript syntax; named groups become fields. */
export interface EventPattern {
  /** Regex over the message (the header after ` - `, hard wraps repaired). */
  message: string;
  /** Regex over the logger name, e.g. `V2Handlers$`. */
  logger?: string;
  /** Exact level, e.g. `ERROR`. */
  level?: string;
  /** Regex over the continuation lines (stack trace), joined with newlines. */
  continuation?: string;
}

export interface DeclarativeRuleSpec {
  id: string;
  title: string;
  severity: Severity;
  kind: RuleKind;
  /** Literal substrings of the header line; at least one. Lines without any are never parsed. */
  prefilter: string[];
  /** Levels of the events read, e.g. ["WARN", "ERROR"]: the prefilter then skips other lines cheaply. */
  levels?: string[];
  match: EventPattern;
  /** pair and absence: the event that completes the group. */
  end?: EventPattern;
  /** Template of the correlation key, e.g. `{repository}`. Default `{node}/{thread}`. */
  key?: string;
  /** Event-time window, ms. Default 60,000. */
  windowMs?: number;
  /** threshold: events needed for an incident. Default 1. */
  threshold?: number;
  /** Templates: `{field}` is a named group, or thread, node, user, logger, level, count. */
  summary: string;
  diagnosis: {
    cause: string;
    explanation: string;
    confidence: 'high' | 'medium' | 'low';
    remediation: string[];
    references?: Reference[];
  };
}

/** Incidents of declarative rules: the common fields plus what the patterns captured. */
export interface DeclarativeIncident extends Incident {
  key: string;
  /** Matching events in the group. */
  count: number;
  /** Named groups captured by the patterns (first value of each). */
  fields: Record<string, string>;
}

interface CompiledPattern {
  message: RegExp;
  logger: RegExp | null;
  level: string | null;
  continuation: RegExp | null;
}

type Signal = { role: 'match' | 'end'; fields: Record<string, string> };

interface Group {
  key: string;
  fields: Record<string, string>;
  count: number;
  ended: boolean;
  node: string | null;
  thread: string;
  user: string | null;
  evidence: Evidence[];
  evidenceOmitted: number;
}

const MAX_EVIDENCE = 32;

/** A clear error naming the rule and the field, for --rules files. */
export class RuleSpecError extends Error {
  override readonly name = 'RuleSpecError';
}

function compile(ruleId: string, where: string, pattern: EventPattern | undefined): CompiledPattern {
  if (pattern === undefined || typeof pattern.message !== 'string') throw new RuleSpecError(`rule ${ruleId}: ${where}.message must be a regex string`);
  const regex = (field: string, source: string | undefined): RegExp | null => {
    if (source === undefined) return null;
    try {
      return new RegExp(source);
    } catch (error) {
      throw new RuleSpecError(`rule ${ruleId}: ${where}.${field} is not a valid regex: ${(error as Error).message}`);
    }
  };
  return {
    message: regex('message', pattern.message) as RegExp,
    logger: regex('logger', pattern.logger),
    level: pattern.level ?? null,
    continuation: regex('continuation', pattern.continuation),
  };
}

function test(pattern: CompiledPattern, event: LogEvent): Record<string, string> | undefined {
  if (pattern.level !== null && event.level !== pattern.level) return undefined;
  if (pattern.logger !== null && !pattern.logger.test(event.logger)) return undefined;
  const match = pattern.message.exec(event.message);
  if (match === null) return undefined;
  const fields: Record<string, string> = { ...(match.groups ?? {}) };
  if (pattern.continuation !== null) {
    const more = pattern.continuation.exec(event.continuation.join('\n'));
    if (more === null) return undefined;
    Object.assign(fields, more.groups ?? {});
  }
  for (const name of Object.keys(fields)) if (fields[name] === undefined) delete fields[name];
  return fields;
}

type Values = Record<string, string | number | null | undefined>;

/**
 * `{name}` from the fields, else the event's, else `?`. `{a|b}` takes the first that has a
 * value (regex alternatives cannot share a group name).
 */
export function fillTemplate(template: string, values: Values): string {
  return compileTemplate(template)(values);
}

/**
 * A template parsed once into a function (a key template runs for every matching event).
 * `fallback` is looked in for names `values` lacks (the event's fields), without building a
 * merged object per call.
 */
export function compileTemplate(template: string): (values: Values, fallback?: Values) => string {
  const parts = template.split(/\{(\w+(?:\|\w+)*)\}/);
  // Odd indexes are placeholders (their alternatives), even ones literal text.
  const pieces = parts.map((part, index) => (index % 2 === 1 ? part.split('|') : part));
  return (values, fallback) => {
    let out = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') {
        out += piece;
        continue;
      }
      let filled = '?';
      for (const name of piece) {
        const value = values[name] ?? fallback?.[name];
        if (value !== undefined && value !== null && value !== '') {
          filled = String(value);
          break;
        }
      }
      out += filled;
    }
    return out;
  };
}

export function validateSpec(spec: unknown): DeclarativeRuleSpec {
  const s = spec as Partial<DeclarativeRuleSpec> | null;
  const id = typeof s?.id === 'string' ? s.id : '(no id)';
  const fail = (problem: string): never => {
    throw new RuleSpecError(`rule ${id}: ${problem}`);
  };
  if (s === null || typeof s !== 'object') fail('must be an object');
  if (typeof s?.id !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(s.id)) fail('id must be kebab-case, e.g. my-rule');
  if (typeof s?.title !== 'string') fail('title must be a string');
  if (!SEVERITIES.includes(s?.severity as Severity)) fail(`severity must be one of ${SEVERITIES.join(', ')}`);
  if (!KINDS.includes(s?.kind as RuleKind)) fail(`kind must be one of ${KINDS.join(', ')}`);
  if (!Array.isArray(s?.prefilter) || s.prefilter.length === 0 || !s.prefilter.every((l) => typeof l === 'string' && l !== '')) {
    fail('prefilter must list at least one non-empty literal');
  }
  if ((s?.kind === 'pair' || s?.kind === 'absence') && s.end === undefined) fail(`kind ${s.kind} needs an end pattern`);
  if (typeof s?.summary !== 'string') fail('summary must be a string template');
  const d = s?.diagnosis;
  if (d === undefined || typeof d.cause !== 'string' || typeof d.explanation !== 'string' || !Array.isArray(d.remediation)) {
    fail('diagnosis needs cause, explanation and remediation');
  }
  if (!['high', 'medium', 'low'].includes(d?.confidence as string)) fail('diagnosis.confidence must be high, medium or low');
  return s as DeclarativeRuleSpec;
}

export function declarativeRule(input: DeclarativeRuleSpec): CorrelationRule<Signal, Group> {
  const spec = validateSpec(input);
  const match = compile(spec.id, 'match', spec.match);
  const end = spec.end === undefined ? null : compile(spec.id, 'end', spec.end);
  const key = compileTemplate(spec.key ?? '{node}/{thread}');
  const threshold = Math.max(1, spec.threshold ?? 1);

  const eventValues = (event: LogEvent): Record<string, string | null> => ({
    thread: event.thread,
    node: event.node,
    user: event.user,
    logger: event.logger,
    level: event.level,
  });

  return {
    id: spec.id,
    title: spec.title,
    severity: spec.severity,
    prefilter: spec.prefilter,
    ...(spec.levels === undefined ? {} : { levels: spec.levels }),
    readsContinuation: spec.match.continuation !== undefined || spec.end?.continuation !== undefined,
    windowMs: spec.windowMs ?? 60_000,

    match(event) {
      if (end !== null) {
        const fields = test(end, event);
        if (fields !== undefined) return { role: 'end', fields };
      }
      const fields = test(match, event);
      return fields === undefined ? undefined : { role: 'match', fields };
    },

    keyOf(signal, event) {
      return key(signal.fields, eventValues(event));
    },

    open(signal, event) {
      return {
        key: key(signal.fields, eventValues(event)),
        fields: {},
        count: 0,
        ended: false,
        node: event.node,
        thread: event.thread,
        user: event.user,
        evidence: [],
        evidenceOmitted: 0,
      };
    },

    continues(group, signal) {
      // An end with no group open starts nothing; a new match after the end starts over.
      return !(spec.kind === 'single' || group.ended || (signal.role === 'match' && group.count > 0 && (spec.kind === 'pair' || spec.kind === 'absence')));
    },

    add(group, signal, event) {
      for (const [name, value] of Object.entries(signal.fields)) if (!(name in group.fields)) group.fields[name] = value;
      if (group.evidence.length < MAX_EVIDENCE) group.evidence.push({ source: event.source, line: event.line, offset: event.offset, text: event.text });
      else group.evidenceOmitted++;
      if (signal.role === 'end') {
        group.ended = true;
        return true;
      }
      group.count++;
      return spec.kind === 'single';
    },

    toIncident(group, reason, span) {
      // Groups that are not incidents by their kind: an end with nothing open, an absence whose
      // end came, a threshold not reached.
      if (group.count === 0) return null;
      if (spec.kind === 'absence' && group.ended) return null;
      if (spec.kind === 'threshold' && reason !== null && group.count < threshold) return null;
      return buildIncident(spec, group, reason, span);
    },
  };
}

function buildIncident(spec: DeclarativeRuleSpec, group: Group, reason: CloseReason | null, span: GroupSpan): DeclarativeIncident {
  const values = { ...group.fields, thread: group.thread, node: group.node, user: group.user, count: group.count };
  const d = spec.diagnosis;
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: stableHash([spec.id, group.key, span.firstTime]),
    fingerprint: stableHash([spec.id, group.key, ...Object.entries(group.fields).sort().flat()]),
    rule: spec.id,
    severity: spec.severity,
    lifecycle: 'closed',
    revision: 0,
    occurrences: 1,
    summary: fillTemplate(spec.summary, values),
    firstSeen: toIsoUtc(span.firstTime),
    lastSeen: toIsoUtc(span.lastTime),
    closeReason: reason,
    node: group.node,
    thread: group.thread,
    user: group.user,
    key: group.key,
    count: group.count,
    fields: { ...group.fields },
    evidence: group.evidence.slice(),
    evidenceOmitted: group.evidenceOmitted,
    diagnosis: {
      cause: d.cause,
      explanation: fillTemplate(d.explanation, values),
      confidence: d.confidence,
      evidence: group.evidence.map((_line, index) => index),
      remediation: d.remediation.map((step) => fillTemplate(step, values)),
      references: d.references ?? [],
    },
  };
}
