/**
 * A checkpoint is read back from a file a shipper wrote, maybe by another version or damaged:
 * every field is checked (type, range, shape) before anything is restored, and a bad one is
 * refused with an error naming the field, never a TypeError later or a silent wrong state.
 */
import { INPUT_KINDS, type InputKind } from './events/log-event';
import type { AnalyzerSnapshot } from './analyzer';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  /** The field at fault, as a path: `engine.groups[3].lastTime`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`checkpoint field ${field}: ${problem}`);
    this.field = field;
  }
}

type Check = (value: unknown, at: string) => void;

const fail = (at: string, problem: string): never => {
  throw new CheckpointError(at, problem);
};

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const number =
  (options: { min?: number; integer?: boolean; nullable?: boolean } = {}): Check =>
  (value, at) => {
    if (value === null && options.nullable === true) return;
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(at, `must be a finite number${options.nullable === true ? ' or null' : ''}, got ${describe(value)}`);
    if (options.integer === true && !Number.isInteger(value)) fail(at, `must be a whole number, got ${String(value)}`);
    if (options.min !== undefined && (value as number) < options.min) fail(at, `must be at least ${options.min}, got ${String(value)}`);
  };
const count = number({ min: 0, integer: true });
const time = number();
const timeOrNull = number({ nullable: true });

const string =
  (options: { nullable?: boolean; oneOf?: readonly string[] } = {}): Check =>
  (value, at) => {
    if (value === null && options.nullable === true) return;
    if (typeof value !== 'string') fail(at, `must be a string${options.nullable === true ? ' or null' : ''}, got ${describe(value)}`);
    if (options.oneOf !== undefined && !options.oneOf.includes(value as string)) fail(at, `must be one of ${options.oneOf.join(', ')}, got ${JSON.stringify(value)}`);
  };
const text = string();
const textOrNull = string({ nullable: true });
const boolean: Check = (value, at) => {
  if (typeof value !== 'boolean') fail(at, `must be true or false, got ${describe(value)}`);
};

const array =
  (item: Check, options: { nullable?: boolean } = {}): Check =>
  (value, at) => {
    if (value === null && options.nullable === true) return;
    if (!Array.isArray(value)) fail(at, `must be an array, got ${describe(value)}`);
    (value as unknown[]).forEach((entry, i) => item(entry, `${at}[${i}]`));
  };

const object =
  (fields: Record<string, Check>, options: { nullable?: boolean } = {}): Check =>
  (value, at) => {
    if (value === null && options.nullable === true) return;
    if (!isObject(value)) fail(at, `must be an object, got ${describe(value)}`);
    for (const [name, check] of Object.entries(fields)) {
      const record = value as Record<string, unknown>;
      if (!(name in record)) fail(`${at}.${name}`, 'is missing');
      check(record[name], `${at}.${name}`);
    }
  };

const tuple =
  (...items: Check[]): Check =>
  (value, at) => {
    if (!Array.isArray(value) || value.length !== items.length) fail(at, `must be an array of ${items.length}, got ${describe(value)}`);
    items.forEach((check, i) => check((value as unknown[])[i], `${at}[${i}]`));
  };

/** Plain JSON: what rule states must be. */
const json: Check = (value, at) => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(at, 'must be a finite number');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((entry, i) => json(entry, `${at}[${i}]`));
    return;
  }
  if (isObject(value)) {
    for (const [key, entry] of Object.entries(value)) json(entry, `${at}.${key}`);
    return;
  }
  fail(at, `must be plain JSON, got ${describe(value)}`);
};

const kind = string({ oneOf: INPUT_KINDS });
const base64OrNull = string({ nullable: true });

const counters = object({
  lines: count,
  bytes: count,
  events: count,
  relevantEvents: count,
  unparsedLines: count,
  truncatedLines: count,
  foreignLines: count,
});

const evidence = (value: unknown, at: string): void => {
  object({ source: text, line: count, offset: count, text })(value, at);
  const length = (value as Record<string, unknown>).length;
  if (length !== undefined) count(length, `${at}.length`);
};

const event: Check = (value, at) => {
  object({ kind, source: text, line: count, offset: count, time, text })(value, at);
  json(value, at);
};

