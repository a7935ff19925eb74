/**
 * Rule `database-read-only`: Nexus refuses writes because its database is read-only: frozen by
 * an administrator or a backup task, switched to read-only by OrientDB for lack of disk space,
 * or an H2 file that cannot be written. One incident per server while it goes on, with the
 * writes refused and the repositories they were for.
 *
 *   ExceptionHandler WARN Nexus Repository Manager is in read-only mode[ for repository '{repo}']: {ACTION} {path}: {exception}   (DB-1, client 503)
 *   DatabaseFreezeServiceImpl WARN Database was frozen by {USER_INITIATED|SYSTEM} process '{id}' at {time}                        (DB-2, at start)
 *   DatabaseFreezeServiceImpl WARN Databases must be unfrozen manually
 *   OLowDiskSpaceException: ... to database '{db}' due to limited free space on the disk ({n} MB). The database is now working in read-only mode.  (DB-4)
 *   org.h2.jdbc.JdbcSQLNonTransientException: The database is read only; SQL statement: ... [90097-...]
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { textsOf } from './exception-lines';
import { cut, databaseNameIn, databaseNameOf, nexusEventOf, onServer, quotedValue, remember, serverOf } from './storage-texts';
import { howOften, listOf, plural } from './wording';

const READ_ONLY_MODE = 'Nexus Repository Manager is in read-only mode';
const FROZEN_BY = 'Database was frozen by ';
const UNFREEZE = 'Databases must be unfrozen manually';
const ORIENT_READ_ONLY = 'The database is now working in read-only mode';
const H2_READ_ONLY = 'The database is read only';

export type ReadOnlyKind = 'frozen' | 'orient-read-only' | 'orient-low-disk' | 'h2-read-only';

export interface ReadOnlySignal {
  kind: ReadOnlyKind;
  server: string;
  database: string | null;
  /** A refused write: its repository, action and path. */
  repository: string | null;
  action: string | null;
  path: string | null;
  /** Who froze it (`USER_INITIATED` / `SYSTEM`, and the process id). */
  frozenBy: { type: string; id: string } | null;
  manual: boolean;
  line: string;
}

function signal(kind: ReadOnlyKind, server: string, line: string, more: Partial<ReadOnlySignal> = {}): ReadOnlySignal {
  return { kind, server, database: null, repository: null, action: null, path: null, frozenBy: null, manual: false, line: cut(line, 300), ...more };
}

/** `Nexus Repository Manager is in read-only mode[ for repository 'r']: PUT /path: <exception>`. */
export function parseReadOnlyRejection(message: string, server: string): ReadOnlySignal | undefined {
  const at = message.indexOf(READ_ONLY_MODE);
  if (at === -1) return undefined;
  let rest = message.slice(at + READ_ONLY_MODE.length);
  const repository = rest.startsWith(' for repository ') ? quotedValue(rest, ' for repository ') : null;
  const colon = rest.indexOf(': ');
  rest = colon === -1 ? '' : rest.slice(colon + 2);
  const space = rest.indexOf(' ');
  const action = space > 0 && /^[A-Z]+$/.test(rest.slice(0, space)) ? rest.slice(0, space) : null;
  const pathEnd = action === null ? -1 : rest.indexOf(': ', space + 1);
  const path = action === null ? null : rest.slice(space + 1, pathEnd === -1 ? rest.length : pathEnd);
  const exception = pathEnd === -1 ? rest : rest.slice(pathEnd + 2);
  let kind: ReadOnlyKind = 'frozen';
  if (exception.includes('OLowDiskSpaceException')) kind = 'orient-low-disk';
  else if (exception.includes('OWriteOperationNotPermittedException') || exception.includes("'read only' mode")) kind = 'orient-read-only';
  return signal(kind, server, message, { repository: repository === 'unknown' ? null : repository, action, path: path === '' ? null : path });
}

/** `Database was frozen by USER_INITIATED process 'admin' at 2020-01-01T...`. */
export function parseFrozenBy(message: string): { type: string; id: string } | undefined {
  const at = message.indexOf(FROZEN_BY);
  if (at === -1) return undefined;
  const process = message.indexOf(' process ', at);
  if (process === -1) return undefined;
  return { type: message.slice(at + FROZEN_BY.length, process), id: quotedValue(message, ' process ', "'", process) ?? '' };
}

