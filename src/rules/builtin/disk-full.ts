/**
 * Rule `disk-full`: the storage Nexus writes to is full (or nearly, or read-only). One incident
 * per server while it goes on (an hour without a new line ends it), with the directories, blob
 * stores and databases named. What fails after it (blob writes, databases, search) is a
 * consequence: those rules name this one as their cause.
 *
 *   <any> WARN/ERROR ... java.io.IOException: No space left on device                        (message or exception line)
 *                    ... FileSystemException: /nexus-data/blobs/default/content/tmp/x: No space left on device
 *   OrientDB: OLowDiskSpaceException: Error occurred while executing a write operation to database 'OSystem' due to limited
 *             free space on the disk (2621 MB). The database is now working in read-only mode. ... The minimal required space is 4096 MB. (DB-4)
 *   FileBlobStore WARN File blob store 'default' is not writable. Read only: false. Usable space: 0                    (BS-5)
 *                      (Read only: true, or usable space left: a read-only file system)
 *   Elasticsearch WARN high disk watermark [90%] exceeded on [id][node][/nexus-data/elasticsearch/...] free: 1.2gb[8.1%],
 *                      shards will be relocated away from this node                                                    (DB-10)
 *   <any> ... java.nio.file.FileSystemException: /nexus-data/...: Read-only file system
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { textsOf } from './exception-lines';
import { blobStoreOfPath, commonFolder, cut, databaseNameIn, databaseNameOf, databaseOfPath, formatBytes, looksLikePath, nexusEventOf, onServer, parseSize, quotedValue, remember, serverOf, volumeOfPath } from './storage-texts';
import { between, howOften, listOf, plural } from './wording';

const NO_SPACE = 'No space left on device';
const LOW_DISK = 'OLowDiskSpaceException';
const LIMITED_SPACE = 'due to limited free space on the disk (';
const NOT_WRITABLE = "' is not writable.";
const FILE_BLOB_STORE = "File blob store '";
const WATERMARK = 'disk watermark [';
const READ_ONLY_FS = 'Read-only file system';

export type DiskKind = 'no-space' | 'orient-low-disk' | 'blobstore-no-space' | 'filesystem-read-only' | 'es-watermark';

export interface DiskSignal {
  kind: DiskKind;
  server: string;
  path: string | null;
  blobStore: string | null;
  database: string | null;
  /** Free space the line reports, in bytes. */
  freeBytes: number | null;
  /** What the line says is needed (OrientDB's 4096 MB), in bytes. */
  requiredBytes: number | null;
  /** `90%` of an Elasticsearch watermark. */
  watermark: string | null;
  line: string;
}

/** The file a `... <path>: <error>` or `... <path> (<error>)` line names before the error at `at`, or null. */
export function pathBefore(line: string, at: number): string | null {
  let end: number;
  if (line.charCodeAt(at - 1) === 0x28) end = at - 1; // `<path> (No space left on device)`
  else if (line.startsWith(': ', at - 2)) end = at - 2; // `<path>: No space left on device`
  else return null;
  const colon = line.lastIndexOf(': ', end - 1);
  const candidate = line.slice(colon === -1 ? 0 : colon + 2, end).trim();
  return looksLikePath(candidate) ? candidate : null;
}

/** A path quoted after the error (H2 prints the file after the message): `...device"; "/nexus-data/db/nexus.mv.db"`. */
function quotedPathAfter(line: string, at: number): string | null {
  const quoted = quotedValue(line.slice(at, at + 400), '; ', '"');
  return quoted !== null && looksLikePath(quoted) ? quoted : null;
}

function signalOfPath(kind: DiskKind, server: string, path: string | null, line: string): DiskSignal {
  return {
    kind,
    server,
    path,
    blobStore: path === null ? null : blobStoreOfPath(path),
    database: path === null ? null : databaseOfPath(path),
    freeBytes: kind === 'no-space' ? 0 : null,
    requiredBytes: null,
    watermark: null,
    line: cut(line, 300),
  };
}