const snapshotCheck = object({
  version: (value, at) => {
    if (value !== 2) fail(at, `must be 2 (this analyzer reads version 2 checkpoints), got ${describe(value)}`);
  },
  source: object({
    name: text,
    kind,
    offset: count,
    state: object({
      kind,
      splitter: object({
        nextLineNumber: number({ min: 1, integer: true }),
        bytesSeen: count,
        carry: base64OrNull,
        carryOffset: count,
        carryDropped: count,
        carryTail: (value, at) => {
          if (value !== undefined) base64OrNull(value, at);
        },
        terminator: (value, at) => {
          if (value !== 0 && value !== 10 && value !== 13) fail(at, `must be 0, 10 or 13, got ${describe(value)}`);
        },
        undecided: base64OrNull,
        pendingCr: boolean,
      }),
      framing: object(
        {
          kind: string({ nullable: true, oneOf: ['plain', 'compose', 'kubectl', 'cri', 'docker-json', 'quoted', 'indented', 'journal', 'prefixed', 'timestamped', 'piped', 'tabbed'] }),
          detail: textOrNull,
          waiting: array(tuple(text, count, count, count, count)),
          waitingBytes: count,
          partial: (value, at) => {
            if (value !== null) tuple(text, count, count, count)(value, at);
          },
        },
        { nullable: true },
      ),
      assembler: object(
        {
          pending: object(
            {
              header: textOrNull,
              bytes: base64OrNull,
              level: number({ min: 0, integer: true }),
              loggerHash: count,
              rules: array(count),
              line: count,
              offset: count,
              keep: (value, at) => {
                if (value !== null) boolean(value, at);
              },
              continuation: array(text),
              continuationChars: count,
              continuationDropped: count,
              truncated: boolean,
            },
            { nullable: true },
          ),
          seenEvent: boolean,
          orphans: array(object({ text, line: count, offset: count, frame: boolean })),
        },
        { nullable: true },
      ),
      counters,
    }),
  }),
  finishedSources: counters,
  clocks: (value, at) => {
    if (!isObject(value)) fail(at, `must be an object, got ${describe(value)}`);
    for (const [name, clock] of Object.entries(value as Record<string, unknown>)) {
      kind(name, `${at} key`);
      time(clock, `${at}.${name}`);
    }
  },
  time: object({
    clocks: array(object({ kind, frontier: timeOrNull, suspect: timeOrNull, held: array(object({ event, rules: array(count), seq: count })) })),
    seq: count,
    recent: array(count),
  }),
  engine: object({
    groups: array(
      object({
        rule: text,
        key: text,
        kind,
        id: text,
        state: json,
        firstTime: time,
        lastTime: time,
        count: count,
        revision: count,
        node: textOrNull,
        thread: textOrNull,
        user: textOrNull,
        evidence: array(evidence),
        tail: (value, at) => {
          if (value !== null) evidence(value, at);
        },
        pastKept: count,
        distinct: array(tuple(text, array(text), array(count), boolean)),
        nextUpdateAt: count,
        lastUpdateTime: timeOrNull,
        aggregate: boolean,
        runs: number({ min: 1, integer: true }),
        timeless: boolean,
      }),
    ),
    counters: object({
      incidents: count,
      incidentsByRule: (value, at) => {
        if (!isObject(value)) fail(at, `must be an object, got ${describe(value)}`);
        for (const [rule, n] of Object.entries(value as Record<string, unknown>)) count(n, `${at}.${rule}`);
      },
      evicted: count,
      lateEvents: count,
      duplicateEvents: count,
      discarded: count,
      lifecycleRecords: count,
    }),
    recurrence: array(tuple(text, count)),
    causality: object({
      closed: array(tuple(count, array(object({ id: text, firstTime: time, lastTime: time, subject: textOrNull })))),
      consequences: array(tuple(text, array(text))),
    }),
  }),
});

/** The snapshot, checked whole; throws a CheckpointError naming the first bad field. */
export function validateSnapshot(snapshot: unknown): AnalyzerSnapshot {
  snapshotCheck(snapshot, 'checkpoint');
  const checked = snapshot as AnalyzerSnapshot;
  const { splitter } = checked.source.state;
  const consumed = splitter.bytesSeen + (splitter.undecided === null ? 0 : Buffer.from(splitter.undecided, 'base64').length);
  if (checked.source.offset !== consumed) fail('checkpoint.source.offset', `must equal the bytes the splitter consumed (${consumed}), got ${checked.source.offset}`);
  if (checked.source.kind !== checked.source.state.kind) fail('checkpoint.source.kind', `must equal source.state.kind (${checked.source.state.kind})`);
  const ids = new Set<string>();
  checked.engine.groups.forEach((group, i) => {
    if (group.lastTime < group.firstTime) fail(`checkpoint.engine.groups[${i}].lastTime`, 'must not be before firstTime');
    if (group.count < 1) fail(`checkpoint.engine.groups[${i}].count`, 'must be at least 1 for an open group');
    const key = `${group.rule}\u0000${group.key}`;
    if (ids.has(key)) fail(`checkpoint.engine.groups[${i}]`, `a second open group of rule ${group.rule} with key ${JSON.stringify(group.key)}`);
    ids.add(key);
  });
  return checked;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

export type { InputKind };
