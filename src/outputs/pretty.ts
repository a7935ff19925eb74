/** A block per incident for a person at a terminal: what failed, where, why, and the fix. */
import type { Incident } from '../incidents/incident';
import { isDockerPushIncident } from '../rules/builtin/docker-manifest-missing-layers';
import { formatImageRef } from '../rules/builtin/docker-messages';

export interface PrettyOptions {
  color: boolean;
  /** Wrap width. Default 80. */
  width?: number;
}

const LABEL_WIDTH = 12;

export function formatPretty(incident: Incident, options: PrettyOptions): string {
  const width = Math.max(40, options.width ?? 80);
  const paint = (code: string, text: string): string => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  if (incident.lifecycle !== 'closed') {
    // An incident still open (--lifecycle): its summary only; the full block comes when it closes.
    const head = `${paint('33', `~ ${incident.lifecycle} #${incident.revision}`)} ${incident.lastSeen}  ${incident.rule}`;
    return `${[head, ...wrap(incident.summary, width - 2).map((line) => `  ${line}`)].join('\n')}\n`;
  }
  const out: string[] = [];
  const field = (label: string, value: string): void => {
    const lines = wrap(value, width - LABEL_WIDTH);
    lines.forEach((line, index) => {
      const head = index === 0 ? paint('2', label.padEnd(LABEL_WIDTH)) : ' '.repeat(LABEL_WIDTH);
      out.push(`${head}${line}`);
    });
  };

  const marker = incident.severity === 'critical' || incident.severity === 'error' ? paint('31;1', 'x') : paint('33;1', '!');
  out.push(`${marker} ${paint('1', incident.firstSeen)}  ${incident.rule}  ${paint('31', incident.severity)}`);
  for (const line of wrap(incident.summary, width - 2)) out.push(`  ${line}`);
  out.push('');

  if (isDockerPushIncident(incident)) {
    if (incident.repository !== null) field('repository', incident.repository);
    if (incident.image !== null) field('image', formatImageRef(incident.image, incident.reference));
    if (incident.request !== null) {
      field('request', `${incident.request.method} ${incident.request.path} -> ${incident.request.status}`);
    }
    if (incident.missingLayers.length > 0) {
      const shown = incident.missingLayers.map(shortDigest).join(' ');
      const more = incident.missingLayersOmitted > 0 ? ` (+${incident.missingLayersOmitted} more)` : '';
      field(`missing (${incident.missingLayers.length + incident.missingLayersOmitted})`, shown + more);
    }
    if (incident.layerChecks.length > 0) {
      const by = [...new Set(incident.layerChecks.map((c) => c.repository ?? 'a connector port'))].join(', ');
      field('checked', `${incident.layerChecks.length} layer check(s) answered 200 by ${by} (request.log)`);
    }
    if (incident.client !== null) {
      field('client', `${incident.client.ip}${incident.client.user === null ? '' : ` as ${incident.client.user}`}` + (incident.client.userAgent === null ? '' : `, ${incident.client.userAgent}`));
    }
  }
  const who = [incident.user === null ? null : `user ${incident.user}`, incident.thread === null ? null : `thread ${incident.thread}`]
    .filter((part): part is string => part !== null)
    .join(', ');
  if (who !== '') field('who', who + (incident.node === null ? '' : ` on ${incident.node}`));
  field('when', incident.firstSeen === incident.lastSeen ? incident.firstSeen : `${incident.firstSeen} .. ${incident.lastSeen}`);
  if (incident.occurrences > 1) field('recurring', `occurrence ${incident.occurrences} of this failure (same fingerprint ${incident.fingerprint})`);

  const { diagnosis } = incident;
  field('cause', `${diagnosis.cause} (${diagnosis.confidence} confidence)`);
  field('', diagnosis.explanation);
  diagnosis.remediation.forEach((step, index) => field(index === 0 ? 'fix' : '', `${index + 1}. ${step}`));
  if (incident.evidence.length > 0) {
    // Per source, in order of first use: `nexus.log:8-16, request.log:3-12`.
    const lines = new Map<string, number[]>();
    for (const e of incident.evidence) lines.set(e.source, [...(lines.get(e.source) ?? []), e.line]);
    const ranges = [...lines].map(([source, numbers]) => {
      const low = Math.min(...numbers);
      const high = Math.max(...numbers);
      return `${source}:${low === high ? low : `${low}-${high}`}`;
    });
    const omitted = incident.evidenceOmitted > 0 ? `, ${incident.evidenceOmitted} more not kept` : '';
    const count = incident.evidence.length === 1 ? '1 line' : `${incident.evidence.length} lines`;
    field('evidence', `${ranges.join(', ')} (${count}${omitted})`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

/** `sha256:6414378b6477` — enough to recognise a layer, short enough for one line of several. */
function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon === -1 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
}

/** Greedy word wrap; a word longer than the width is broken, after a `/` where one is near. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).flatMap((w) => breakLongWord(w, width))) {
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
