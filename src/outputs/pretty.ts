/**
 * A block per incident for a person at a terminal: what failed, what it is about, how often,
 * why, the fix, and the lines it rests on. Generic: every rule's incident renders through its
 * subject and facts; no output knows a rule.
 */
import { thousands } from '../format-number';
import type { Fact, Incident } from '../incidents/incident';

export interface PrettyOptions {
  color: boolean;
  /** Wrap width. Default 80. */
  width?: number;
}

/** Labels take at least 12 columns and at most 24: wide enough for `missing layers (5)`, not for a sentence. */
const MIN_LABEL_WIDTH = 12;
const MAX_LABEL_WIDTH = 24;

/** `blob store default`, `repository maven-central`. */
export function subjectLabel(incident: Pick<Incident, 'subject'>): string | null {
  if (incident.subject === null) return null;
  const type = incident.subject.type === 'blobstore' ? 'blob store' : incident.subject.type.replace(/-/g, ' ');
  return `${type} ${incident.subject.name}`;
}

/** A fact's value as one line of text. */
export function factText(value: Fact): string {
  if (value === null) return '-';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** When it happened: one time, or a span with its count and rate. */
export function whenText(incident: Incident): string {
  if (incident.firstSeen === null || incident.lastSeen === null) return `time unknown: the lines carry no timestamp${incident.count > 1 ? ` (${thousands(incident.count)} lines)` : ''}`;
  const span = incident.firstSeen === incident.lastSeen ? incident.firstSeen : `${incident.firstSeen} .. ${incident.lastSeen}`;
  if (incident.count <= 1) return span;
  const minutes = (Date.parse(incident.lastSeen) - Date.parse(incident.firstSeen)) / 60_000;
  return `${span} (${thousands(incident.count)} lines${minutes >= 1 ? `, ${incident.ratePerMinute}/min` : ''})`;
}

export function formatPretty(incident: Incident, options: PrettyOptions): string {
  const width = Math.max(40, options.width ?? 80);
  const paint = (code: string, text: string): string => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  if (incident.lifecycle !== 'closed') {
    // An incident still open (--lifecycle): its summary only; the full block comes when it closes.
    const head = `${paint('33', `~ ${incident.lifecycle} #${incident.revision}`)} ${incident.lastSeen ?? 'time unknown'}  ${incident.rule}`;
    return `${[head, ...wrap(incident.summary, width - 2).map((line) => `  ${line}`)].join('\n')}\n`;
  }
  const out: string[] = [];
  const labels = [...Object.keys(incident.facts), ...Object.entries(incident.distinct).map(([name, d]) => `${name}s (${d.total})`)];
  const LABEL_WIDTH = Math.min(MAX_LABEL_WIDTH, Math.max(MIN_LABEL_WIDTH, ...labels.map((label) => label.length + 2)));
  const field = (label: string, value: string): void => {
    const lines = wrap(value, width - LABEL_WIDTH);
    lines.forEach((line, index) => {
      const head = index === 0 ? paint('2', label.padEnd(LABEL_WIDTH)) : ' '.repeat(LABEL_WIDTH);
      out.push(`${head}${line}`);
    });
  };

  const marker = incident.severity === 'critical' || incident.severity === 'error' ? paint('31;1', 'x') : incident.severity === 'warning' ? paint('33;1', '!') : paint('36;1', 'i');
  out.push(`${marker} ${paint('1', incident.firstSeen ?? 'time unknown')}  ${incident.rule}  ${paint(incident.severity === 'info' ? '36' : '31', incident.severity)}`);
  for (const line of wrap(incident.summary, width - 2)) out.push(`  ${line}`);
  out.push('');

  const subject = subjectLabel(incident);
  if (subject !== null) field('about', subject);
  for (const [label, value] of Object.entries(incident.facts)) {
    if (Array.isArray(value) && value.length === 0) continue;
    // `about repository docker-group` already says `repository docker-group`.
    if (label === incident.subject?.type && value === incident.subject.name) continue;
    field(label.length > LABEL_WIDTH - 1 ? `${label.slice(0, LABEL_WIDTH - 2)}…` : label, factText(value));
  }
  for (const [name, distinct] of Object.entries(incident.distinct)) {
    if (distinct.total <= 1 || Object.keys(incident.facts).some((label) => label.includes(name))) continue;
    const more = distinct.total > distinct.values.length ? ` (+${distinct.total - distinct.values.length}${distinct.capped === true ? '+' : ''} more)` : '';
    const distinctLabel = `${name}s (${distinct.total})`;
    field(distinctLabel.length > LABEL_WIDTH - 1 ? `${distinctLabel.slice(0, LABEL_WIDTH - 2)}…` : distinctLabel, `${distinct.values.slice(0, 5).join(' ')}${distinct.values.length > 5 ? ' ...' : ''}${more}`);
  }
  // Loose text has neither: an empty name is no name.
  const who = [incident.user === null || incident.user === '' ? null : `user ${incident.user}`, incident.thread === null || incident.thread === '' ? null : `thread ${incident.thread}`]
    .filter((part): part is string => part !== null)
    .join(', ');
  if (who !== '') field('who', who + (incident.node === null ? '' : ` on ${incident.node}`));
  field('when', whenText(incident));
  if (incident.occurrences > 1) field('recurring', `occurrence ${incident.occurrences} of this failure (same fingerprint ${incident.fingerprint})`);
  if (incident.causes.length > 0) field('caused by', incident.causes.join(', '));
  if (incident.consequences.length > 0) field('led to', `${incident.consequences.length} incident(s): ${incident.consequences.slice(0, 4).join(', ')}${incident.consequences.length > 4 ? ' ...' : ''}`);

  const { diagnosis } = incident;
  field('cause', `${diagnosis.cause} (${diagnosis.confidence} confidence)`);
  field('', diagnosis.explanation);
  diagnosis.remediation.forEach((step, index) => field(index === 0 ? 'fix' : '', `${index + 1}. ${step}`));
  if (incident.evidence.length > 0) field('evidence', evidenceRanges(incident));
  field('rule page', incident.docs);
  out.push('');
  return `${out.join('\n')}\n`;
}

/** Per source, in order of first use: `nexus.log:8-16, request.log:3-12 (12 lines, 40 more not kept)`. */
export function evidenceRanges(incident: Pick<Incident, 'evidence' | 'evidenceOmitted'>): string {
  const lines = new Map<string, number[]>();
  for (const e of incident.evidence) lines.set(e.source, [...(lines.get(e.source) ?? []), e.line]);
  const ranges = [...lines].map(([source, numbers]) => {
    const low = Math.min(...numbers);
    const high = Math.max(...numbers);
    return `${source}:${low === high ? low : `${low}-${high}`}`;
  });
  const omitted = incident.evidenceOmitted > 0 ? `, ${thousands(incident.evidenceOmitted)} more not kept` : '';
  const count = incident.evidence.length === 1 ? '1 line' : `${incident.evidence.length} lines`;
  return `${ranges.join(', ')} (${count}${omitted})`;
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const LINE_CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

const shown = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * Control characters of log text shown, not obeyed: an escape sequence in a logged URL or user
 * must not recolour, retitle or link the operator's terminal (`\x1b` is printed as such).
 * Tabs and line ends stay: wrapping treats them as spaces.
 */
export function visible(text: string): string {
  return text.replace(CONTROLS, shown);
}

/** The same for text that must stay on one line (a file name in a message): line ends are shown too. */
export function visibleLine(text: string): string {
  return text.replace(LINE_CONTROLS, shown);
}

/** Greedy word wrap; a word longer than the width is broken, after a `/` where one is near. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of visible(text).split(/\s+/).flatMap((w) => breakLongWord(w, width))) {
    if (word === '') continue;
    if (current === '') current = word;
    else if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else {
      lines.push(current);
      current = word;
    }
  }
  if (current !== '' || lines.length === 0) lines.push(current);
  return lines;
}

function breakLongWord(word: string, width: number): string[] {
  const pieces: string[] = [];
  let rest = word;
  while (rest.length > width) {
    const slash = rest.lastIndexOf('/', width - 1);
    const cut = slash > width / 2 ? slash + 1 : width;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}