/** `... to database 'OSystem' due to limited free space on the disk (2621 MB) ... The minimal required space is 4096 MB.` */
export function parseLowDiskSpace(line: string, server: string): DiskSignal | undefined {
  const at = line.indexOf(LIMITED_SPACE);
  if (at === -1 && !line.includes(LOW_DISK)) return undefined;
  // Without its usual text (a cut line), the exception alone still says it.
  const database = at === -1 ? databaseNameIn(line) : quotedValue(line.slice(0, at), 'database ');
  const free = at === -1 ? null : between(line, '(', ')', at + LIMITED_SPACE.length - 1);
  const required = at === -1 ? null : between(line, 'The minimal required space is ', '.', at);
  return {
    kind: 'orient-low-disk',
    server,
    path: null,
    blobStore: null,
    database,
    freeBytes: free === null ? null : parseSize(free),
    requiredBytes: required === null ? null : parseSize(required),
    watermark: null,
    line: cut(line, 300),
  };
}

/** `File blob store 'x' is not writable. Read only: false. Usable space: 0` (or `is not writable.` with an exception after it). */
export function parseBlobStoreNotWritable(event: NexusEvent, server: string): DiskSignal | undefined {
  const message = event.message;
  const start = message.indexOf(FILE_BLOB_STORE);
  const end = start === -1 ? -1 : message.indexOf(NOT_WRITABLE, start + FILE_BLOB_STORE.length);
  if (end === -1) return undefined;
  const blobStore = message.slice(start + FILE_BLOB_STORE.length, end);
  const readOnly = between(`${message}.`, 'Read only: ', '.', end);
  const usable = between(`${message} `, 'Usable space: ', ' ', end);
  let kind: DiskKind;
  let freeBytes: number | null = null;
  if (readOnly !== null || usable !== null) {
    freeBytes = usable === null || !/^\d+$/.test(usable) ? null : Number(usable);
    kind = readOnly !== 'true' && freeBytes === 0 ? 'blobstore-no-space' : 'filesystem-read-only';
  } else {
    // `is not writable.` with the IOException: only a full or read-only file system is this rule's.
    const trace = event.continuation.join('\n');
    if (trace.includes(NO_SPACE)) kind = 'blobstore-no-space';
    else if (trace.includes(READ_ONLY_FS)) kind = 'filesystem-read-only';
    else return undefined;
  }
  return { kind, server, path: null, blobStore, database: null, freeBytes, requiredBytes: null, watermark: null, line: cut(message, 300) };
}

/** `high disk watermark [90%] exceeded on [id][node][/path] free: 1.2gb[8.1%], shards will be relocated away from this node`. */
export function parseWatermark(message: string, server: string): DiskSignal | undefined {
  const at = message.indexOf(WATERMARK);
  if (at === -1) return undefined;
  const level = message.slice(Math.max(0, at - 12), at);
  if (!level.endsWith('high ') && !level.endsWith('flood stage ')) return undefined; // the low watermark only stops new replicas
  const watermark = between(message, '[', ']', at + WATERMARK.length - 1);
  const on = message.indexOf(' exceeded on [', at);
  // `[node id][node name][path]`: the path is the third part.
  const parts: string[] = [];
  for (let i = on === -1 ? -1 : on + 13; i !== -1 && parts.length < 3 && message.charCodeAt(i) === 0x5b; ) {
    const close = message.indexOf(']', i);
    if (close === -1) break;
    parts.push(message.slice(i + 1, close));
    i = close + 1;
  }
  const path = parts[2] ?? null;
  const free = between(message, 'free: ', '[', at);
  return {
    kind: 'es-watermark',
    server,
    path: path !== null && looksLikePath(path) ? path : null,
    blobStore: null,
    database: null,
    freeBytes: free === null ? null : parseSize(free),
    requiredBytes: null,
    watermark,
    line: cut(message, 300),
  };
}

export function parseDiskFull(event: NexusEvent): DiskSignal | undefined {
  const server = serverOf(event);
  if (event.message.includes(NOT_WRITABLE)) {
    const blob = parseBlobStoreNotWritable(event, server);
    if (blob !== undefined) return blob;
  }
  if (event.message.includes(WATERMARK)) return parseWatermark(event.message, server);
  for (const text of textsOf(event)) {
    if (text.includes(LIMITED_SPACE) || text.includes(LOW_DISK)) {
      const low = parseLowDiskSpace(text, server);
      if (low !== undefined) return low.database === null ? { ...low, database: databaseNameOf(event) } : low;
    }
    let at = text.indexOf(NO_SPACE);
    if (at !== -1) return signalOfPath('no-space', server, pathBefore(text, at) ?? quotedPathAfter(text, at), text);
    at = text.indexOf(READ_ONLY_FS);
    if (at !== -1) return signalOfPath('filesystem-read-only', server, pathBefore(text, at), text);
  }
  return undefined;
}

