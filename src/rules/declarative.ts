/**
 * Rules as data, for the common kinds (after SEC's Single, SingleWithThreshold, Pair and
 * PairWithWindow): a JSON (or YAML) object says what an event looks like, what it is keyed by,
 * the window, and what to report. `declarativeRule(spec)` turns it into a Rule, the same
 * interface the built-in rules implement. Regexes run on RE2 (linear time): a user's pattern can
 * never hang the analyzer. Format: docs/rules/custom-rules.md.
 *
 * - `single`: every matching event is an incident.
 * - `threshold`: matching events are counted per key while they keep coming within the window;
 *   when the group closes with at least `threshold` of them, it is one incident with the count.
 * - `pair`: `match` opens, `end` on the same key completes (closeReason `matched`); a group
 *   whose end never comes is an incident too (closeReason `window`, `end-of-input`...).
 * - `absence`: `match` opens; an incident only when `end` does NOT come within the window.
 */
import type { AnyEvent } from '../events/log-event';
import { LEVELS, SEVERITIES, type Category, type Level, type Reference, type Rule, type Severity, type SubjectType } from './rule';
import { SafeRegex } from './safe-regex';

export type RuleKind = 'single' | 'threshold' | 'pair' | 'absence';
const KINDS: readonly RuleKind[] = ['single', 'threshold', 'pair', 'absence'];
const CATEGORIES: readonly Category[] = ['docker', 'proxy', 'blobstore', 'task', 'jvm', 'database', 'security', 'server', 'storage', 'requests', 'custom'];

/** What an event must look like. Regexes are RE2 syntax (JavaScript-like, no backreferences or lookaround); named groups become fields. */
export interface EventPattern {
  /** Regex over the message (the header after ` - `, hard wraps repaired). */
  message: string;
  /** Regex over the logger name, e.g. `V2Handlers$`. */
  logger?: string;
  /** Exact level, e.g. `ERROR`. */
  level?: string;
  /** Regex over the exception lines (stack trace, frames left out), joined with newlines. */
  continuation?: string;
}

