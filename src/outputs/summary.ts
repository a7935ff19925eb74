/**
 * `--summary`: after the run, the story at a glance: incidents by rule, by repository and
 * image, failures that recur (same fingerprint), the users and clients they came from, and
 * what was read. Counts only: memory grows with distinct names, not with incidents.
 */
import type { AnalyzerStats } from '../analyzer';
import type { Incident } from '../incidents/incident';
import { isDockerPushIncident } from '../rules/builtin/docker-manifest-missing-layers';
import { formatImageRef } from '../rules/builtin/docker-messages';

interface Tally {
  label: string;
  count: number;
  first: string;
  last: string;
}

interface SubjectTally extends Tally {
  repository: string;
  image: string;
}

export interface SummaryContext {
  stats: AnalyzerStats;
  inputs: number;
  width?: number;
}

export class SummaryCollector {
  private total = 0;
  private first: string | null = null;
  private last: string | null = null;
  private readonly byRule = new Map<string, Tally>();
  private readonly bySubject = new Map<string, SubjectTally>();
  private readonly byFingerprint = new Map<string, Tally>();
  private readonly byUser = new Map<string, Tally>();
  private readonly byClient = new Map<string, Tally>();

  add(incident: Incident): void {
    this.total++;
    if (this.first === null || incident.firstSeen < this.first) this.first = incident.firstSeen;
    if (this.last === null || incident.lastSeen > this.last) this.last = incident.lastSeen;
    const { repository, image } = subjectOf(incident);
    const subject = `${repository}  ${image}`;
    tally(this.byRule, incident.rule, incident, (base) => base);
    tally(this.bySubject, subject, incident, (base) => ({ ...base, label: subject, repository, image }));
    tally(this.byFingerprint, incident.fingerprint, incident, (base) => ({ ...base, label: subject }));
    if (incident.user !== null) tally(this.byUser, incident.user, incident, (base) => base);
    const client = (incident as { client?: { ip?: string } }).client?.ip;
    if (client !== undefined) tally(this.byClient, client, incident, (base) => base);
  }

  format(context: SummaryContext): string {
    const width = Math.max(60, context.width ?? 80);
    const { stats } = context;
    const out: string[] = ['Summary'];
    const files = context.inputs === 1 ? '1 input' : `${context.inputs} inputs`;
    out.push(
      `  ${plural(this.total, 'incident')} from ${stats.lines} lines (${stats.events} events, ${stats.unparsedLines} unparsed) in ${files}`,
    );
    if (this.first !== null && this.last !== null) out.push(`  first ${shortTime(this.first)} UTC, last ${shortTime(this.last)} UTC`);
    if (this.total === 0) return `${out.join('\n')}\n`;

    out.push('', '  By rule');
    for (const entry of sorted(this.byRule)) out.push(`    ${entry.label.padEnd(width - 14)}${String(entry.count).padStart(8)}`);

    const subjects = sorted(this.bySubject);
    const repoWidth = Math.min(20, Math.max(10, ...subjects.map((entry) => entry.repository.length)));
    const imageWidth = width - 4 - repoWidth - 2 - 7 - 2 - 19;
    out.push('', '  By repository and image');
    out.push(`    ${'repository'.padEnd(repoWidth)}  ${'image'.padEnd(imageWidth)}${'count'.padStart(7)}  last seen (UTC)`);
    for (const entry of subjects) {
      out.push(`    ${fit(entry.repository, repoWidth)}  ${fit(entry.image, imageWidth)}${String(entry.count).padStart(7)}  ${shortTime(entry.last)}`);
    }

    const recurring = sorted(this.byFingerprint).filter((entry) => entry.count > 1);
    out.push('', '  Recurring failures (same fingerprint: repository, image, reference, layers)');
    if (recurring.length === 0) out.push('    none: every failure happened once');
    for (const entry of recurring) {
      out.push(`    ${`${entry.count}x`.padStart(5)}  ${fit(entry.label, width - 11).trimEnd()}`);
      out.push(`           ${shortTime(entry.first)} .. ${shortTime(entry.last)} UTC`);
    }

    out.push('', '  Top failing users');
    out.push(`    ${topList(this.byUser, width - 4)}`);
    out.push('', '  Top failing clients');
    out.push(this.byClient.size === 0 ? '    none recorded: client addresses come from request.log, not joined yet' : `    ${topList(this.byClient, width - 4)}`);
    return `${out.join('\n')}\n`;
  }
}

/** What failed: repository and image for a push, the rule otherwise. */
function subjectOf(incident: Incident): { repository: string; image: string } {
  if (!isDockerPushIncident(incident)) return { repository: '-', image: incident.rule };
  const image = incident.image === null ? '?' : formatImageRef(incident.image, incident.reference);
  return { repository: incident.repository ?? '?', image };
}

/** Counts the incident under `key`; `make` builds a new entry from the base one (label = key). */
function tally<T extends Tally>(map: Map<string, T>, key: string, incident: Incident, make: (base: Tally) => T): void {
  const entry = map.get(key);
  if (entry === undefined) {
    map.set(key, make({ label: key, count: 1, first: incident.firstSeen, last: incident.lastSeen }));
    return;
  }
  entry.count++;
  if (incident.firstSeen < entry.first) entry.first = incident.firstSeen;
  if (incident.lastSeen > entry.last) entry.last = incident.lastSeen;
}

/** Most frequent first, then by name: a stable order. */
function sorted<T extends Tally>(map: Map<string, T>): T[] {
  return [...map.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

function topList(map: Map<string, Tally>, width: number): string {
  const parts = sorted(map)
    .slice(0, 8)
    .map((entry) => `${entry.label} ${entry.count}`);
  let line = '';
  for (const part of parts) {
    const next = line === '' ? part : `${line}, ${part}`;
    if (next.length > width) break;
    line = next;
  }
  return line === '' ? 'none' : line;
}

/** `2025-09-10 01:36:22` from an ISO time (UTC). */
function shortTime(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}~`;
}

function plural(count: number, noun: string): string {
  return count === 1 ? `1 ${noun}` : `${count} ${noun}s`;
}
