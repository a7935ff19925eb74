/**
 * `--summary`: the triage view, after the run. Server runs first (restarts split the
 * timeline), then what to do first (the problems nothing else caused, most severe and largest
 * first, each with its cause and first fix), then problems by class, failures that recur, and
 * what was read. Memory grows with distinct problems, not with incidents or lines.
 */
import { thousands } from '../format-number';
import type { AnalyzerStats } from '../incidents/stats';
import { SEVERITIES, type Incident, type Severity } from '../incidents/incident';
import { subjectLabel, visible, wrap } from './pretty';

export interface SummaryContext {
  stats: AnalyzerStats;
  inputs: number;
  width?: number;
  color?: boolean;
}

/** What the triage view keeps of an incident. */
export interface Problem {
  id: string;
  rule: string;
  title: string;
  category: string;
  severity: Severity;
  summary: string;
  subject: string | null;
  cause: string;
  fix: string | null;
  count: number;
  /** null when its lines carry no time. */
  firstSeen: string | null;
  lastSeen: string | null;
  causes: string[];
  docs: string;
}

/** One problem in "what to do first": the incidents of a rule and cause, nothing else causing them. */
export interface RootProblem extends Problem {
  incidents: number;
  /** The first few subjects, and how many. */
  subjects: string[];
  subjectCount: number;
  /** Incidents that name one of these as their cause. */
  consequences: number;
  /** Log lines over all of them. */
  lines: number;
}

interface Tally {
  label: string;
  incidents: number;
  lines: number;
  first: string | null;
  last: string | null;
}

/** Problems kept for "what to do first"; more are counted. */
const MAX_PROBLEMS = 500;
const MAX_RUNS = 200;
/** Distinct fingerprints and causes counted at most: the summary's memory stays bounded whatever the run. */
const MAX_TALLIES = 10_000;

export function problemOf(incident: Incident): Problem {
  return {
    id: incident.id,
    rule: incident.rule,
    title: incident.title,
    category: incident.category,
    severity: incident.severity,
    summary: incident.summary,
    subject: subjectLabel(incident),
    cause: incident.diagnosis.cause,
    fix: incident.diagnosis.remediation[0] ?? null,
    count: incident.count,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
    causes: incident.causes.slice(),
    docs: incident.docs,
  };
}

/** Most severe first, then the largest, then the earliest. */
export function byImportance(a: Problem, b: Problem): number {
  return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || b.count - a.count || (a.firstSeen ?? '').localeCompare(b.firstSeen ?? '');
}

export class SummaryCollector {
  private total = 0;
  private first: string | null = null;
  private last: string | null = null;
  private readonly runs: Problem[] = [];
  private problems: Problem[] = [];
  private problemsLeftOut = 0;
  /** Incidents naming each cause id: how much a cause explains. */
  private readonly consequenceCount = new Map<string, number>();
  private readonly byCategory = new Map<string, Tally>();
  private readonly byFingerprint = new Map<string, Tally>();
  private readonly bySeverity = new Map<Severity, number>();

  add(incident: Incident): void {
    this.total++;
    if (incident.firstSeen !== null && (this.first === null || incident.firstSeen < this.first)) this.first = incident.firstSeen;
    if (incident.lastSeen !== null && (this.last === null || incident.lastSeen > this.last)) this.last = incident.lastSeen;
    this.bySeverity.set(incident.severity, (this.bySeverity.get(incident.severity) ?? 0) + 1);
    for (const cause of incident.causes) {
      const seen = this.consequenceCount.get(cause);
      if (seen !== undefined || this.consequenceCount.size < MAX_TALLIES) this.consequenceCount.set(cause, (seen ?? 0) + 1);
    }
    const problem = problemOf(incident);
    if (incident.subject?.type === 'server' && incident.category === 'server') {
      if (this.runs.length < MAX_RUNS) this.runs.push(problem);
    } else {
      this.problems.push(problem);
      if (this.problems.length > MAX_PROBLEMS * 2) {
        this.problems.sort(byImportance);
        this.problemsLeftOut += this.problems.length - MAX_PROBLEMS;
        this.problems = this.problems.slice(0, MAX_PROBLEMS);
      }
    }
    tally(this.byCategory, incident.category, incident);
    // Past the bound, only fingerprints already counted go on counting (a recurring one is seen early).
    if (this.byFingerprint.has(incident.fingerprint) || this.byFingerprint.size < MAX_TALLIES) {
      tally(this.byFingerprint, incident.fingerprint, incident, `${incident.rule}  ${subjectLabel(incident) ?? ''}`.trim());
    }
  }

