/**
 * Rule `database-cannot-open`: a Nexus database cannot be opened or used at all, so Nexus does
 * not start (or every query fails). One incident per database while it goes on, classified by
 * why: locked by another process, permissions, disk, damage, H2 closed under Nexus, a legacy
 * OrientDB that must be migrated first.
 *
 *   OLocalPaginatedStorage ERROR Exception `02F0E3CD` in storage `plocal:/nexus-data/db/security`: 2.2.36 (build ...)
 *     com.orientechnologies.orient.core.exception.OStorageException: Cannot open local storage '/nexus-data/db/security' with mode=rw   (DB-3)
 *     [Caused by: OLockException: File '...' is locked by another process, maybe the database is in use by another process. ...]
 *   MyBatisDataStore ERROR Failed transition: NEW -> STARTED
 *     HikariPool$PoolInitializationException: Failed to initialize pool: Database may be already in use: "/nexus-data/db/nexus.mv.db". ... [90020-232]  (DB-8)
 *     HikariPool$PoolInitializationException: Failed to initialize pool: IO Exception: "/nexus-data/db/nexus.mv.db" [90028-232]
 *   <any> ERROR ... org.h2.jdbc.JdbcSQLNonTransientConnectionException: The database has been closed [90098-232]
 *   MyBatisDataStore ERROR (banner) This instance is using a legacy Orient database. / You must migrate to H2 or PostgreSQL before upgrading ...   (DB-6)
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { anyHolds, textsOf } from './exception-lines';
import { cut, databaseNameOf, nexusEventOf } from './storage-texts';
import { howOften } from './wording';

const CANNOT_OPEN = 'Cannot open local storage ';
const H2_IN_USE = 'Database may be already in use';
const H2_CLOSED = 'The database has been closed';
const H2_IO = 'IO Exception: "';
const LEGACY = 'using a legacy Orient database';
const MIGRATE = 'You must migrate to H2 or PostgreSQL';
const UNSUPPORTED = 'unsupported orient database is present';

export type CannotOpenKind = 'orient-cannot-open' | 'h2-in-use' | 'h2-closed' | 'h2-io-error' | 'legacy-orient';
export type CannotOpenReason = 'locked' | 'permissions' | 'disk-full' | 'read-only-fs' | 'damaged' | 'unknown';

export interface CannotOpenSignal {
  kind: CannotOpenKind;
  database: string;
  reason: CannotOpenReason;
  line: string;
}

/** What an event's lines say about why a database could not be opened. */
export function reasonOf(event: NexusEvent): CannotOpenReason {
  const texts = textsOf(event);
  if (anyHolds(texts, ['is locked by another process', H2_IN_USE, 'OLockException'])) return 'locked';
  if (anyHolds(texts, ['AccessDeniedException', 'Permission denied', 'Operation not permitted'])) return 'permissions';
  if (anyHolds(texts, ['No space left on device', 'OLowDiskSpaceException'])) return 'disk-full';
  if (anyHolds(texts, ['Read-only file system'])) return 'read-only-fs';
  if (anyHolds(texts, ['OPageIsBrokenException', 'does not exist in storage', 'File corrupted', 'File is corrupted - unable to recover', 'OSchemaNotCreatedException', 'Exception during storage data restore'])) return 'damaged';
  return 'unknown';
}

export function parseCannotOpen(event: NexusEvent): CannotOpenSignal | undefined {
  const lines = textsOf(event);
  const find = (literal: string): string | undefined => lines.find((line) => line.includes(literal));
  let kind: CannotOpenKind;
  let line: string | undefined;
  if ((line = find(LEGACY) ?? find(MIGRATE) ?? find(UNSUPPORTED)) !== undefined) kind = 'legacy-orient';
  else if ((line = find(CANNOT_OPEN)) !== undefined) kind = 'orient-cannot-open';
  else if ((line = find(H2_IN_USE)) !== undefined) kind = 'h2-in-use';
  else if ((line = find(H2_CLOSED)) !== undefined) kind = 'h2-closed';
  else if ((line = find(H2_IO)) !== undefined && /\[900\d\d-\d+\]/.test(line)) kind = 'h2-io-error';
  else return undefined;
  const database = kind === 'legacy-orient' ? 'orientdb' : (databaseNameOf(event) ?? (kind === 'orient-cannot-open' ? 'unknown' : 'nexus'));
  return { kind, database, reason: kind === 'h2-in-use' ? 'locked' : kind === 'legacy-orient' ? 'unknown' : reasonOf(event), line: cut(line, 300) };
}