export function parseReadOnly(event: NexusEvent): ReadOnlySignal | undefined {
  const server = serverOf(event);
  const message = event.message;
  if (message.includes(READ_ONLY_MODE)) return parseReadOnlyRejection(message, server);
  const frozenBy = parseFrozenBy(message);
  if (frozenBy !== undefined) return signal('frozen', server, message, { frozenBy });
  if (message.includes(UNFREEZE)) return signal('frozen', server, message, { manual: true });
  for (const text of textsOf(event)) {
    if (text.includes(ORIENT_READ_ONLY)) return signal('orient-low-disk', server, text, { database: databaseNameIn(text) ?? databaseNameOf(event) });
    if (text.includes(H2_READ_ONLY)) return signal('h2-read-only', server, text, { database: databaseNameIn(text) ?? 'nexus' });
  }
  return undefined;
}

interface State {
  server: string;
  byKind: Partial<Record<ReadOnlyKind, number>>;
  databases: string[];
  frozenBy: { type: string; id: string } | null;
  manual: boolean;
  refused: number;
  firstLine: string;
}

type Cause = 'orientdb-low-disk-space' | 'h2-file-read-only' | 'frozen-by-administrator' | 'frozen-by-task' | 'database-frozen' | 'orientdb-storage-read-only';

function causeOf(state: State): Cause {
  if (state.byKind['orient-low-disk'] !== undefined) return 'orientdb-low-disk-space';
  if (state.byKind['h2-read-only'] !== undefined) return 'h2-file-read-only';
  if (state.byKind.frozen !== undefined) {
    if (state.frozenBy?.type === 'SYSTEM') return 'frozen-by-task';
    if (state.frozenBy !== null || state.manual) return 'frozen-by-administrator';
    return 'database-frozen';
  }
  return 'orientdb-storage-read-only';
}

const RELEASE =
  'Release read-only mode: Administration > System > Nodes > "Disable read-only mode" (or POST /service/rest/v1/read-only/release; /service/rest/v1/read-only/force-release when a task that died left it frozen).';

const ADVICE: Record<Cause, { meaning: string; remediation: string[]; confidence: 'high' | 'medium' }> = {
  'orientdb-low-disk-space': {
    meaning: 'OrientDB switched the database to read-only because less than 4096 MB are free on its volume; every write in Nexus fails until space is freed and the database is reopened.',
    remediation: ['Free space on the database volume (rule disk-full says which) or extend it, to well above 4096 MB free.', 'Restart Nexus: OrientDB leaves read-only mode only when the database is reopened.'],
    confidence: 'high',
  },
  'h2-file-read-only': {
    meaning:
      'The embedded H2 database file cannot be written: after a migration or restore it usually belongs to another user than the one running Nexus (uid 200 in the Sonatype image), or its volume is mounted read-only.',
    remediation: [
      'Give the database files to the user running Nexus and make them writable: chown -R nexus:nexus <data-dir>/db (200:200 in the Sonatype image) and chmod u+rw <data-dir>/db/nexus.mv.db.',
      'Check that the data volume is mounted read-write (findmnt, the container volume options) and that nexus-store.properties does not open the database read-only (ACCESS_MODE_DATA=r in the JDBC URL).',
      'Restart Nexus.',
    ],
    confidence: 'medium',
  },
  'frozen-by-administrator': {
    meaning: 'The databases were put in read-only mode by an administrator (or a user-initiated freeze that survives restarts): Nexus serves reads and answers every write with 503.',
    remediation: [RELEASE, 'Ask who froze it and why (audit.log, the freeze was made for a backup or maintenance) before releasing.'],
    confidence: 'high',
  },
  'frozen-by-task': {
    meaning: 'The databases were frozen by a system process, usually the database backup task ("Admin - Export databases for backup"), which freezes them while it runs; a backup that hangs or dies leaves them frozen.',
    remediation: [RELEASE, 'Check the backup task in Administration > System > Tasks and its task log: it should finish in minutes; fix its destination (space, permissions) if it fails.'],
    confidence: 'medium',
  },
  'database-frozen': {
    meaning: 'Nexus is in read-only mode (the databases are frozen): by an administrator, or by the backup task while it runs. Reads are served, writes get 503.',
    remediation: [RELEASE, 'If the backup task was running, let it finish or check its task log; a backup that died leaves the databases frozen.'],
    confidence: 'medium',
  },
  'orientdb-storage-read-only': {
    meaning: 'OrientDB refuses writes to its storage (OWriteOperationNotPermittedException): the storage was switched to read-only, by lack of disk space or because broken pages were found.',
    remediation: ['Look earlier in the log for OLowDiskSpaceException (rule disk-full) or OPageIsBrokenException (rule database-corrupted) and fix that first.', 'Restart Nexus once the cause is fixed.'],
    confidence: 'medium',
  },
};

