/**
 * What an input holds, from its name and, when the name does not say, its first lines: a
 * request.log renamed or pasted still reads as one. Names: `request*.log*`, `outbound-request*.log*`,
 * `audit*.log*` (or under `audit/`), anything under `tasks/` (task logs); everything else is
 * read as nexus.log unless its content says otherwise.
 */
import { parseAuditLine } from './audit-line';
import { parseOutboundLine, parseRequestLine } from './http-log-line';
import type { InputKind } from './log-event';
import { parseTimestamp, startsWithTimestamp } from './timestamp';

/** The kind a file name says, or undefined when it says nothing. */
export function kindOfName(name: string): InputKind | undefined {
  const normalized = name.replace(/\\/g, '/');
  const base = normalized.slice(normalized.lastIndexOf('/') + 1);
  if (/^outbound-request[^/]*\.log/.test(base)) return 'outbound';
  if (/^request[^/]*\.log/.test(base)) return 'request';
  if (/^audit[^/]*\.log/.test(base) || normalized.includes('/audit/')) return 'audit';
  if (normalized.includes('/tasks/') && base.endsWith('.log')) return 'task';
  if (/^(?:nexus|karaf|jvm|nexus_cluster)[^/]*\.log/.test(base)) return 'nexus';
  return undefined;
}

/** The kind the first lines of a text show: the kind most of its first 50 lines parse as. */
export function kindOfContent(head: Buffer): InputKind {
  const text = head.toString('utf8', 0, Math.min(head.length, 64 * 1024));
  const lines = text.split(/\r?\n|\r/).slice(0, 50).filter((line) => line.trim() !== '');
  const votes: Record<InputKind, number> = { nexus: 0, task: 0, request: 0, outbound: 0, audit: 0 };
  for (const line of lines) {
    const buf = Buffer.from(line.slice(0, 64), 'latin1');
    if (startsWithTimestamp(buf, 0, buf.length) && parseTimestamp(line) !== undefined) votes.nexus++;
    else if (parseRequestLine(line) !== undefined) votes.request++;
    else if (parseOutboundLine(line) !== undefined) votes.outbound++;
    else if (parseAuditLine(line) !== undefined) votes.audit++;
  }
  if (votes.nexus === 0 && /^Task information:/m.test(text.slice(0, 4096))) return 'task';
  let best: InputKind = 'nexus';
  for (const kind of ['request', 'outbound', 'audit'] as const) if (votes[kind] > votes[best]) best = kind;
  return best;
}

/** Epoch ms of the first record in `head` (any kind), or undefined. */
export function firstRecordTime(head: Buffer, kind: InputKind): number | undefined {
  let start = 0;
  while (start < head.length) {
    let end = head.indexOf(0x0a, start);
    if (end === -1) end = head.length;
    if (kind === 'nexus' || kind === 'task') {
      // Tolerate a container prefix: look for the timestamp in the line's first 200 bytes.
      for (let at = start; at < Math.min(end, start + 200); at++) {
        if (startsWithTimestamp(head, at, end)) return parseTimestamp(head.toString('latin1', at, Math.min(end, at + 40)))?.epochMs;
      }
    } else {
      const line = head.toString('utf8', start, end);
      const event = kind === 'request' ? parseRequestLine(line) : kind === 'outbound' ? parseOutboundLine(line) : parseAuditLine(line);
      if (event !== undefined) return event.time;
    }
    start = end + 1;
  }
  return undefined;
}

/** The kind of an input: its name's when the name says, else its content's (a renamed request.log is one). */
export function classifyKind(named: InputKind | undefined, head: Buffer): InputKind {
  if (named === 'request' || named === 'outbound' || named === 'audit') return named;
  const byContent = kindOfContent(head);
  if (named === 'task') return byContent === 'nexus' ? 'task' : byContent;
  return byContent === 'task' ? 'task' : byContent;
}
