/**
 * database-connection-refused: PostgreSQL refusing Nexus. No real excerpt of this class is in the
 * corpus: the lines are written from the PostgreSQL JDBC driver's and server's own texts.
 */
import { databaseConnectionRefused, parseRefusalLine } from '../../src/rules/builtin/database-connection-refused';
import { adversarial, incidents, line, MINUTE } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const MYBATIS = 'org.sonatype.nexus.datastore.mybatis.MyBatisDataStore';
const run = (text: string | string[]) => incidents(databaseConnectionRefused, text);
const REFUSED = 'org.postgresql.util.PSQLException: Connection to postgres:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.';

const startFailure = (ms: number, cause: string): string[] => [
  line(ms, 'ERROR', MYBATIS, 'Failed transition: NEW -> STARTED', { thread: 'FelixStartLevel' }),
  `com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool: ${cause.replace(/^org\.postgresql\.util\.PSQLException: /, '')}`,
  '\tat com.zaxxer.hikari.pool.HikariPool.throwPoolInitializationException(HikariPool.java:596)',
  `Caused by: ${cause}`,
];

describe('database-connection-refused', () => {
  it('classifies the refusal and names the host, user and database', () => {
    expect(parseRefusalLine(REFUSED)).toMatchObject({ kind: 'refused', host: 'postgres:5432' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: password authentication failed for user "nexus"')).toMatchObject({ kind: 'auth', user: 'nexus' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: no pg_hba.conf entry for host "10.1.2.3", user "nexus", database "nexus", no encryption')).toMatchObject({ kind: 'auth', user: 'nexus', database: 'nexus' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: sorry, too many clients already')).toMatchObject({ kind: 'too-many-connections' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: remaining connection slots are reserved for non-replication superuser connections')).toMatchObject({ kind: 'too-many-connections' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: too many connections for role "nexus"')).toMatchObject({ kind: 'too-many-connections', user: 'nexus' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: the database system is starting up')).toMatchObject({ kind: 'starting-up' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: FATAL: database "nexus3" does not exist')).toMatchObject({ kind: 'database-missing', database: 'nexus3' });
    expect(parseRefusalLine('org.postgresql.util.PSQLException: The connection attempt failed.')).toMatchObject({ kind: 'unreachable' });
  });

  it('each class has its cause and fix', () => {
    const cases: Array<[string, string, string]> = [
      [REFUSED, 'postgresql-refused', 'pg_isready'],
      ['org.postgresql.util.PSQLException: FATAL: password authentication failed for user "nexus"', 'postgresql-authentication-failed', 'password'],
      ['org.postgresql.util.PSQLException: FATAL: sorry, too many clients already', 'postgresql-too-many-connections', 'max_connections'],
      ['org.postgresql.util.PSQLException: FATAL: the database system is starting up', 'postgresql-not-ready', 'once PostgreSQL accepts'],
      ['org.postgresql.util.PSQLException: FATAL: database "nexus3" does not exist', 'postgresql-database-missing', 'CREATE DATABASE'],
      ['org.postgresql.util.PSQLException: The connection attempt failed.', 'postgresql-unreachable', 'resolves'],
    ];
    for (const [cause, id, fix] of cases) {
      const [incident] = run(startFailure(0, cause));
      expect(incident).toMatchObject({ severity: 'critical', category: 'database', diagnosis: { cause: id, confidence: 'high' } });
      expect(incident?.diagnosis.remediation[0]).toContain(fix);
    }
  });

  it('Nexus retrying against a PostgreSQL that is down: one incident with the count', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(...startFailure(i * 1000, REFUSED));
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 1000, subject: { type: 'database', name: 'postgres:5432' }, facts: { host: 'postgres:5432', refusal: 'refused' } });
    expect(incident?.summary).toMatch(/^PostgreSQL at postgres:5432 refused the connection: Nexus cannot use its database, 1,000 times in 17 min/);
  });

  it('the most telling class wins when several come in one episode; 30 quiet minutes end it', () => {
    const lines = [...startFailure(0, 'org.postgresql.util.PSQLException: FATAL: the database system is starting up'), ...startFailure(10_000, 'org.postgresql.util.PSQLException: FATAL: password authentication failed for user "nexus"'), ...startFailure(31 * MINUTE + 10_000, REFUSED)];
    const found = run(lines);
    expect(found.map((i) => i.diagnosis.cause)).toEqual(['postgresql-authentication-failed', 'postgresql-refused']);
    expect(found[0]?.facts['by refusal']).toEqual(['starting-up 1', 'auth 1']);
  });

  it('near misses: other `does not exist`, INFO lines', () => {
    expect(run([line(0, 'ERROR', 'org.x.Y', 'FATAL: database "x" is fine'), line(1, 'INFO', 'org.x.Y', REFUSED), line(2, 'ERROR', 'org.x.Y', 'Connection to remote refused')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([databaseConnectionRefused.id], line(0, 'ERROR', 'org.x.Y', adversarial('Connection to FATAL: database " for user "postmaster is accepting TCP/IP connections')));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout
});
