/**
 * Rule `database-pool-exhausted`: threads waited the whole timeout for a JDBC connection from a
 * HikariCP pool (the pool is named after the Nexus datastore, `nexus`) and gave up. A storm per
 * pool while it goes on, with the threads hit.
 *
 *   <any> ERROR/WARN ... java.sql.SQLTransientConnectionException: nexus - Connection is not available, request timed out after 30000ms.   (DB-7, message or exception line)
 *     [Caused by: org.postgresql.util.PSQLException: Connection to db:5432 refused. ...]   (the database itself is unreachable)
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { anyHolds, textsOf } from './exception-lines';
import { cut, nexusEventOf } from './storage-texts';
import { duration, howOften, listOf, plural } from './wording';

const NOT_AVAILABLE = ' - Connection is not available, request timed out after ';

/** Texts in the same trace that say the database itself could not be reached. */
const UNREACHABLE = ['PSQLException', 'Connection refused', 'postmaster is accepting TCP/IP connections', 'The connection attempt failed', 'UnknownHostException', 'the database system is'];

export interface PoolSignal {
  pool: string;
  timeoutMs: number | null;
  thread: string;
  unreachable: boolean;
  line: string;
}

/** `nexus - Connection is not available, request timed out after 30000ms.` in a line: the pool and the timeout. */
export function parsePoolTimeout(line: string): { pool: string; timeoutMs: number | null } | undefined {
  const at = line.indexOf(NOT_AVAILABLE);
  if (at <= 0) return undefined;
  let start = at;
  while (start > 0 && line.charCodeAt(start - 1) !== 0x20) start--;
  const pool = line.slice(start, at);
  if (pool === '') return undefined;
  let end = at + NOT_AVAILABLE.length;
  while (end < line.length && line.charCodeAt(end) >= 0x30 && line.charCodeAt(end) <= 0x39) end++;
  const timeout = line.slice(at + NOT_AVAILABLE.length, end);
  return { pool, timeoutMs: timeout === '' ? null : Number(timeout) };
}

export function parsePoolExhausted(event: NexusEvent): PoolSignal | undefined {
  const texts = textsOf(event);
  for (const text of texts) {
    const found = text.includes(NOT_AVAILABLE) ? parsePoolTimeout(text) : undefined;
    if (found !== undefined) return { ...found, thread: event.thread, unreachable: anyHolds(texts, UNREACHABLE), line: cut(text, 300) };
  }
  return undefined;
}

interface State {
  pool: string;
  timeoutMs: number | null;
  unreachable: number;
  firstLine: string;
}

export const databasePoolExhausted: Rule<PoolSignal, State> = {
  id: 'database-pool-exhausted',
  title: 'Database connection pool exhausted: requests time out waiting for a JDBC connection',
  severity: 'error',
  category: 'database',
  reads: [{ levels: ['ERROR', 'WARN'], literals: [NOT_AVAILABLE.trim()], continuation: true }],
  windowMs: 30 * 60_000,
  distinctLimit: 10,
  causedBy: [{ rule: 'database-connection-refused', withinMs: 30 * 60_000 }],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parsePoolExhausted(nexus);
  },

  key(signal) {
    return signal.pool;
  },

  open(signal) {
    return { pool: signal.pool, timeoutMs: signal.timeoutMs, unreachable: 0, firstLine: signal.line };
  },

  distinct(signal) {
    return { thread: signal.thread };
  },

  add(state, signal) {
    state.timeoutMs ??= signal.timeoutMs;
    if (signal.unreachable) state.unreachable++;
  },

  describe(state, group) {
    const threads = group.distinct.thread ?? { values: [], total: 0 };
    const unreachable = state.unreachable > 0;
    const wait = state.timeoutMs === null ? '' : ` ${duration(state.timeoutMs)}`;
    const property = `nexus.datastore.${state.pool}.maximumPoolSize`;
    return {
      subject: { type: 'database', name: state.pool },
      fingerprint: [state.pool, unreachable ? 'unreachable' : 'exhausted'],
      summary:
        `No connection of database pool ${state.pool} became free within${wait || ' the timeout'}: ${howOften(group.count, group.firstTime, group.lastTime)}, ` +
        `in ${plural(threads.total, 'thread')} (${listOf(threads.values, threads.total, 2)})${unreachable ? '; the database itself could not be reached' : ''}.`,
      facts: { pool: state.pool, ...(state.timeoutMs === null ? {} : { timeout: `${state.timeoutMs} ms` }), 'timed out': group.count, threads: threads.values },
      diagnosis: {
        cause: unreachable ? 'database-unreachable' : 'connections-held-too-long',
        explanation:
          (unreachable
            ? `The pool could not open connections because the database refused or did not answer (rule database-connection-refused): every request that needs the database waits${wait} and fails. `
            : `Every connection of pool ${state.pool} stayed in use for${wait || ' the whole timeout'}, so requests, tasks and event handlers that need the database failed. ` +
              'Connections are held too long (slow or blocked queries, long transactions: large group repositories, cleanup or reconcile tasks), the database is slow (PostgreSQL overloaded, an embedded H2 too large for its load), or the pool is too small for the concurrency. ') +
          `First line: ${state.firstLine}`,
        confidence: unreachable ? 'high' : 'medium',
        remediation: unreachable
          ? ['Bring the database back or fix the connection settings (see the database-connection-refused incident): host, port, credentials, max_connections.', 'Nexus recovers by itself once connections can be opened again.']
          : [
              'Find what holds the connections at these times: a thread dump (Support > System Information or jstack: threads in HikariPool.getConnection wait, the others hold), the tasks running, and on PostgreSQL pg_stat_activity (long or blocked queries, idle in transaction).',
              'Make the database faster: PostgreSQL resources, autovacuum and indexes; a big instance on embedded H2 should move to PostgreSQL.',
              `If the load is simply higher than the pool, raise it: ${property} (nexus.properties, or the datastore's maximumPoolSize), keeping PostgreSQL max_connections above the sum of the pools of all nodes.`,
            ],
        references: [{ title: 'Sonatype Nexus Repository: PostgreSQL and datastore configuration', url: 'https://help.sonatype.com/en/install-nexus-repository-with-a-postgresql-database.html' }],
      },
    };
  },
};
