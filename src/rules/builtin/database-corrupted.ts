/**
 * Rule `database-corrupted`: a Nexus database is damaged: broken pages, missing files, a schema
 * that cannot be loaded, a write-ahead log that cannot be replayed, an H2 file that fails its
 * checks. One incident per database while it goes on. A full disk is the usual cause (rule
 * disk-full, linked), then crashes or kills during writes.
 *
 *   OPageIsBrokenException: Following files and pages are detected to be broken [...], storage is switched to 'read only' mode.   (DB-5)
 *   OSchemaNotCreatedException: Schema is not created and cannot be loaded
 *   OStorageException: File with name 'realm.cpm' does not exist in storage 'security'
 *   OLocalPaginatedStorage ERROR Exception during storage data restore  (java.lang.NullPointerException in ODiskWriteAheadLog)
 *   org.h2...: File corrupted while reading record: ... [90030-...]  |  MVStoreException: File is corrupted - unable to recover a valid set of chunks
 *   org.h2.mvstore.MVStoreException: Chunk 44722 not found [2.2.224/9]   (H2 2.2.224 after the migration from OrientDB)
 *   OLocalPaginatedStorage ERROR Exception `77B454F6` in storage `plocal:/nexus-data/db/component`: 2.2.36 ...
 *     (an OrientDB storage exception on a write that no other rule explains: low confidence)
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { anyHolds, textsOf } from './exception-lines';
import { cut, databaseNameOf, nexusEventOf, remember } from './storage-texts';
import { howOften } from './wording';

const BROKEN = 'OPageIsBrokenException';
const NO_SCHEMA = 'OSchemaNotCreatedException';
const FILE_MISSING = 'does not exist in storage';
const RESTORE = 'Exception during storage data restore';
const H2_RECORD = 'File corrupted while reading record';
const H2_CHUNKS = 'File is corrupted - unable to recover';
const H2_CHUNK = 'File corrupted in chunk';
/** H2 2.2.224 after the OrientDB-to-H2 migration (3.70.x): `MVStoreException: Chunk 44722 not found [2.2.224/9]`. */
const H2_CHUNK_MISSING = 'MVStoreException: Chunk ';
/** `Exception `5F52F931` in storage `plocal:...``; pasted into a forum the backticks are often gone. */
const STORAGE_EXCEPTION = /^Exception `?[0-9A-F]{6,16}`? in storage `?[a-z]+:/;

export type CorruptionKind = 'broken-pages' | 'schema-missing' | 'file-missing' | 'wal-restore-failed' | 'h2-file-corrupted' | 'storage-exception';

/** Texts that explain an OrientDB storage exception as another rule's failure (cannot open, disk, lock, freeze). */
const OTHER_RULES = ['Cannot open local storage', 'OLowDiskSpaceException', 'No space left on device', 'is locked by another process', 'OModificationOperationProhibitedException', 'OWriteOperationNotPermittedException'];

export interface CorruptionSignal {
  kind: CorruptionKind;
  database: string;
  line: string;
}

export function parseCorruption(event: NexusEvent): CorruptionSignal | undefined {
  const lines = textsOf(event);
  const markers: Array<[string, CorruptionKind]> = [
    [BROKEN, 'broken-pages'],
    [NO_SCHEMA, 'schema-missing'],
    [FILE_MISSING, 'file-missing'],
    [RESTORE, 'wal-restore-failed'],
    [H2_RECORD, 'h2-file-corrupted'],
    [H2_CHUNKS, 'h2-file-corrupted'],
    [H2_CHUNK, 'h2-file-corrupted'],
    [H2_CHUNK_MISSING, 'h2-file-corrupted'],
  ];
  for (const [marker, kind] of markers) {
    const line = lines.find((text) => text.includes(marker));
    if (line !== undefined) return { kind, database: databaseNameOf(event) ?? (kind === 'h2-file-corrupted' ? 'nexus' : 'unknown'), line: cut(line, 300) };
  }
  // `Exception `HEX` in storage `plocal:...``, with no text that makes it another rule's.
  if (STORAGE_EXCEPTION.test(event.message) && !anyHolds(lines, OTHER_RULES)) {
    const detail = event.continuation.find((text) => text.trim() !== '');
    return { kind: 'storage-exception', database: databaseNameOf(event) ?? 'unknown', line: cut(detail === undefined ? event.message : `${event.message} / ${detail}`, 300) };
  }
  return undefined;
}

interface State {
  database: string;
  kind: CorruptionKind;
  firstLine: string;
  users: string[];
}

const WHAT: Record<CorruptionKind, string> = {
  'broken-pages': 'OrientDB found broken pages and switched the storage to read-only',
  'schema-missing': 'OrientDB cannot load the database schema',
  'file-missing': 'a file of the OrientDB storage is missing',
  'wal-restore-failed': 'OrientDB cannot replay its write-ahead log when opening it',
  'h2-file-corrupted': 'the H2 file fails its integrity checks',
  'storage-exception': 'OrientDB throws storage exceptions on it',
};

const CAUSE: Record<CorruptionKind, string> = {
  'broken-pages': 'orientdb-pages-broken',
  'schema-missing': 'orientdb-schema-missing',
  'file-missing': 'orientdb-file-missing',
  'wal-restore-failed': 'orientdb-wal-restore-failed',
  'h2-file-corrupted': 'h2-file-corrupted',
  'storage-exception': 'orientdb-storage-exception',
};

export const databaseCorrupted: Rule<CorruptionSignal, State> = {
  id: 'database-corrupted',
  title: 'Database damaged (broken pages, missing files or schema, failed log replay, corrupt H2 file)',
  severity: 'critical',
  category: 'database',
  reads: [
    { levels: ['ERROR', 'WARN'], literals: [BROKEN, NO_SCHEMA, FILE_MISSING, RESTORE, H2_RECORD, H2_CHUNKS, H2_CHUNK, H2_CHUNK_MISSING], continuation: true },
    { levels: ['ERROR'], loggers: ['OLocalPaginatedStorage', 'OAbstractPaginatedStorage'], literals: [{ text: 'Exception ', at: 'start' }], continuation: true },
  ],
  windowMs: 60 * 60_000,
  causedBy: [{ rule: 'disk-full', withinMs: 24 * 60 * 60_000 }],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseCorruption(nexus);
  },

  key(signal) {
    return signal.database;
  },

  open(signal) {
    return { database: signal.database, kind: signal.kind, firstLine: signal.line, users: [] };
  },

  add(state, signal, event) {
    // A named kind of damage beats a bare storage exception.
    if (state.kind === 'storage-exception' && signal.kind !== 'storage-exception') {
      state.kind = signal.kind;
      state.firstLine = signal.line;
    }
    const user = 'user' in event ? event.user : null;
    if (user !== '*SYSTEM') remember(state.users, user);
  },

  describe(state, group) {
    const h2 = state.kind === 'h2-file-corrupted';
    const bare = state.kind === 'storage-exception';
    const name = state.database === 'unknown' ? 'A database' : `Database ${state.database}`;
    const restore = h2
      ? 'Stop Nexus and restore the H2 database from the latest "Admin - Backup H2 Database" zip (with the blob stores of the same time); if there is none, try the H2 Recover tool (java -cp h2-*.jar org.h2.tools.Recover) on a copy.'
      : `Stop Nexus and restore the ${state.database === 'unknown' ? '' : `${state.database} `}database from the latest "Admin - Export databases for backup" backup (with blob stores of the same time), or repair it: OrientDB console, connect plocal:<data-dir>/db/${state.database === 'unknown' ? '<db>' : state.database}, export the database and import it into a new one (Sonatype support: "Repairing OrientDB databases").`;
    const chunkBug = h2 && state.firstLine.includes(H2_CHUNK_MISSING);
    return {
      subject: { type: 'database', name: state.database },
      fingerprint: [state.database, state.kind],
      summary: `${name} is damaged: ${WHAT[state.kind]} (${howOften(group.count, group.firstTime, group.lastTime)}${state.users.length > 0 ? `; writes by ${state.users.join(', ')} fail` : ''}).`,
      facts: { database: state.database, engine: h2 ? 'H2' : 'OrientDB', damage: WHAT[state.kind] },
      diagnosis: {
        cause: CAUSE[state.kind],
        explanation:
          (bare
            ? `OrientDB reports exceptions in the storage of ${state.database} while Nexus writes to it, and the lines read do not name another cause (locked, disk full, frozen). After a full disk or a crash this means the database was damaged; otherwise the exception text further in the log decides. `
            : `${name} is damaged: ${WHAT[state.kind]}. This happens when writes are cut off: a full disk (rule disk-full), a crash or kill -9, storage errors, or files lost or copied while Nexus ran. `) +
          `First line: ${state.firstLine}`,
        confidence: bare ? 'low' : 'high',
        remediation: [
          'Back up the whole data directory as it is now (with Nexus stopped) before any repair.',
          restore,
          ...(chunkBug
            ? ['"Chunk ... not found" is a known bug of H2 2.2.224, the version of the first H2-based releases (3.70.x), fixed in H2 2.3.232: upgrade to a Nexus release that ships H2 2.3.232 or later, or the damage can come back.']
            : []),
          'Run "Repair - Reconcile component database from blob store" afterwards, and fix what damaged it (disk space, storage errors, forced kills) so it does not happen again.',
        ],
        references: [{ title: 'Sonatype Nexus Repository: backup and restore', url: 'https://help.sonatype.com/en/backup-and-restore.html' }],
      },
    };
  },
};