interface State {
  server: string;
  byKind: Partial<Record<DiskKind, number>>;
  /** The folder the paths have in common (the data directory, usually). */
  directory: string | null;
  blobStores: string[];
  databases: string[];
  freeBytes: number | null;
  requiredBytes: number | null;
  watermark: string | null;
  firstLine: string;
}

/** The cause the worst of the signals names. */
function causeOf(byKind: State['byKind']): 'disk-full' | 'orientdb-low-disk-space' | 'filesystem-read-only' | 'disk-high-watermark' {
  if (byKind['no-space'] !== undefined || byKind['blobstore-no-space'] !== undefined) return 'disk-full';
  if (byKind['orient-low-disk'] !== undefined) return 'orientdb-low-disk-space';
  if (byKind['filesystem-read-only'] !== undefined) return 'filesystem-read-only';
  return 'disk-high-watermark';
}

export const diskFull: Rule<DiskSignal, State> = {
  id: 'disk-full',
  title: 'Disk full (or nearly, or read-only) under the data directory, a blob store or a database',
  severity: 'critical',
  category: 'storage',
  reads: [{ levels: ['ERROR', 'WARN'], literals: [NO_SPACE, LOW_DISK, LIMITED_SPACE, NOT_WRITABLE, WATERMARK, READ_ONLY_FS], continuation: true }],
  windowMs: 60 * 60_000,
  distinctLimit: 10,

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseDiskFull(nexus);
  },

  key(signal) {
    return signal.server;
  },

  open(signal) {
    return { server: signal.server, byKind: {}, directory: null, blobStores: [], databases: [], freeBytes: null, requiredBytes: null, watermark: null, firstLine: signal.line };
  },

  distinct(signal) {
    return signal.path === null ? undefined : { path: signal.path };
  },

  add(state, signal) {
    state.byKind[signal.kind] = (state.byKind[signal.kind] ?? 0) + 1;
    if (signal.path !== null) {
      const volume = volumeOfPath(signal.path);
      state.directory = state.directory === null ? volume : commonFolder(state.directory, volume);
    }
    remember(state.blobStores, signal.blobStore, 10);
    remember(state.databases, signal.database, 10);
    if (signal.freeBytes !== null) state.freeBytes = state.freeBytes === null ? signal.freeBytes : Math.min(state.freeBytes, signal.freeBytes);
    state.requiredBytes ??= signal.requiredBytes;
    state.watermark ??= signal.watermark;
  },

  describe(state, group) {
    const cause = causeOf(state.byKind);
    const subject =
      state.directory !== null
        ? { type: 'directory' as const, name: state.directory }
        : state.blobStores[0] !== undefined
          ? { type: 'blobstore' as const, name: state.blobStores[0] }
          : state.databases[0] !== undefined
            ? { type: 'database' as const, name: state.databases[0] }
            : { type: 'server' as const, name: state.server };
    const where =
      subject.type === 'directory' ? `The disk under ${subject.name}` : subject.type === 'blobstore' ? `The storage of blob store ${subject.name}` : subject.type === 'database' ? `The disk of database ${subject.name}` : `A disk${onServer(state.server) || ' of Nexus'}`;
    const free = state.freeBytes === null ? '' : ` (${formatBytes(state.freeBytes)} free${state.requiredBytes === null ? '' : `, ${formatBytes(state.requiredBytes)} required`})`;
    const what = {
      'disk-full': `is full${free}`,
      'orientdb-low-disk-space': `is nearly full${free}: OrientDB switched ${state.databases.length > 0 ? `database ${listOf(state.databases)}` : 'the database'} to read-only`,
      'filesystem-read-only': 'is not writable: the file system is read-only',
      'disk-high-watermark': `passed Elasticsearch's high disk watermark${state.watermark === null ? '' : ` (${state.watermark} used)`}${free}`,
    }[cause];
    const paths = group.distinct.path ?? { values: [], total: 0 };
    const also = [...(state.blobStores.length > 0 && subject.type !== 'blobstore' ? [`blob store ${listOf(state.blobStores)}`] : []), ...(state.databases.length > 0 && subject.type !== 'database' && cause !== 'orientdb-low-disk-space' ? [`database ${listOf(state.databases)}`] : [])];
    const kinds = Object.entries(state.byKind).map(([name, n]) => `${name} ${n}`);
    return {
      subject,
      fingerprint: [state.server, subject.type, subject.name, cause],
      summary: `${where} ${what}: ${howOften(group.count, group.firstTime, group.lastTime)}${paths.total > 0 ? ` on ${plural(paths.total, 'file')}` : ''}${also.length > 0 ? `, hitting ${also.join(' and ')}` : ''}.`,
      severity: cause === 'disk-high-watermark' ? 'error' : 'critical',
      facts: {
        ...(state.directory === null ? {} : { directory: state.directory }),
        ...(state.blobStores.length > 0 ? { 'blob stores': state.blobStores } : {}),
        ...(state.databases.length > 0 ? { databases: state.databases } : {}),
        ...(state.freeBytes === null ? {} : { free: formatBytes(state.freeBytes) }),
        ...(state.requiredBytes === null ? {} : { required: formatBytes(state.requiredBytes) }),
        ...(kinds.length > 1 ? { 'by signal': kinds } : {}),
      },
      diagnosis: {
        cause,
        explanation: {
          'disk-full':
            'The file system Nexus writes to has no space left: uploads, proxy downloads, database writes, the search index and logs fail until space is freed. A database that was writing when the disk filled may be damaged (rule database-corrupted).',
          'orientdb-low-disk-space':
            'OrientDB needs at least 4096 MB free on the database volume (storage.diskCache.diskFreeSpaceLimit); below that it refuses writes and switches the database to read-only, so every write in Nexus fails until space is freed and the database reopened.',
          'filesystem-read-only':
            'The file system is mounted read-only (or was remounted read-only by the kernel after I/O errors), so Nexus cannot write blobs or database files.',
          'disk-high-watermark':
            'The volume of the embedded Elasticsearch is over its high disk watermark (90% used): Elasticsearch stops allocating shards there, search indexes can go RED, and the disk is close to full for everything else on it.',
        }[cause] + ` First line: ${state.firstLine}`,
        confidence: 'high',
        remediation:
          cause === 'filesystem-read-only'
            ? [
                `Find why the file system is read-only: the mount options of ${state.directory ?? 'the data directory'} (findmnt), kernel messages (dmesg: I/O errors make ext4/xfs remount read-only), the NFS or SAN export, a volume mounted read-only in the container.`,
                'Repair the file system (fsck) or the storage behind it, remount it read-write, then restart Nexus.',
                'After I/O errors, check the databases (rule database-corrupted) and run "Repair - Reconcile component database from blob store" if blobs were lost.',
              ]
            : [
                `Free space on the volume of ${subject.type === 'directory' ? subject.name : 'the Nexus data directory'} now (df -h; du -sh <data-dir>/* to find what grew: blobs, db, elasticsearch, log, tmp, backups), or extend the volume.`,
                'Free space for good: cleanup policies on the repositories, then the "Admin - Compact blob store" task (deleted blobs only leave the disk then); remove old database backups and logs; move blob stores to a larger volume.',
                cause === 'orientdb-low-disk-space'
                  ? 'Restart Nexus once more than 4096 MB are free: OrientDB only leaves read-only mode when the database is reopened.'
                  : 'Restart Nexus if database writes failed, and check the databases (rule database-corrupted) and blob stores (run "Repair - Reconcile component database from blob store") for damage done while the disk was full.',
                'Monitor the free space of the data volume and alert well before it is full (Nexus needs at least 4 GB free for OrientDB and 10% for Elasticsearch).',
              ],
        references: [{ title: 'Sonatype Nexus Repository: system requirements, disk space', url: 'https://help.sonatype.com/en/sonatype-nexus-repository-system-requirements.html' }],
      },
    };
  },
};