interface State {
  database: string;
  kind: CannotOpenKind;
  reason: CannotOpenReason;
  firstLine: string;
}

type Cause =
  | 'locked-by-another-process'
  | 'permission-denied'
  | 'disk-full'
  | 'read-only-file-system'
  | 'database-damaged'
  | 'h2-database-closed'
  | 'h2-io-error'
  | 'legacy-orient-database'
  | 'cannot-open-unknown';

function causeOf(state: State): Cause {
  if (state.kind === 'legacy-orient') return 'legacy-orient-database';
  switch (state.reason) {
    case 'locked':
      return 'locked-by-another-process';
    case 'permissions':
      return 'permission-denied';
    case 'disk-full':
      return 'disk-full';
    case 'read-only-fs':
      return 'read-only-file-system';
    case 'damaged':
      return 'database-damaged';
    case 'unknown':
      return state.kind === 'h2-closed' ? 'h2-database-closed' : state.kind === 'h2-io-error' ? 'h2-io-error' : 'cannot-open-unknown';
  }
}

function adviceFor(cause: Cause, database: string, h2: boolean): { meaning: string; remediation: string[]; confidence: 'high' | 'medium' | 'low' } {
  const files = h2 ? `<data-dir>/db/${database}.mv.db` : `<data-dir>/db/${database}`;
  const restore = h2
    ? `Restore ${files} from the latest H2 backup (the zip written by the "Admin - Backup H2 Database" task), with the blob stores of the same time.`
    : `Restore the ${database} database from the latest backup ("Admin - Export databases for backup"), or repair it with the OrientDB console (export, then import into a new database).`;
  switch (cause) {
    case 'locked-by-another-process':
      return {
        meaning: `Another process holds the lock on ${files}: a second Nexus (or an old pod/container during a rolling update) on the same data directory, an OrientDB or H2 console left open, or a stale lock after a crash.`,
        remediation: [
          `Make sure only one Nexus uses the data directory: stop any other instance, container or pod mounting it (ps, docker ps, kubectl get pods; a Deployment must use the Recreate strategy), and close consoles on ${files}.`,
          'Then restart Nexus; if nothing else runs and the lock persists after a crash, remove the stale lock file (OrientDB: the .lock files under the database folder; H2: nexus.lock.db) with Nexus stopped.',
          `If it still cannot open, the file may be damaged: ${restore}`,
        ],
        confidence: 'high',
      };
    case 'permission-denied':
      return {
        meaning: `The user running Nexus may not read or write ${files} (file ownership or mode changed, e.g. by a restore, a copy, or a console run as root).`,
        remediation: [`Give the data directory back to the user running Nexus: chown -R nexus:nexus <data-dir>/db (200:200 in the Sonatype image), with read-write permissions.`, 'Check the volume is mounted read-write, then restart Nexus.'],
        confidence: 'high',
      };
    case 'disk-full':
      return {
        meaning: `The database could not be opened because its volume is full (rule disk-full).`,
        remediation: ['Free space on the data volume (more than 4 GB for OrientDB), then restart Nexus.', `If it still fails, the database was damaged while the disk was full: ${restore}`],
        confidence: 'high',
      };
    case 'read-only-file-system':
      return {
        meaning: `The file system of ${files} is read-only.`,
        remediation: ['Remount the data volume read-write (after checking it: dmesg, fsck), then restart Nexus.'],
        confidence: 'high',
      };
    case 'database-damaged':
      return {
        meaning: `The ${database} database is damaged (missing or broken files): usually after a full disk, a crash or kill -9 during writes, or files lost on the storage (rule database-corrupted).`,
        remediation: [restore, 'Find out what damaged it (disk full, storage errors, a forced kill) so it does not happen again.'],
        confidence: 'high',
      };
    case 'h2-database-closed':
      return {
        meaning:
          'The embedded H2 database closed itself while Nexus kept running, so every query fails (blob store metrics, asset lookups, logins can fail with 401/403). H2 closes a database after an internal error: a full or failing disk, a corrupted file, or an H2 bug.',
        remediation: [
          'Look earlier in the log for the first H2 error (disk full, I/O error, "File corrupted") and fix that cause.',
          'Restart Nexus; if the database does not open again, restore it from the "Admin - Backup H2 Database" backup.',
          'Large or busy instances should move from H2 to PostgreSQL.',
        ],
        confidence: 'medium',
      };
    case 'h2-io-error':
      return {
        meaning: `H2 got an I/O error on ${files}: the file system refused the read or write (ownership or permissions, a read-only or network mount, a failing disk) or the file is damaged.`,
        remediation: [
          `Check ${files} and its folder: owner and permissions (the user running Nexus, uid 200 in the Sonatype image), the mount (read-write, not a network file system H2 cannot lock), free space, kernel I/O errors (dmesg).`,
          'The root cause is in the "Caused by" lines of the same stack trace (java.io.IOException: ...): fix it, then restart Nexus.',
          `If the file itself is damaged: ${restore}`,
        ],
        confidence: 'medium',
      };
    case 'legacy-orient-database':
      return {
        meaning:
          'This Nexus version no longer runs on OrientDB, and the data directory still holds an OrientDB database that was not migrated: Nexus stops at start (exit code 1).',
        remediation: [
          'Go back to the previous Nexus version (the one that ran on OrientDB), migrate the databases to H2 or PostgreSQL with the database migrator there, then upgrade again.',
          'If the databases were already migrated, set the datastore configuration (nexus-store.properties / nexus.datastore.enabled) so the new version finds the H2 or PostgreSQL database.',
        ],
        confidence: 'high',
      };
    case 'cannot-open-unknown':
      return {
        meaning: `${files} cannot be opened; the log lines read do not say why (the cause is further down the stack trace).`,
        remediation: [
          `Check, in this order: that no other Nexus or console uses ${files}; its owner and permissions (the user running Nexus); free disk space; then whether it is damaged (rule database-corrupted).`,
          restore,
        ],
        confidence: 'low',
      };
  }
}

