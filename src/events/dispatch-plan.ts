/**
 * What every rule reads, compiled once into tables the readers consult per line, so that the
 * cost of a line does not grow with the number of rules:
 *
 * - nexus.log (and task logs): by level (one byte), then, when a rule of that level names its
 *   loggers, by the logger's last segment (a hash and a map lookup), then all the literals of
 *   the rules that apply to that level and logger in one `LiteralSet`;
 * - request.log and outbound-request.log: by status (three digits read in place), then literals;
 * - audit.log: literals.
 *
 * A line holding no literal of any rule that could read it is never decoded.
 */
import type { InputKind } from './log-event';
import { LEVEL_COUNT, levelCode, loggerKey } from './header-scan';
import { LiteralSet, type LiteralAnchor, type LiteralEntry } from './literal-set';

/** The parts of a rule the plan needs (the rules stage passes its rules in this shape). */
export interface ReadingRule {
  id: string;
  reads: ReadonlyArray<ReadSpecShape>;
}

/** Structural copy of the rules stage's ReadSpec (the events stage does not import rules). */
export interface ReadSpecShape {
  input?: InputKind;
  levels?: readonly string[];
  loggers?: readonly string[];
  literals?: ReadonlyArray<string | { text: string; at: 'start' | 'end' }>;
  continuation?: boolean;
  statuses?: ReadonlyArray<readonly [number, number]>;
}

/** The literal sets of the rules that read one level and logger (or every logger). */
export interface LoggerRoute {
  /** null when none of these rules has a literal for the header. */
  header: LiteralSet | null;
  /** Literals of rules that also read stack-trace lines; null when none does. */
  continuation: LiteralSet | null;
}

/**
 * The rules of one level: those that name the logger (found by its hash) and those that read
 * every logger. A line is searched with the first (when its logger has some) and the second:
 * two small automata rather than one per logger, so start-up and memory stay small.
 */
export interface LevelRoutes {
  /** Some rule of this level names its loggers (or anchors a literal at the message start): find the logger. */
  needsLogger: boolean;
  byLogger: Map<number, LoggerRoute>;
  /** The rules that read every logger; null when none does. */
  anyLogger: LoggerRoute | null;
}

export class NexusPlan {
  /** By level code; null: no rule reads that level. */
  readonly levels: Array<LevelRoutes | null>;
  /** By level code, then rule index: the logger names it reads at that level (verified on the parsed logger), or null for any. */
  readonly loggers: Array<Array<readonly string[] | null>>;

  constructor(levels: Array<LevelRoutes | null>, loggers: Array<Array<readonly string[] | null>>) {
    this.levels = levels;
    this.loggers = loggers;
  }

  /** Whether rule `index` reads events of this level and logger (names: full, or their last segment). */
  readsLogger(index: number, level: number, logger: string): boolean {
    const names = this.loggers[level]?.[index];
    if (names === null || names === undefined) return true;
    for (const name of names) {
      if (logger === name || (logger.endsWith(name) && logger.charCodeAt(logger.length - name.length - 1) === 0x2e)) return true;
    }
    return false;
  }
}

export interface StatusRoute {
  /** Rules that read every line of this status. */
  direct: number[];
  literals: LiteralSet | null;
}

export class HttpPlan {
  /** By status 0..599; null: no rule reads it. */
  readonly byStatus: Array<StatusRoute | null>;

  constructor(byStatus: Array<StatusRoute | null>) {
    this.byStatus = byStatus;
  }
}

export interface DispatchPlan {
  ruleCount: number;
  nexus: NexusPlan | null;
  task: NexusPlan | null;
  request: HttpPlan | null;
  outbound: HttpPlan | null;
  audit: LiteralSet | null;
}

type Anchored = { text: string; at: LiteralAnchor };

function normalize(literal: string | { text: string; at: 'start' | 'end' }): Anchored {
  return typeof literal === 'string' ? { text: literal, at: 'anywhere' } : { text: literal.text, at: literal.at };
}

/** Literal sets by their entries: levels and kinds with the same readers share one automaton. */
type SetCache = Map<string, LiteralSet>;

function literalSet(entries: readonly LiteralEntry[], cache: SetCache): LiteralSet {
  const signature = JSON.stringify(entries);
  let set = cache.get(signature);
  if (set === undefined) {
    set = new LiteralSet(entries);
    cache.set(signature, set);
  }
  return set;
}

