/** database-read-only: refused writes, the freeze service, OrientDB low disk, H2 read only. */
import { databaseReadOnly, parseFrozenBy, parseReadOnly, parseReadOnlyRejection } from '../../src/rules/builtin/database-read-only';
import { adversarial, corpusEntry, eventOf, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const HANDLER = 'org.sonatype.nexus.repository.view.handlers.ExceptionHandler';
const FREEZE = 'org.sonatype.nexus.orient.internal.freeze.DatabaseFreezeServiceImpl';
const run = (text: string | string[]) => incidents(databaseReadOnly, text);

const refused = (ms: number, repo: string, path: string, exception = 'org.sonatype.nexus.common.app.FrozenException: Nexus Repository Manager is in read-only mode'): string =>
  line(ms, 'WARN', HANDLER, `Nexus Repository Manager is in read-only mode for repository '${repo}': PUT ${path}: ${exception}`, { user: 'deployer' });

describe('database-read-only', () => {
  it('parses a refused write, both layouts', () => {
    expect(parseReadOnlyRejection("Nexus Repository Manager is in read-only mode for repository 'maven-releases': PUT /org/a/1.0/a-1.0.jar: org.sonatype.nexus.common.app.FrozenException: x", 'nexus')).toMatchObject({
      kind: 'frozen',
      repository: 'maven-releases',
      action: 'PUT',
      path: '/org/a/1.0/a-1.0.jar',
    });
    expect(parseReadOnlyRejection('Nexus Repository Manager is in read-only mode: DELETE /x/y: com.orientechnologies.orient.core.exception.OWriteOperationNotPermittedException: z', 'nexus')).toMatchObject({
      kind: 'orient-read-only',
      repository: null,
      action: 'DELETE',
      path: '/x/y',
    });
  });

  it('parses who froze the databases (DB-2)', () => {
    expect(parseFrozenBy("Database was frozen by USER_INITIATED process 'admin' at 2020-01-01T10:00:00.000Z")).toEqual({ type: 'USER_INITIATED', id: 'admin' });
    expect(parseFrozenBy("Database was frozen by SYSTEM process 'Backup-7' at 2020-01-01T10:00:00.000Z")).toEqual({ type: 'SYSTEM', id: 'Backup-7' });
  });

  it('frozen by an administrator, then writes refused: one incident with the repositories', () => {
    const lines = [
      line(0, 'WARN', FREEZE, "Database was frozen by USER_INITIATED process 'admin' at 2025-03-02T18:00:00.000Z", { thread: 'FelixStartLevel' }),
      line(1, 'WARN', FREEZE, 'Databases must be unfrozen manually', { thread: 'FelixStartLevel' }),
    ];
    for (let i = 0; i < 1000; i++) lines.push(refused(MINUTE + i * 1000, i % 2 === 0 ? 'maven-releases' : 'npm-hosted', `/a/${i}`));
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({
      severity: 'error',
      count: 1002,
      subject: { type: 'server', name: 'nexus' },
      facts: { 'frozen by': 'USER_INITIATED admin', 'unfreeze manually': true, 'writes refused': 1000 },
      diagnosis: { cause: 'frozen-by-administrator', confidence: 'high' },
    });
    expect(incident?.summary).toBe('The databases are read-only (frozen by admin): 1,000 writes refused in 2 repositories (maven-releases and npm-hosted).');
    expect(incident?.diagnosis.remediation[0]).toContain('/service/rest/v1/read-only/release');
  });

  it('frozen by a system process (the backup task) vs no word on who froze it', () => {
    expect(run(line(0, 'WARN', FREEZE, "Database was frozen by SYSTEM process 'db.backup' at 2025-03-02T18:00:00.000Z"))[0]?.diagnosis.cause).toBe('frozen-by-task');
    expect(run(refused(0, 'r', '/a'))[0]?.diagnosis.cause).toBe('database-frozen');
    expect(run(refused(0, 'r', '/a', 'OModificationOperationProhibitedException: Modification requests are prohibited'))[0]?.diagnosis.cause).toBe('database-frozen');
  });

  it('a discarded freeze request is not read-only', () => {
    expect(run(line(0, 'WARN', FREEZE, "Discarding freeze request by SYSTEM process 'db.backup'"))).toEqual([]);
  });

  it('H2 read only: the database file cannot be written', () => {
    const [incident] = run([
      line(0, 'ERROR', 'org.sonatype.nexus.upgrade.internal.UpgradeServiceImpl', 'Failed transition: NEW -> STARTED'),
      '### Error updating database.  Cause: org.h2.jdbc.JdbcSQLNonTransientException: The database is read only; SQL statement:',
    ]);
    expect(incident).toMatchObject({ subject: { type: 'database', name: 'nexus' }, diagnosis: { cause: 'h2-file-read-only' } });
    expect(incident?.diagnosis.remediation[0]).toContain('chown');
  });

  it('an hour without a line ends it', () => {
    expect(run([refused(0, 'r', '/a'), refused(61 * MINUTE, 'r', '/b')]).map((i) => i.count)).toEqual([1, 1]);
  });

  it('near misses', () => {
    expect(run([line(0, 'INFO', HANDLER, "Nexus Repository Manager is in read-only mode for repository 'r': PUT /a: x"), line(1, 'WARN', 'org.x.Other', "Database was frozen by SYSTEM process 'x' at y")])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([databaseReadOnly.id], line(0, 'WARN', HANDLER, `Nexus Repository Manager is in read-only mode for repository '${adversarial("x': PUT ")}`));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  describe('real excerpts (no timestamps in them)', () => {
    it('nexus-public#545: H2 `The database is read only` (MyBatis error text without its header line)', () => {
      const name = 'np-545-h2-database-read-only-markdown-headings.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toEqual(['database-read-only']);
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ subject: { type: 'database', name: 'nexus' }, diagnosis: { cause: 'h2-file-read-only' } });
      expect(parseReadOnly(eventOf(['Failed transition: NEW -> STARTED', ...realLog(name).split('\n')]))).toMatchObject({ kind: 'h2-read-only', database: 'nexus' });
    });

    it('stevehipwell/helm-charts#632: OLowDiskSpaceException, `now working in read-only mode`, database OSystem', () => {
      const name = 'helm-charts-632-olowdiskspace-osystem.log';
      expect(corpusEntry(name).expected.map((e) => [e.class, e.subject])).toContainEqual(['database-read-only', 'OSystem']);
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ subject: { type: 'database', name: 'OSystem' }, diagnosis: { cause: 'orientdb-low-disk-space' } });
    });
  });
});
