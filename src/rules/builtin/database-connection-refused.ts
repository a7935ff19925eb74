/**
 * Rule `database-connection-refused`: PostgreSQL refuses Nexus's connections, so the datastore
 * cannot start or every query fails. One incident per server while it goes on, classified by
 * why: nothing listens (refused), authentication, too many connections, the server starting up
 * or shutting down, a database that does not exist, a host that cannot be reached.
 *
 * Texts of the PostgreSQL JDBC driver (PSQLException) and server, in a message or an exception
 * line (HikariCP wraps them: `Failed to initialize pool: Connection to db:5432 refused. ...`):
 *
 *   Connection to {host}:{port} refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.
 *   FATAL: password authentication failed for user "{user}"    |  FATAL: no pg_hba.conf entry for host "{ip}", user "{user}", database "{db}"
 *   FATAL: sorry, too many clients already  |  FATAL: too many connections for role "{user}"  |  FATAL: remaining connection slots are reserved ...
 *   FATAL: the database system is starting up  |  ... is shutting down  |  ... is in recovery mode
 *   FATAL: database "{db}" does not exist
 *   The connection attempt failed.   (with java.net.UnknownHostException / SocketTimeoutException)
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { textsOf } from './exception-lines';
import { cut, nexusEventOf, onServer, quotedValue, serverOf } from './storage-texts';
import { howOften } from './wording';

const REFUSED = 'postmaster is accepting TCP/IP connections';
const CONNECTION_TO = 'Connection to ';

export type RefusalKind = 'refused' | 'auth' | 'too-many-connections' | 'starting-up' | 'database-missing' | 'unreachable';

const TEXTS: ReadonlyArray<[string, RefusalKind]> = [
  [REFUSED, 'refused'],
  ['password authentication failed for user', 'auth'],
  ['no pg_hba.conf entry for host', 'auth'],
  ['too many clients already', 'too-many-connections'],
  ['too many connections for', 'too-many-connections'],
  ['remaining connection slots are reserved', 'too-many-connections'],
  ['the database system is starting up', 'starting-up'],
  ['the database system is shutting down', 'starting-up'],
  ['the database system is in recovery mode', 'starting-up'],
  ['FATAL: database "', 'database-missing'],
  ['PSQLException: The connection attempt failed', 'unreachable'],
];

export interface RefusalSignal {
  kind: RefusalKind;
  server: string;
  /** `host:port` when the text names it. */
  host: string | null;
  user: string | null;
  database: string | null;
  line: string;
}

/** The refusal a line reports, if any. */
export function parseRefusalLine(line: string): Omit<RefusalSignal, 'server'> | undefined {
  for (const [text, kind] of TEXTS) {
    const at = line.indexOf(text);
    if (at === -1) continue;
    if (kind === 'database-missing' && !line.includes('" does not exist', at)) continue;
    let host: string | null = null;
    const to = line.lastIndexOf(CONNECTION_TO, at);
    if (kind === 'refused' && to !== -1) {
      const end = line.indexOf(' refused', to);
      host = end === -1 ? null : line.slice(to + CONNECTION_TO.length, end);
    }
    return {
      kind,
      host,
      user: quotedValue(line, 'for user ', '"') ?? quotedValue(line, 'user ', '"') ?? quotedValue(line, 'for role ', '"'),
      database: quotedValue(line, 'database ', '"'),
      line: cut(line, 300),
    };
  }
  return undefined;
}

export function parseRefusal(event: NexusEvent): RefusalSignal | undefined {
  let found: Omit<RefusalSignal, 'server'> | undefined;
  for (const text of textsOf(event)) {
    const line = parseRefusalLine(text);
    if (line === undefined) continue;
    // `The connection attempt failed` is vaguer than the others: keep looking for one of them.
    if (found === undefined || found.kind === 'unreachable') found = line;
    if (found.kind !== 'unreachable') break;
  }
  return found === undefined ? undefined : { ...found, server: serverOf(event) };
}

interface State {
  server: string;
  byKind: Partial<Record<RefusalKind, number>>;
  host: string | null;
  user: string | null;
  database: string | null;
  firstLine: string;
}

const ORDER: readonly RefusalKind[] = ['auth', 'database-missing', 'too-many-connections', 'refused', 'starting-up', 'unreachable'];

