/** request.log lines for rule tests, and running rules over every real excerpt of the corpus. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kindOfContent } from '../../src/events/classify-input';
import type { Incident } from '../../src/incidents/incident';
import type { AnyRule } from '../../src/rules/rule';
import { analyze, FIXTURES } from './helpers';
import type { CorpusEntry } from './rule-lines';

const BASE = Date.UTC(2025, 2, 3, 9, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A request.log date `ms` after 2025-03-03 09:00:00 UTC (second precision). */
export function accessDate(ms: number): string {
  const d = new Date(BASE + ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] as string}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export interface RequestLineOptions {
  ip?: string;
  user?: string | null;
  agent?: string;
  thread?: string;
}

/** One request.log line, 3.17+ layout: `ip - user [date] "METHOD path HTTP/1.1" status - bytes ms "agent" [thread]`. */
export function requestLine(ms: number, method: string, requestPath: string, status: number, o: RequestLineOptions = {}): string {
  const user = o.user === undefined ? 'alice' : o.user === null ? '-' : o.user;
  return `${o.ip ?? '10.0.0.1'} - ${user} [${accessDate(ms)}] "${method} ${requestPath} HTTP/1.1" ${status} - 0 3 "${o.agent ?? 'Maven/3.9'}" [${o.thread ?? 'qtp1-2'}]`;
}

/** The incidents of `ruleId` for request.log text. */
export function requestIncidents(rules: AnyRule | readonly AnyRule[], lines: string[], ruleId?: string): Incident[] {
  const list = Array.isArray(rules) ? (rules as readonly AnyRule[]) : [rules as AnyRule];
  const id = ruleId ?? (list[0] as AnyRule).id;
  return analyze(`${lines.join('\n')}\n`, { rules: list, kind: 'request' }).filter((i) => i.rule === id);
}

export interface RealEntry extends CorpusEntry {
  layout: string;
}

/** Every entry of corpus.json. */
export function corpus(): RealEntry[] {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, 'real', 'corpus.json'), 'utf8')) as RealEntry[];
}

/** The incidents of `rule` over one real excerpt, read as the kind its content shows (nexus.log or request.log). */
export function realIncidents(rule: AnyRule, file: string): Incident[] {
  const bytes = fs.readFileSync(path.join(FIXTURES, 'real', file));
  return analyze(bytes, { rules: [rule], kind: kindOfContent(bytes) }).filter((i) => i.rule === rule.id);
}

/** Files of the corpus that neither expect the class nor list it as not conclusive: a rule of that class must stay silent on them. */
export function filesWithout(classId: string): string[] {
  return corpus()
    .filter((e) => !e.expected.some((x) => x.class === classId) && !e.notConclusive.includes(classId))
    .map((e) => e.file);
}
