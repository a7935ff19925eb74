/** database-cannot-open: OrientDB storage that will not open, H2 in use / closed / I/O errors, legacy OrientDB. */
import { databaseCannotOpen } from '../../src/rules/builtin/database-cannot-open';
import { databaseCorrupted } from '../../src/rules/builtin/database-corrupted';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const STORAGE = 'com.orientechnologies.orient.core.storage.impl.local.paginated.OLocalPaginatedStorage';
const MYBATIS = 'org.sonatype.nexus.datastore.mybatis.MyBatisDataStore';
const run = (text: string | string[]) => incidents(databaseCannotOpen, text);

const orient = (ms: number, db: string, ...cause: string[]): string[] => [
  line(ms, 'ERROR', STORAGE, `Exception \`02F0E3CD\` in storage \`plocal:/nexus-data/db/${db}\`: 2.2.36 (build d3beb772c02098ceaea89779a7afd4b7305d3788, branch 2.2.x)`, { thread: 'ForkJoinPool.commonPool-worker-2' }),
  `com.orientechnologies.orient.core.exception.OStorageException: Cannot open local storage '/nexus-data/db/${db}' with mode=rw`,
  `\tDB name="${db}"`,
  '\tat com.orientechnologies.orient.core.storage.impl.local.OAbstractPaginatedStorage.open(OAbstractPaginatedStorage.java:323)',
  ...cause,
];