const ADVICE: Record<RefusalKind, { cause: string; what: string; meaning: string; remediation: (host: string, user: string) => string[] }> = {
  refused: {
    cause: 'postgresql-refused',
    what: 'refused the connection',
    meaning: 'Nothing accepts connections at that host and port: PostgreSQL is down, listens elsewhere (listen_addresses, port), or a firewall or Kubernetes service rejects it.',
    remediation: (host) => [
      `Check that PostgreSQL runs and listens on ${host} (pg_isready -h <host> -p <port>; listen_addresses and port in postgresql.conf), and that the Nexus host can reach it (nc -vz <host> <port> from the Nexus host or pod).`,
      'Check the JDBC URL Nexus uses (nexus-store.properties or the NEXUS_DATASTORE_NEXUS_JDBCURL / nexus.datastore.nexus.jdbcUrl setting) for the host and port.',
      'Start Nexus after PostgreSQL (systemd After=/Requires=, a Kubernetes init container or startup probe).',
    ],
  },
  auth: {
    cause: 'postgresql-authentication-failed',
    what: 'rejected the credentials',
    meaning: 'PostgreSQL answered but refused to authenticate Nexus: a wrong password or user, or no pg_hba.conf line allows this host, user and database.',
    remediation: (_host, user) => [
      `Check the username and password Nexus uses (${user}; nexus-store.properties or the NEXUS_DATASTORE_NEXUS_USERNAME/PASSWORD settings) against PostgreSQL (psql -h <host> -U <user> <db>).`,
      'Check pg_hba.conf on the PostgreSQL server allows the Nexus host with the right method (scram-sha-256 needs a password stored as SCRAM), then reload PostgreSQL.',
    ],
  },
  'too-many-connections': {
    cause: 'postgresql-too-many-connections',
    what: 'has no connection slot left',
    meaning: 'PostgreSQL reached max_connections (or a per-role/database limit): the pools of all Nexus nodes, and any other client, ask for more connections than it allows.',
    remediation: () => [
      'Raise max_connections on PostgreSQL (restart needed) above the sum of the Nexus pool sizes of all nodes (nexus.datastore.nexus.maximumPoolSize each) plus other clients, or put PgBouncer in front.',
      'Look for other clients holding connections (pg_stat_activity), and lower the Nexus pool size if it is larger than needed.',
    ],
  },
  'starting-up': {
    cause: 'postgresql-not-ready',
    what: 'is starting up, shutting down or recovering',
    meaning: 'PostgreSQL accepted the connection but is not ready (starting, in crash recovery, or stopping): Nexus started before the database was up, or the database restarted.',
    remediation: () => [
      'Start Nexus only once PostgreSQL accepts queries (systemd ordering, a Kubernetes init container or readiness check on the database).',
      'If PostgreSQL restarted on its own, read its log: crash recovery after an out-of-memory kill or a full disk.',
    ],
  },
  'database-missing': {
    cause: 'postgresql-database-missing',
    what: 'does not have the database',
    meaning: 'PostgreSQL answered, but the database named in the JDBC URL does not exist there.',
    remediation: () => ['Create the database (CREATE DATABASE nexus OWNER <user>) or fix its name in the JDBC URL Nexus uses.'],
  },
  unreachable: {
    cause: 'postgresql-unreachable',
    what: 'could not be reached',
    meaning: 'The JDBC driver could not connect to PostgreSQL at all: the host name does not resolve, the network drops the traffic, or the connection timed out.',
    remediation: (host) => [
      `Check the host name in the JDBC URL resolves from the Nexus host or pod and that ${host} is reachable (DNS, network policies, firewalls).`,
      'Check the "Caused by" lines of the stack trace for the exact network error.',
    ],
  },
};

export const databaseConnectionRefused: Rule<RefusalSignal, State> = {
  id: 'database-connection-refused',
  title: 'PostgreSQL refuses Nexus connections (down, authentication, too many connections, starting up)',
  severity: 'critical',
  category: 'database',
  reads: [{ levels: ['ERROR', 'WARN'], literals: TEXTS.map(([text]) => text), continuation: true }],
  windowMs: 30 * 60_000,

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseRefusal(nexus);
  },

  key(signal) {
    return signal.server;
  },

  open(signal) {
    return { server: signal.server, byKind: {}, host: null, user: null, database: null, firstLine: signal.line };
  },

  add(state, signal) {
    state.byKind[signal.kind] = (state.byKind[signal.kind] ?? 0) + 1;
    state.host ??= signal.host;
    state.user ??= signal.user;
    state.database ??= signal.database;
  },

  describe(state, group) {
    const kind = ORDER.find((k) => state.byKind[k] !== undefined) ?? 'unreachable';
    const advice = ADVICE[kind];
    const name = state.host ?? 'postgresql';
    const kinds = Object.entries(state.byKind).map(([k, n]) => `${k} ${n}`);
    return {
      subject: { type: 'database', name },
      fingerprint: [state.server, name, kind],
      summary: `PostgreSQL${state.host === null ? '' : ` at ${state.host}`} ${advice.what}${state.user === null || kind !== 'auth' ? '' : ` (user ${state.user})`}: Nexus${onServer(state.server)} cannot use its database, ${howOften(group.count, group.firstTime, group.lastTime)}.`,
      facts: {
        ...(state.host === null ? {} : { host: state.host }),
        ...(state.user === null ? {} : { user: state.user }),
        ...(state.database === null ? {} : { database: state.database }),
        refusal: kind,
        ...(kinds.length > 1 ? { 'by refusal': kinds } : {}),
      },
      diagnosis: {
        cause: advice.cause,
        explanation: `${advice.meaning} Until it connects, the Nexus datastore does not start (or every request that needs the database fails). First line: ${state.firstLine}`,
        confidence: 'high',
        remediation: advice.remediation(state.host ?? 'the database host', state.user ?? 'the configured user'),
        references: [{ title: 'Sonatype Nexus Repository: install with a PostgreSQL database', url: 'https://help.sonatype.com/en/install-nexus-repository-with-a-postgresql-database.html' }],
      },
    };
  },
};