  /**
   * The problems nothing else caused, most important first: incidents of one rule and cause
   * together (a storm of failed pushes of one kind is one problem), with how many incidents, which
   * subjects, and how many other incidents they explain.
   */
  rootProblems(limit = 10): RootProblem[] {
    const groups = new Map<string, RootProblem>();
    for (const p of this.problems) {
      if (p.causes.length > 0 || p.severity === 'info') continue;
      const key = `${p.rule}\u0000${p.cause}`;
      const consequences = this.consequenceCount.get(p.id) ?? 0;
      const group = groups.get(key);
      if (group === undefined) {
        groups.set(key, { ...p, incidents: 1, subjects: p.subject === null ? [] : [p.subject], subjectCount: p.subject === null ? 0 : 1, consequences, lines: p.count });
        continue;
      }
      group.incidents++;
      group.consequences += consequences;
      group.lines += p.count;
      if (p.subject !== null && !group.subjects.includes(p.subject)) {
        group.subjectCount++;
        if (group.subjects.length < 3) group.subjects.push(p.subject);
      }
      if (byImportance(p, group) < 0) Object.assign(group, { id: p.id, severity: p.severity, summary: p.summary, fix: p.fix, docs: p.docs, firstSeen: p.firstSeen, lastSeen: p.lastSeen });
    }
    return [...groups.values()]
      .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || b.consequences - a.consequences || b.incidents - a.incidents || b.lines - a.lines)
      .slice(0, limit);
  }

  /** Server runs, in time order. */
  serverRuns(): Problem[] {
    return this.runs.slice().sort((a, b) => (a.firstSeen ?? '').localeCompare(b.firstSeen ?? ''));
  }

  format(context: SummaryContext): string {
    const width = Math.max(60, context.width ?? 80);
    const paint = (code: string, text: string): string => (context.color === true ? `\u001b[${code}m${text}\u001b[0m` : text);
    const { stats } = context;
    const out: string[] = [paint('1', 'Summary')];
    const files = context.inputs === 1 ? '1 input' : `${context.inputs} inputs`;
    const severities = SEVERITIES.filter((s) => this.bySeverity.has(s)).map((s) => `${this.bySeverity.get(s)} ${s}`);
    out.push(`  ${plural(this.total, 'incident')}${severities.length > 0 ? ` (${severities.join(', ')})` : ''} from ${thousands(stats.lines)} lines in ${files}`);
    if (this.first !== null && this.last !== null) out.push(`  first ${shortTime(this.first)} UTC, last ${shortTime(this.last)} UTC`);

    const runs = this.serverRuns();
    if (runs.length > 0) {
      out.push('', paint('1', '  Server runs'));
      for (const run of runs) {
        const marker = run.severity === 'info' ? ' ' : paint('31', 'x');
        out.push(`  ${marker} ${shortTime(run.firstSeen)} .. ${shortTime(run.lastSeen)}`);
        for (const line of wrap(run.summary, width - 6)) out.push(`      ${line}`);
      }
    }
    if (this.total === 0) return `${out.join('\n')}\n`;

    const roots = this.rootProblems(8);
    if (roots.length > 0) {
      out.push('', paint('1', '  What to do first'));
      roots.forEach((problem, index) => {
        const head = `${String(index + 1).padStart(4)}. ${problem.severity}  ${problem.title}`;
        out.push(paint(problem.severity === 'critical' || problem.severity === 'error' ? '31' : '33', fit(visible(head), width).trimEnd()));
        if (problem.subjects.length > 0) {
          const more = problem.subjectCount > problem.subjects.length ? ` and ${problem.subjectCount - problem.subjects.length} more` : '';
          wrap(`${problem.subjects.join(', ')}${more}`, width - 15).forEach((line, i) => out.push(`        ${i === 0 ? 'about: ' : '       '}${line}`));
        }
        const many = problem.incidents > 1 ? `${problem.incidents} incidents, ${thousands(problem.lines)} lines. Worst: ` : '';
        for (const line of wrap(`${many}${problem.summary}`, width - 8)) out.push(`        ${line}`);
        out.push(`        cause: ${problem.cause}${problem.consequences > 0 ? `; explains ${plural(problem.consequences, 'other incident')}` : ''}`);
        if (problem.fix !== null) wrap(problem.fix, width - 13).forEach((line, i) => out.push(`        ${i === 0 ? 'fix: ' : '     '}${line}`));
      });
    }

    out.push('', paint('1', '  By class'));
    out.push(`    ${'class'.padEnd(12)}${'incidents'.padStart(10)}${'lines'.padStart(12)}  last seen (UTC)`);
    for (const entry of sorted(this.byCategory)) {
      out.push(`    ${entry.label.padEnd(12)}${String(entry.incidents).padStart(10)}${thousands(entry.lines).padStart(12)}  ${shortTime(entry.last)}`);
    }

    const recurring = sorted(this.byFingerprint).filter((entry) => entry.incidents > 1);
    out.push('', paint('1', '  Recurring (same fingerprint: the same failure again)'));
    if (recurring.length === 0) out.push('    none: every failure happened once');
    for (const entry of recurring.slice(0, 15)) {
      out.push(`    ${`${entry.incidents}x`.padStart(5)}  ${fit(visible(entry.label), width - 11).trimEnd()}`);
      out.push(`           ${shortTime(entry.first)} .. ${shortTime(entry.last)} UTC`);
    }
    if (recurring.length > 15) out.push(`    ... ${recurring.length - 15} more`);
    if (this.problemsLeftOut > 0) out.push('', `  (${this.problemsLeftOut} less important incidents left out of "what to do first")`);
    out.push('', `  read: ${thousands(stats.lines)} lines, ${thousands(stats.events)} records, ${thousands(stats.relevantEvents)} relevant, ${stats.unparsedLines} unparsed`);
    return `${out.join('\n')}\n`;
  }
}

function tally(map: Map<string, Tally>, key: string, incident: Incident, label = key): void {
  const entry = map.get(key);
  if (entry === undefined) {
    map.set(key, { label, incidents: 1, lines: incident.count, first: incident.firstSeen, last: incident.lastSeen });
    return;
  }
  entry.incidents++;
  entry.lines += incident.count;
  if (incident.firstSeen !== null && (entry.first === null || incident.firstSeen < entry.first)) entry.first = incident.firstSeen;
  if (incident.lastSeen !== null && (entry.last === null || incident.lastSeen > entry.last)) entry.last = incident.lastSeen;
}

/** Most frequent first, then by name: a stable order. */
function sorted(map: Map<string, Tally>): Tally[] {
  return [...map.values()].sort((a, b) => b.incidents - a.incidents || b.lines - a.lines || a.label.localeCompare(b.label));
}

/** `2025-09-10 01:36:22` from an ISO time (UTC); `time unknown` for none. */
function shortTime(iso: string | null): string {
  return iso === null ? 'time unknown' : iso.slice(0, 19).replace('T', ' ');
}

function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}~`;
}

function plural(count: number, noun: string): string {
  return count === 1 ? `1 ${noun}` : `${thousands(count)} ${noun}s`;
}
