/**
 * Pieces of text the JVM, disk and database rules share: where a literal sits in an event (its
 * message or one of its exception lines), the names a path gives away (data directory, blob
 * store, database), sizes as the JVM and Elasticsearch print them. Parsed with indexOf only.
 */
import type { AnyEvent, NexusEvent } from '../../events/log-event';
import { storeOfPath } from './blobstore-missing-blob';
import { asException, textsOf } from './exception-lines';

/** The event as a nexus.log (or task log) event, or undefined. */
export function nexusEventOf(event: AnyEvent): NexusEvent | undefined {
  return event.kind === 'nexus' || event.kind === 'task' ? event : undefined;
}

/** The server an event comes from: its HA node, or `nexus` on a single server. */
export function serverOf(event: NexusEvent): string {
  return event.node ?? 'nexus';
}

/** ` on node-b` for an HA node; nothing on a single server (`nexus`), where it would only repeat the product's name. */
export function onServer(server: string): string {
  return server === 'nexus' ? '' : ` on ${server}`;
}

/** `text` cut to `max` characters (an ellipsis marks the cut). */
export function cut(text: string, max = 240): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed;
}

/**
 * The value quoted right after `marker`: between the `quote` that follows it and the next one
 * (`quotedValue("for user \"nexus\"", 'for user ', '"')` -> `nexus`), or null. Any quote character,
 * unlike exception-lines' `quotedAfter`, whose prefix carries its opening `'`.
 */
export function quotedValue(text: string, marker: string, quote = "'", from = 0): string | null {
  const at = text.indexOf(marker, from);
  if (at === -1) return null;
  const open = at + marker.length;
  if (text[open] !== quote) return null;
  const close = text.indexOf(quote, open + 1);
  return close === -1 ? null : text.slice(open + 1, close);
}

/** The exception class a line names first (`java.io.IOException` of `Caused by: java.io.IOException: ...`), or null. */
export function exceptionClassOf(line: string): string | null {
  const exception = asException(line);
  if (exception === null) return null;
  const colon = exception.indexOf(':');
  return colon === -1 ? exception : exception.slice(0, colon);
}

/** Backslashes to slashes, so Windows paths read like the others. */
function slashes(path: string): string {
  return path.replace(/\\/g, '/');
}

/** `/nexus-data/db/component[/...]` -> `component`; `/nexus-data/db/nexus.mv.db` -> `nexus`; else null. */
export function databaseOfPath(path: string): string | null {
  const normalized = slashes(path);
  const at = normalized.lastIndexOf('/db/');
  if (at === -1) return null;
  let name = normalized.slice(at + 4);
  const slash = name.indexOf('/');
  if (slash !== -1) name = name.slice(0, slash);
  for (const suffix of ['.mv.db', '.h2.db', '.lock.db', '.trace.db']) if (name.endsWith(suffix)) name = name.slice(0, -suffix.length);
  return name === '' ? null : name;
}

/** The blob store a path is in (`/nexus-data/blobs/<store>/...`), or null. */
export function blobStoreOfPath(path: string): string | null {
  return storeOfPath(slashes(path));
}

/** Folders of the Nexus data directory: a path under one of them names the data directory. */
const DATA_FOLDERS = ['/blobs/', '/db/', '/elasticsearch/', '/log/', '/tmp/', '/cache/', '/orient/', '/keystores/', '/etc/', '/backup/', '/restore-from-backup/'];

/**
 * The directory a full-disk path stands for: the Nexus data directory when the path is inside
 * one of its folders (`/nexus-data/blobs/default/...` -> `/nexus-data`), else the path's folder.
 */
export function volumeOfPath(path: string): string {
  const normalized = slashes(path);
  let best = -1;
  for (const folder of DATA_FOLDERS) {
    const at = normalized.indexOf(folder);
    if (at > 0 && (best === -1 || at < best)) best = at;
  }
  if (best > 0) return normalized.slice(0, best);
  const slash = normalized.lastIndexOf('/');
  return slash > 0 ? normalized.slice(0, slash) : normalized;
}

/** The longest common folder of two folders (`/a/b` and `/a/c` -> `/a`; nothing in common -> `/`). */
export function commonFolder(a: string, b: string): string {
  if (a === b) return a;
  const left = a.split('/');
  const right = b.split('/');
  const common: string[] = [];
  for (let i = 0; i < Math.min(left.length, right.length) && left[i] === right[i]; i++) common.push(left[i] as string);
  const joined = common.join('/');
  return joined === '' ? '/' : joined;
}

/** Whether a token looks like a file path (`/x`, `C:\x`, `C:/x`). */
export function looksLikePath(token: string): boolean {
  return token.startsWith('/') || /^[A-Za-z]:[\\/]/.test(token);
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };

/** `1.5gb`, `899.8mb`, `0b`, `2621 MB`, `42` (bytes) -> bytes; null when it is not a size (`unknown`). */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?b)?\s*$/i.exec(text);
  if (match === null) return null;
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (UNITS[unit] as number);
}

/** Bytes for a person: `2.0 GB`, `512 MB`, `0 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit] as string}`;
}

/** `7.3s`, `850ms`, `1.2m`, `30000ms` -> ms; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)(ms|s|m|h)\s*$/.exec(text);
  if (match === null) return null;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * factor;
}

/** Adds a value to a short list (at most `max`, no repeats); returns the list. */
export function remember(list: string[], value: string | null, max = 5): string[] {
  if (value !== null && value !== '' && list.length < max && !list.includes(value)) list.push(value);
  return list;
}

/** The key of the largest count. */
export function mostCounted<K extends string>(counts: Partial<Record<K, number>>, fallback: K): K {
  let best = fallback;
  let most = -1;
  for (const [name, n] of Object.entries(counts) as Array<[K, number]>) {
    if (n > most) {
      best = name;
      most = n;
    }
  }
  return best;
}

/**
 * The database a line names: OrientDB's `DB name="security"`, `in storage 'security'`,
 * `plocal:/nexus-data/db/component`, `local storage '/nexus-data/db/security'`, `to database 'OSystem'`,
 * or a quoted H2 file `"/nexus-data/db/nexus.mv.db"`; null when none.
 */
export function databaseNameIn(line: string): string | null {
  const named = quotedValue(line, 'DB name=', '"') ?? quotedValue(line, 'in storage ') ?? quotedValue(line, 'to database ') ?? quotedValue(line, 'database ', '"');
  if (named !== null && named !== '') return named.includes('/') || named.includes('\\') ? databaseOfPath(named) : named;
  for (const marker of ['plocal:', "local storage '", ': "', '"']) {
    const at = line.indexOf(marker);
    if (at === -1) continue;
    let end = at + marker.length;
    while (end < line.length && !" '\"`,;)]’".includes(line[end] as string)) end++;
    // `in storage plocal:/nexus-data/db/component: 2.2.37` (backticks lost in a paste): the colon ends it.
    const path = line.slice(at + marker.length, end).replace(/:$/, '');
    if (looksLikePath(path)) {
      const name = databaseOfPath(path);
      if (name !== null) return name;
    }
  }
  return null;
}

/** The database an event names in its message or exception lines, or null. */
export function databaseNameOf(event: NexusEvent): string | null {
  for (const text of textsOf(event)) {
    const name = databaseNameIn(text);
    if (name !== null) return name;
  }
  return null;
}