export interface DeclarativeRuleSpec {
  id: string;
  title: string;
  severity: Severity;
  kind: RuleKind;
  /** Literal substrings of the message; at least one. Lines without any are never parsed. (`literals` is the same.) */
  prefilter?: string[];
  literals?: string[];
  /** Levels read, e.g. ["WARN", "ERROR"]. Default: every level (costs a search of every line, docs/performance.md). */
  levels?: string[];
  /** Loggers read (full names or their last segment). Default: every logger. */
  loggers?: string[];
  /** `nexus` (default) or `task` (task logs). */
  input?: 'nexus' | 'task';
  category?: Category;
  match: EventPattern;
  /** pair and absence: the event that completes the group. */
  end?: EventPattern;
  /** Template of the correlation key, e.g. `{repository}`. Default `{node}/{thread}`. */
  key?: string;
  /** Event-time window, ms. Default 60,000. */
  windowMs?: number;
  /** threshold: events needed for an incident. Default 1. */
  threshold?: number;
  /** What the incident is about: a type and a template of its name, e.g. `{ type: repository, name: "{repository}" }`. */
  subject?: { type: SubjectType; name: string };
  /** Fields whose distinct values are counted (e.g. `["blob"]`). */
  distinct?: string[];
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

/** A clear error naming the rule and the field, for --rules files. */
export class RuleSpecError extends Error {
  override readonly name = 'RuleSpecError';
}

interface CompiledPattern {
  message: SafeRegex;
  logger: SafeRegex | null;
  level: string | null;
  continuation: SafeRegex | null;
}

type Signal = { role: 'match' | 'end'; fields: Record<string, string> };

interface Group {
  key: string;
  fields: Record<string, string>;
  matches: number;
  ended: boolean;
  who: Record<string, string | null>;
}

function compile(ruleId: string, where: string, pattern: EventPattern | undefined): CompiledPattern {
  if (pattern === undefined || typeof pattern.message !== 'string') throw new RuleSpecError(`rule ${ruleId}: ${where}.message must be a regex string`);
  const regex = (field: string, source: string | undefined): SafeRegex | null => {
    if (source === undefined) return null;
    if (typeof source !== 'string') throw new RuleSpecError(`rule ${ruleId}: ${where}.${field} must be a regex string`);
    try {
      return new SafeRegex(source);
    } catch (error) {
      throw new RuleSpecError(`rule ${ruleId}: ${where}.${field} is not a regex this analyzer runs (RE2 syntax, linear time): ${(error as Error).message}`);
    }
  };
  return {
    message: regex('message', pattern.message) as SafeRegex,
    logger: regex('logger', pattern.logger),
    level: pattern.level ?? null,
    continuation: regex('continuation', pattern.continuation),
  };
}

function test(pattern: CompiledPattern, event: AnyEvent): Record<string, string> | undefined {
  if (event.kind !== 'nexus' && event.kind !== 'task') return undefined;
  if (pattern.level !== null && event.level !== pattern.level) return undefined;
  if (pattern.logger !== null && !pattern.logger.test(event.logger)) return undefined;
  const match = pattern.message.exec(event.message);
  if (match === undefined) return undefined;
  const fields: Record<string, string> = { ...match.groups };
  if (pattern.continuation !== null) {
    const more = pattern.continuation.exec(event.continuation.join('\n'));
    if (more === undefined) return undefined;
    Object.assign(fields, more.groups);
  }
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

/** A template parsed once into a function (a key template runs for every matching event). */
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
  const literals = s?.literals ?? s?.prefilter;
  if (!Array.isArray(literals) || literals.length === 0 || !literals.every((l) => typeof l === 'string' && l !== '')) {
    fail('literals (or prefilter) must list at least one non-empty string');
  }
  if (s?.levels !== undefined && (!Array.isArray(s.levels) || !s.levels.every((l) => typeof l === 'string' && LEVELS.includes(l.toUpperCase().replace('WARNING', 'WARN') as Level)))) {
    fail(`levels must list levels among ${LEVELS.join(', ')}`);
  }
  if (s?.loggers !== undefined && (!Array.isArray(s.loggers) || !s.loggers.every((l) => typeof l === 'string' && l !== ''))) fail('loggers must list logger names');
  if (s?.input !== undefined && s.input !== 'nexus' && s.input !== 'task') fail('input must be nexus or task');
  if (s?.category !== undefined && !CATEGORIES.includes(s.category)) fail(`category must be one of ${CATEGORIES.join(', ')}`);
  if ((s?.kind === 'pair' || s?.kind === 'absence') && s.end === undefined) fail(`kind ${s.kind} needs an end pattern`);
  if (s?.windowMs !== undefined && !(typeof s.windowMs === 'number' && s.windowMs > 0)) fail('windowMs must be a positive number');
  if (s?.threshold !== undefined && !(typeof s.threshold === 'number' && s.threshold >= 1)) fail('threshold must be a number >= 1');
  if (typeof s?.summary !== 'string') fail('summary must be a string template');
  const d = s?.diagnosis;
  if (d === undefined || typeof d.cause !== 'string' || typeof d.explanation !== 'string' || !Array.isArray(d.remediation)) {
    fail('diagnosis needs cause, explanation and remediation');
  }
  if (!['high', 'medium', 'low'].includes(d?.confidence as string)) fail('diagnosis.confidence must be high, medium or low');
  return s as DeclarativeRuleSpec;
}

export function declarativeRule(input: DeclarativeRuleSpec): Rule<Signal, Group> {
  const spec = validateSpec(input);
  const match = compile(spec.id, 'match', spec.match);
  const end = spec.end === undefined ? null : compile(spec.id, 'end', spec.end);
  const key = compileTemplate(spec.key ?? '{node}/{thread}');
  const subjectName = spec.subject === undefined ? null : compileTemplate(spec.subject.name);
  const threshold = Math.max(1, spec.threshold ?? 1);
  const literals = (spec.literals ?? spec.prefilter) as string[];
  const levels = (spec.levels ?? LEVELS).map((level) => level.toUpperCase().replace('WARNING', 'WARN') as Level);
  const d = spec.diagnosis;
  const templates = {
    summary: compileTemplate(spec.summary),
    explanation: compileTemplate(d.explanation),
    remediation: d.remediation.map(compileTemplate),
  };

  const eventValues = (event: AnyEvent): Record<string, string | null> =>
    event.kind === 'nexus' || event.kind === 'task' ? { thread: event.thread, node: event.node, user: event.user, logger: event.logger, level: event.level } : {};

  return {
    id: spec.id,
    title: spec.title,
    severity: spec.severity,
    category: spec.category ?? 'custom',
    reads: [
      {
        input: spec.input ?? 'nexus',
        levels,
        ...(spec.loggers === undefined ? {} : { loggers: spec.loggers }),
        literals,
        continuation: spec.match.continuation !== undefined || spec.end?.continuation !== undefined,
      },
    ],
    windowMs: spec.windowMs ?? 60_000,

    match(event) {
      if (end !== null) {
        const fields = test(end, event);
        if (fields !== undefined) return { role: 'end', fields };
      }
      const fields = test(match, event);
      return fields === undefined ? undefined : { role: 'match', fields };
    },

    key(signal, event) {
      return key(signal.fields, eventValues(event));
    },

    open(signal, event) {
      return { key: key(signal.fields, eventValues(event)), fields: {}, matches: 0, ended: false, who: eventValues(event) };
    },

    continues(group, signal) {
      // A new match after the end, or any match of a single or pair rule, starts over.
      return !(spec.kind === 'single' || group.ended || (signal.role === 'match' && group.matches > 0 && (spec.kind === 'pair' || spec.kind === 'absence')));
    },

    distinct(signal) {
      if (spec.distinct === undefined) return undefined;
      const values: Record<string, string> = {};
      for (const name of spec.distinct) if (signal.fields[name] !== undefined) values[name] = signal.fields[name] as string;
      return values;
    },

    add(group, signal) {
      for (const [name, value] of Object.entries(signal.fields)) if (!(name in group.fields)) group.fields[name] = value;
      if (signal.role === 'end') {
        group.ended = true;
        return true;
      }
      group.matches++;
      return spec.kind === 'single';
    },

    describe(group, view) {
      // Groups that are not incidents by their kind: an end with nothing open, an absence whose
      // end came, a threshold not reached.
      if (group.matches === 0) return null;
      if (spec.kind === 'absence' && group.ended) return null;
      if (spec.kind === 'threshold' && view.reason !== null && group.matches < threshold) return null;
      const values = { ...group.who, ...group.fields, count: group.matches };
      return {
        subject: spec.subject === undefined || subjectName === null ? null : { type: spec.subject.type, name: subjectName(values) },
        fingerprint: [group.key, ...Object.entries(group.fields).sort().flat()],
        summary: templates.summary(values),
        facts: { ...group.fields },
        fields: { key: group.key, fields: { ...group.fields } },
        diagnosis: {
          cause: d.cause,
          explanation: templates.explanation(values),
          confidence: d.confidence,
          remediation: templates.remediation.map((step) => step(values)),
          references: d.references ?? [],
        },
      };
    },
  };
}