export const databaseReadOnly: Rule<ReadOnlySignal, State> = {
  id: 'database-read-only',
  title: 'Database read-only: frozen, out of disk space, or an unwritable H2 file; writes refused',
  severity: 'error',
  category: 'database',
  reads: [
    { levels: ['WARN', 'ERROR'], loggers: ['DatabaseFreezeServiceImpl'], literals: [FROZEN_BY, UNFREEZE] },
    // ExceptionHandler logs the refused writes; the texts are specific enough to read from any logger.
    { levels: ['ERROR', 'WARN'], literals: [READ_ONLY_MODE, ORIENT_READ_ONLY, H2_READ_ONLY], continuation: true },
  ],
  windowMs: 60 * 60_000,
  distinctLimit: 10,
  causedBy: [{ rule: 'disk-full', withinMs: 24 * 60 * 60_000 }],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseReadOnly(nexus);
  },

  key(signal) {
    return signal.server;
  },

  open(signal) {
    return { server: signal.server, byKind: {}, databases: [], frozenBy: null, manual: false, refused: 0, firstLine: signal.line };
  },

  distinct(signal) {
    return signal.repository === null ? undefined : { repository: signal.repository };
  },

  add(state, signal) {
    state.byKind[signal.kind] = (state.byKind[signal.kind] ?? 0) + 1;
    remember(state.databases, signal.database, 10);
    state.frozenBy ??= signal.frozenBy;
    if (signal.manual) state.manual = true;
    if (signal.action !== null) state.refused++;
  },

  describe(state, group) {
    const cause = causeOf(state);
    const advice = ADVICE[cause];
    const database = state.databases.length === 1 ? (state.databases[0] as string) : null;
    const repositories = group.distinct.repository ?? { values: [], total: 0 };
    const what = database === null ? `The databases${onServer(state.server)} are read-only` : `Database ${database} is read-only`;
    const why = {
      'orientdb-low-disk-space': 'OrientDB is out of disk space',
      'h2-file-read-only': 'the H2 file cannot be written',
      'frozen-by-administrator': `frozen${state.frozenBy === null ? '' : ` by ${state.frozenBy.id === '' ? 'a user' : state.frozenBy.id}`}`,
      'frozen-by-task': `frozen by ${state.frozenBy === null || state.frozenBy.id === '' ? 'a system task' : `system process '${state.frozenBy.id}'`}`,
      'database-frozen': 'read-only mode',
      'orientdb-storage-read-only': 'OrientDB storage switched to read-only',
    }[cause];
    const refused = state.refused === 0 ? howOften(group.count, group.firstTime, group.lastTime) : `${plural(state.refused, 'write')} refused`;
    return {
      subject: database === null ? { type: 'server', name: state.server } : { type: 'database', name: database },
      fingerprint: [state.server, database, cause],
      summary: `${what} (${why}): ${refused}${repositories.total > 0 ? ` in ${plural(repositories.total, 'repository', 'repositories')} (${listOf(repositories.values, repositories.total, 2)})` : ''}.`,
      facts: {
        ...(state.databases.length > 0 ? { databases: state.databases } : {}),
        ...(state.frozenBy === null ? {} : { 'frozen by': `${state.frozenBy.type} ${state.frozenBy.id}`.trim() }),
        ...(state.manual ? { 'unfreeze manually': true } : {}),
        'writes refused': state.refused,
      },
      diagnosis: {
        cause,
        explanation: `${advice.meaning} First line: ${state.firstLine}`,
        confidence: advice.confidence,
        remediation: advice.remediation,
      },
    };
  },
};
