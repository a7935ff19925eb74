/**
 * audit.log (3.16+): one JSON object per line, keys `timestamp`, `nodeId`, `initiator`, `domain`,
 * `type`, `context`, `thread`, `attributes`; `timestamp` in the nexus.log format
 * (`yyyy-MM-dd HH:mm:ss,SSSZ`), `initiator` `{userId}/{remoteIp}` when a request is known.
 */
import type { AuditEvent } from './log-event';
import { parseTimestamp } from './timestamp';

type Origin = { source: string; line: number; offset: number };

export function parseAuditLine(text: string, origin: Origin = { source: '-', line: 0, offset: 0 }): AuditEvent | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    record = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const string = (key: string): string | null => (typeof record[key] === 'string' ? (record[key] as string) : null);
  const timestamp = string('timestamp');
  const time = timestamp === null ? undefined : parseTimestamp(timestamp)?.epochMs;
  if (time === undefined) return undefined;
  const initiator = string('initiator') ?? '';
  const slash = initiator.lastIndexOf('/');
  const attributes = record.attributes !== null && typeof record.attributes === 'object' ? (record.attributes as Record<string, unknown>) : {};
  const userId = typeof attributes.userId === 'string' ? attributes.userId : slash === -1 ? initiator || null : initiator.slice(0, slash);
  const remoteIp = typeof attributes.remoteIp === 'string' ? attributes.remoteIp : slash === -1 ? null : initiator.slice(slash + 1);
  return {
    kind: 'audit',
    ...origin,
    time,
    text,
    domain: string('domain') ?? '',
    type: string('type') ?? '',
    initiator,
    userId,
    remoteIp,
    nodeId: string('nodeId'),
    thread: string('thread'),
    attributes,
  };
}