function buildNexusPlan(rules: readonly ReadingRule[], kind: 'nexus' | 'task', cache: SetCache): NexusPlan | null {
  interface Reader {
    index: number;
    names: readonly string[] | null;
    loggers: number[] | null;
    literals: Anchored[];
    continuation: boolean;
  }
  const byLevel: Reader[][] = Array.from({ length: LEVEL_COUNT }, () => []);
  let any = false;
  rules.forEach((rule, index) => {
    for (const spec of rule.reads) {
      if ((spec.input ?? 'nexus') !== kind) continue;
      any = true;
      const names = spec.loggers === undefined || spec.loggers.length === 0 ? null : spec.loggers;
      const reader: Reader = {
        index,
        names,
        loggers: names === null ? null : names.map(loggerKey),
        literals: (spec.literals ?? []).map(normalize),
        continuation: spec.continuation === true,
      };
      const codes = new Set((spec.levels ?? []).map(levelCode).filter((code) => code >= 0));
      for (const code of codes) (byLevel[code] as Reader[]).push(reader);
    }
  });
  if (!any) return null;
  // Per level and rule: the loggers it names there, or null when one of its reads takes any logger.
  const loggers = byLevel.map((readers) => {
    const byRule: Array<readonly string[] | null | undefined> = rules.map(() => undefined);
    for (const reader of readers) {
      const names = reader.names;
      const before = byRule[reader.index];
      byRule[reader.index] = names === null || before === null ? null : [...(before ?? []), ...names];
    }
    return byRule.map((names) => names ?? null);
  });

  const routeOf = (readers: readonly Reader[]): LoggerRoute => {
    const entries = (continuationOnly: boolean): LiteralEntry[] =>
      readers.filter((r) => !continuationOnly || r.continuation).flatMap((r) => r.literals.map((l) => ({ text: l.text, at: l.at, value: r.index })));
    const head = entries(false);
    const tail = entries(true);
    return { header: head.length === 0 ? null : literalSet(head, cache), continuation: tail.length === 0 ? null : literalSet(tail, cache) };
  };

  const levels = byLevel.map((readers): LevelRoutes | null => {
    if (readers.length === 0) return null;
    const anyLogger = readers.filter((r) => r.loggers === null);
    const hashes = new Set(readers.flatMap((r) => r.loggers ?? []));
    const byLogger = new Map<number, LoggerRoute>();
    for (const hash of hashes) byLogger.set(hash, routeOf(readers.filter((r) => r.loggers !== null && r.loggers.includes(hash))));
    const startAnchored = anyLogger.some((r) => r.literals.some((l) => l.at === 'start'));
    return {
      needsLogger: hashes.size > 0 || startAnchored,
      byLogger,
      anyLogger: anyLogger.length === 0 ? null : routeOf(anyLogger),
    };
  });
  return new NexusPlan(levels, loggers);
}

function buildHttpPlan(rules: readonly ReadingRule[], kind: 'request' | 'outbound'): HttpPlan | null {
  const direct: number[][] = Array.from({ length: 600 }, () => []);
  const literal: LiteralEntry[][] = Array.from({ length: 600 }, () => []);
  let any = false;
  rules.forEach((rule, index) => {
    for (const spec of rule.reads) {
      if (spec.input !== kind) continue;
      any = true;
      const ranges = spec.statuses ?? [[0, 599] as const];
      const literals = (spec.literals ?? []).map(normalize);
      for (const [low, high] of ranges) {
        for (let status = Math.max(0, low); status <= Math.min(599, high); status++) {
          if (literals.length === 0) (direct[status] as number[]).push(index);
          else for (const l of literals) (literal[status] as LiteralEntry[]).push({ text: l.text, at: l.at, value: index });
        }
      }
    }
  });
  if (!any) return null;
  // Statuses with the same readers share one route (and one automaton).
  const shared = new Map<string, StatusRoute>();
  const byStatus = direct.map((rulesOfStatus, status): StatusRoute | null => {
    const entries = literal[status] as LiteralEntry[];
    if (rulesOfStatus.length === 0 && entries.length === 0) return null;
    const signature = JSON.stringify([rulesOfStatus, entries]);
    let route = shared.get(signature);
    if (route === undefined) {
      route = { direct: [...new Set(rulesOfStatus)], literals: entries.length === 0 ? null : new LiteralSet(entries) };
      shared.set(signature, route);
    }
    return route;
  });
  return new HttpPlan(byStatus);
}

function buildAuditPlan(rules: readonly ReadingRule[]): LiteralSet | null {
  const entries: LiteralEntry[] = [];
  rules.forEach((rule, index) => {
    for (const spec of rule.reads) {
      if (spec.input !== 'audit') continue;
      for (const l of (spec.literals ?? []).map(normalize)) entries.push({ text: l.text, at: l.at, value: index });
    }
  });
  return entries.length === 0 ? null : new LiteralSet(entries);
}

export function buildDispatchPlan(rules: readonly ReadingRule[]): DispatchPlan {
  const cache: SetCache = new Map();
  return {
    ruleCount: rules.length,
    nexus: buildNexusPlan(rules, 'nexus', cache),
    task: buildNexusPlan(rules, 'task', cache),
    request: buildHttpPlan(rules, 'request'),
    outbound: buildHttpPlan(rules, 'outbound'),
    audit: buildAuditPlan(rules),
  };
}