describe('database-cannot-open', () => {
  it('OrientDB: the database and why, from the Caused by lines', () => {
    const cases: Array<[string[], string, string]> = [
      [["Caused by: com.orientechnologies.common.concur.lock.OLockException: File '/nexus-data/db/config/database.ocf' is locked by another process, maybe the database is in use by another process."], 'locked-by-another-process', 'high'],
      [['Caused by: java.nio.file.AccessDeniedException: /nexus-data/db/config/database.ocf'], 'permission-denied', 'high'],
      [['Caused by: java.io.IOException: No space left on device'], 'disk-full', 'high'],
      [[], 'cannot-open-unknown', 'low'],
    ];
    for (const [cause, id, confidence] of cases) {
      const [incident] = run(orient(0, 'config', ...cause));
      expect(incident).toMatchObject({ severity: 'critical', subject: { type: 'database', name: 'config' }, facts: { engine: 'OrientDB' }, diagnosis: { cause: id, confidence } });
    }
    expect(run(orient(0, 'config', 'Caused by: x.OLockException: File is locked by another process'))[0]?.summary).toBe('Database config cannot be opened (it is locked by another process): once.');
  });

  it('H2: already in use, I/O error, closed', () => {
    const inUse = run([
      line(0, 'ERROR', MYBATIS, 'Failed transition: NEW -> STARTED', { thread: 'FelixStartLevel' }),
      'com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool: Database may be already in use: "/nexus-data/db/nexus.mv.db". Possible solutions: close all other connection(s); use the server mode [90020-232]',
    ]);
    expect(inUse[0]).toMatchObject({ subject: { type: 'database', name: 'nexus' }, facts: { engine: 'H2' }, diagnosis: { cause: 'locked-by-another-process' } });
    expect(inUse[0]?.diagnosis.remediation[0]).toContain('only one Nexus');
    const io = run([line(0, 'ERROR', MYBATIS, 'Failed transition: NEW -> STARTED'), 'com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool: IO Exception: "/nexus-data/db/nexus.mv.db" [90028-232]']);
    expect(io[0]).toMatchObject({ subject: { name: 'nexus' }, diagnosis: { cause: 'h2-io-error', confidence: 'medium' } });
    const withCause = run([line(0, 'ERROR', MYBATIS, 'Failed transition: NEW -> STARTED'), 'x.PoolInitializationException: Failed to initialize pool: IO Exception: "/nexus-data/db/nexus.mv.db" [90028-232]', 'Caused by: java.io.IOException: Operation not permitted']);
    expect(withCause[0]?.diagnosis.cause).toBe('permission-denied');
  });

  it('H2 closed under a running Nexus: a storm of failed queries is one incident', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      lines.push(line(i * 1000, 'ERROR', 'org.sonatype.nexus.blobstore.file.internal.datastore.metrics.DatastoreFileBlobStoreMetricsService', 'Failed to save blobstore metrics to db', { thread: `periodic-${i % 4}-thread-1` }));
      lines.push('### Error querying database.  Cause: org.h2.jdbc.JdbcSQLNonTransientConnectionException: The database has been closed [90098-232]');
    }
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 1000, subject: { type: 'database', name: 'nexus' }, diagnosis: { cause: 'h2-database-closed' } });
    expect(incident?.summary).toMatch(/^H2 database nexus has been closed under the running Nexus \(every query fails\): 1,000 times in 17 min/);
  });

  it('a legacy OrientDB that must be migrated first (DB-6 banner, message on the lines after the header)', () => {
    const [incident] = run([
      line(0, 'ERROR', MYBATIS, '', { thread: 'FelixStartLevel' }),
      '-------------------------------------------------------------------------------------------------------------------------------------------',
      '',
      'This instance is using a legacy Orient database. ',
      'You must migrate to H2 or PostgreSQL before upgrading to this version. See our database migration help documentation at: ',
      'https://links.sonatype.com/products/nxrm3/docs/unsupported-db.',
    ]);
    expect(incident).toMatchObject({ subject: { type: 'database', name: 'orientdb' }, diagnosis: { cause: 'legacy-orient-database', confidence: 'high' } });
  });

  it('names the corruption found in the same lines as its cause', () => {
    const lines = orient(0, 'component', "Caused by: com.orientechnologies.orient.core.exception.OPageIsBrokenException: Following files and pages are detected to be broken ['component.pcl' :12], storage is switched to 'read only' mode.");
    const open = incidents([databaseCannotOpen, databaseCorrupted], lines, 'database-cannot-open');
    const corrupted = incidents([databaseCannotOpen, databaseCorrupted], lines, 'database-corrupted');
    expect(open[0]?.diagnosis.cause).toBe('database-damaged');
    expect(open[0]?.causes).toEqual([corrupted[0]?.id]);
  });

  it('one incident per database; 30 quiet minutes end it', () => {
    const found = run([...orient(0, 'config'), ...orient(1000, 'security'), ...orient(31 * MINUTE, 'config')]);
    expect(found.map((i) => i.subject?.name)).toEqual(['config', 'security', 'config']);
  });

  it('near misses: an OrientDB storage opened fine, INFO lines', () => {
    expect(
      run([
        line(0, 'INFO', STORAGE, "Storage 'plocal:/nexus-data/db/component' is opened under OrientDB distribution : 2.2.36"),
        line(1, 'INFO', 'org.x.Y', 'Cannot open local storage is a phrase'),
        line(2, 'ERROR', 'org.x.Y', 'IO Exception: "not an H2 code"'),
      ]),
    ).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([databaseCannotOpen.id], line(0, 'ERROR', 'org.x.Y', `Cannot open local storage ${adversarial('\'/db/ DB name="x plocal:/ "/a/db/ ')}`));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  describe('real excerpts', () => {
    const expectClass = (name: string, cls: string): void => {
      expect(corpusEntry(name).expected.map((e) => e.class)).toContain(cls);
    };

    it('sonatype/docker-nexus#96: Cannot open local storage security (the cause is beyond the excerpt)', () => {
      const name = 'docker-nexus-96-cannot-open-security-db.log';
      expectClass(name, 'database-cannot-open');
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ subject: { type: 'database', name: 'security' }, diagnosis: { cause: 'cannot-open-unknown', confidence: 'low' } });
      expect(incident?.diagnosis.remediation[0]).toContain('owner and permissions');
    });

    it('nexus-public#592: H2 `Database may be already in use`', () => {
      const name = 'np-592-h2-database-already-in-use-after-power-outage.log';
      expectClass(name, 'database-cannot-open');
      expect(run(realLog(name))[0]).toMatchObject({ subject: { name: 'nexus' }, diagnosis: { cause: 'locked-by-another-process' } });
    });

    it('h2database#4316: `The database has been closed` (class other:h2-database-closed)', () => {
      const name = 'h2-4316-nexus-database-has-been-closed.log';
      expectClass(name, 'other:h2-database-closed');
      expect(run(realLog(name))[0]).toMatchObject({ subject: { name: 'nexus' }, diagnosis: { cause: 'h2-database-closed' } });
    });

    it('nexus-public#1019: H2 IO Exception on nexus.mv.db (pasted as an inline code span: the first line starts with a backtick)', () => {
      const name = 'np-1019-h2-io-exception-backtick-start.log';
      expectClass(name, 'database-cannot-open');
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ subject: { type: 'database', name: 'nexus' }, facts: { engine: 'H2' }, diagnosis: { cause: 'h2-io-error' } });
    });
  });
});