export const databaseCannotOpen: Rule<CannotOpenSignal, State> = {
  id: 'database-cannot-open',
  title: 'Database cannot be opened (locked, permissions, disk, damage, H2 closed, legacy OrientDB)',
  severity: 'critical',
  category: 'database',
  reads: [{ levels: ['ERROR', 'WARN'], literals: [CANNOT_OPEN, H2_IN_USE, H2_CLOSED, H2_IO, LEGACY, MIGRATE, UNSUPPORTED], continuation: true }],
  windowMs: 30 * 60_000,
  causedBy: [
    { rule: 'disk-full', withinMs: 24 * 60 * 60_000 },
    { rule: 'database-corrupted', withinMs: 60 * 60_000, sameSubject: true },
  ],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseCannotOpen(nexus);
  },

  key(signal) {
    return signal.database;
  },

  open(signal) {
    return { database: signal.database, kind: signal.kind, reason: signal.reason, firstLine: signal.line };
  },

  add(state, signal) {
    // A line that says why beats one that does not.
    if (state.reason === 'unknown' && signal.reason !== 'unknown') {
      state.reason = signal.reason;
      state.kind = signal.kind;
    }
    if (signal.kind === 'legacy-orient') state.kind = 'legacy-orient';
  },

  describe(state, group) {
    const cause = causeOf(state);
    const h2 = state.kind.startsWith('h2');
    const advice = adviceFor(cause, state.database, h2);
    const what =
      state.kind === 'legacy-orient'
        ? 'Nexus found a legacy OrientDB database it can no longer run on'
        : state.kind === 'h2-closed'
          ? `H2 database ${state.database} has been closed under the running Nexus`
          : `Database ${state.database} cannot be opened`;
    const why = {
      'locked-by-another-process': 'it is locked by another process',
      'permission-denied': 'permission denied',
      'disk-full': 'the disk is full',
      'read-only-file-system': 'the file system is read-only',
      'database-damaged': 'it is damaged',
      'h2-database-closed': 'every query fails',
      'h2-io-error': 'an I/O error on its file',
      'legacy-orient-database': 'it must be migrated to H2 or PostgreSQL first',
      'cannot-open-unknown': 'cause not in the lines read',
    }[cause];
    return {
      subject: { type: 'database', name: state.database },
      fingerprint: [state.database, cause],
      summary: `${what} (${why}): ${howOften(group.count, group.firstTime, group.lastTime)}.`,
      facts: { database: state.database, engine: h2 ? 'H2' : 'OrientDB' },
      diagnosis: { cause, explanation: `${advice.meaning} First line: ${state.firstLine}`, confidence: advice.confidence, remediation: advice.remediation },
    };
  },
};
