/** database-pool-exhausted: HikariCP timeouts, a storm per pool, and whether the database itself was reachable. */
import { databaseConnectionRefused } from '../../src/rules/builtin/database-connection-refused';
import { databasePoolExhausted, parsePoolTimeout } from '../../src/rules/builtin/database-pool-exhausted';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const run = (text: string | string[]) => incidents(databasePoolExhausted, text);
const TIMEOUT = 'java.sql.SQLTransientConnectionException: nexus - Connection is not available, request timed out after 30000ms.';

const failedRequest = (ms: number, thread: string, ...trace: string[]): string[] => [
  line(ms, 'WARN', 'org.sonatype.nexus.repository.httpbridge.internal.ViewServlet', 'Failure servicing: GET /repository/nuget-group/FindPackagesById()', { thread }),
  'org.sonatype.nexus.datastore.api.DataAccessException: x',
  `Caused by: ${TIMEOUT}`,
  '\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)',
  ...trace,
];

describe('database-pool-exhausted', () => {
  it('parses the pool and the timeout', () => {
    expect(parsePoolTimeout(TIMEOUT)).toEqual({ pool: 'nexus', timeoutMs: 30000 });
    expect(parsePoolTimeout('Caused by: java.sql.SQLTransientConnectionException: config - Connection is not available, request timed out after 5000ms.')).toEqual({ pool: 'config', timeoutMs: 5000 });
  });

  it('a storm is one incident per pool with the threads hit', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(...failedRequest(i * 500, `qtp1-${i % 25}`));
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'error', count: 1000, subject: { type: 'database', name: 'nexus' }, facts: { pool: 'nexus', timeout: '30000 ms' }, diagnosis: { cause: 'connections-held-too-long', confidence: 'medium' } });
    expect(incident?.distinct.thread?.total).toBe(25);
    expect(incident?.summary).toMatch(/^No connection of database pool nexus became free within 30 s: 1,000 times in 8 min .*, in 25 threads \(qtp1-0, qtp1-1 and 23 more\)\.$/);
    expect(incident?.diagnosis.remediation.join(' ')).toContain('nexus.datastore.nexus.maximumPoolSize');
  });

  it('with the database refusing connections in the same trace, the database is the cause', () => {
    const trace = ['Caused by: org.postgresql.util.PSQLException: Connection to db.example:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.'];
    const lines = failedRequest(0, 'qtp1-1', ...trace);
    const [incident] = run(lines);
    expect(incident?.diagnosis.cause).toBe('database-unreachable');
    const both = [databasePoolExhausted, databaseConnectionRefused];
    const refused = incidents(both, lines, 'database-connection-refused');
    expect(incidents(both, lines, 'database-pool-exhausted')[0]?.causes).toEqual([refused[0]?.id]);
  });

  it('separate pools, and 30 quiet minutes, make separate incidents', () => {
    const lines = [line(0, 'ERROR', 'org.x.Y', TIMEOUT), line(1, 'ERROR', 'org.x.Y', TIMEOUT.replace('nexus -', 'config -')), line(31 * MINUTE, 'ERROR', 'org.x.Y', TIMEOUT)];
    expect(run(lines).map((i) => i.subject?.name)).toEqual(['nexus', 'config', 'nexus']);
  });

  it('near misses', () => {
    expect(run([line(0, 'INFO', 'org.x.Y', TIMEOUT), line(1, 'ERROR', 'org.x.Y', 'Connection is not available')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([databasePoolExhausted.id], line(0, 'ERROR', 'org.x.Y', adversarial('x - Connection is not available, request timed out after 9')));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  it('real excerpt nexus-public#561: the trace re-logged line by line through ThreadPrintStream', () => {
    const name = 'np-561-hikari-timeout-threadprintstream-lines.log';
    expect(corpusEntry(name).expected.map((e) => [e.class, e.subject])).toEqual([['database-pool-exhausted', 'nexus']]);
    const [incident, ...rest] = run(realLog(name));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 1, subject: { name: 'nexus' }, facts: { timeout: '30000 ms', threads: ['searchEventHandler-5-thread-5'] } });
  });
});
