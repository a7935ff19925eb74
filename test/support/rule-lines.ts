/** Writing nexus.log lines for rule tests, running one rule (or a few) over them, and reading the real excerpts. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NexusEvent } from '../../src/events/log-event';
import type { Incident } from '../../src/incidents/incident';
import type { AnyRule } from '../../src/rules/rule';
import { analyze, FIXTURES } from './helpers';

const BASE = Date.UTC(2025, 2, 3, 9, 0, 0);

/** A nexus.log timestamp `ms` after 2025-03-03 09:00:00 UTC. */
export function at(ms: number): string {
  const d = new Date(BASE + ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())},${pad(d.getUTCMilliseconds(), 3)}+0000`;
}

export const SECOND = 1000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export interface LineOptions {
  thread?: string;
  user?: string;
  node?: string;
}

/** One nexus.log header line (3.6.1+ file layout: an empty %node gives two spaces). */
export function line(ms: number, level: string, logger: string, message: string, o: LineOptions = {}): string {
  return `${at(ms)} ${level.padEnd(5)} [${o.thread ?? 'qtp1-1'}] ${o.node ?? ''} ${o.user ?? '*SYSTEM'} ${logger} - ${message}`;
}

/** The closed incidents of `ruleId` for some log text, run with the given rules only. */
export function incidents(rules: AnyRule | readonly AnyRule[], text: string | string[], ruleId?: string): Incident[] {
  const list = Array.isArray(rules) ? (rules as readonly AnyRule[]) : [rules as AnyRule];
  const id = ruleId ?? (list[0] as AnyRule).id;
  return analyze(Array.isArray(text) ? `${text.join('\n')}\n` : text, { rules: list }).filter((i) => i.rule === id);
}

/** A real excerpt of test/fixtures/real/ (see corpus.json for its source and labels). */
export function realLog(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, 'real', name), 'utf8');
}

export interface CorpusEntry {
  file: string;
  source: string;
  expected: Array<{ class: string; proof: string; subject: string | null; cause: string | null }>;
  notConclusive: string[];
}

/** The corpus entry of a real excerpt. */
export function corpusEntry(name: string): CorpusEntry {
  const corpus = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'real', 'corpus.json'), 'utf8')) as CorpusEntry[];
  const entry = corpus.find((e) => e.file === name);
  if (entry === undefined) throw new Error(`${name} is not in corpus.json`);
  return entry;
}

/**
 * The event some lines make when the first is the message of a logged event and the others its
 * exception lines (frames left out, as the events stage does): to test a rule's reading of an
 * excerpt's lines as they would be logged, apart from how the excerpt itself is framed.
 */
export function eventOf(lines: readonly string[], o: { logger?: string; level?: string; thread?: string } = {}): NexusEvent {
  const [message = '', ...rest] = lines;
  return {
    kind: 'nexus',
    source: 'excerpt',
    line: 1,
    offset: 0,
    time: BASE,
    text: message,
    timestampText: at(0),
    level: o.level ?? 'ERROR',
    thread: o.thread ?? 'main',
    node: null,
    user: '*SYSTEM',
    logger: o.logger ?? 'unknown',
    message,
    continuation: rest.filter((l) => !/^\s+(at |\.\.\.)/.test(l)),
    continuationDropped: 0,
    truncated: false,
  };
}

/** A message of `n` characters built to make a backtracking parser slow (repeats of a near-match). */
export function adversarial(piece: string, n = 200_000): string {
  return piece.repeat(Math.ceil(n / piece.length)).slice(0, n);
}
