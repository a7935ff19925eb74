/** database-corrupted: OrientDB broken pages, missing files and schema, failed log replay, storage exceptions; corrupt H2 files. */
import { databaseCorrupted, parseCorruption } from '../../src/rules/builtin/database-corrupted';
import { diskFull } from '../../src/rules/builtin/disk-full';
import { adversarial, corpusEntry, eventOf, HOUR, incidents, line, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const STORAGE = 'com.orientechnologies.orient.core.storage.impl.local.paginated.OLocalPaginatedStorage';
const run = (text: string | string[]) => incidents(databaseCorrupted, text);
const storageError = (ms: number, db: string, user = 'publisher'): string =>
  line(ms, 'ERROR', STORAGE, `Exception \`77B454F6\` in storage \`plocal:/nexus-data/db/${db}\`: 2.2.36 (build d3beb772c02098ceaea89779a7afd4b7305d3788, branch 2.2.x)`, { thread: 'qtp882109627-45', user });

describe('database-corrupted', () => {
  it('classifies the damage', () => {
    const cases: Array<[string[], string, string]> = [
      [["com.orientechnologies.orient.core.exception.OPageIsBrokenException: Following files and pages are detected to be broken ['asset.pcl' :1234], storage is switched to 'read only' mode.", '\tDB name="component"'], 'orientdb-pages-broken', 'component'],
      [['com.orientechnologies.orient.core.exception.OSchemaNotCreatedException: Schema is not created and cannot be loaded', '\tDB name="config"'], 'orientdb-schema-missing', 'config'],
      [["com.orientechnologies.orient.core.exception.OStorageException: File with name 'realm.cpm' does not exist in storage 'security'"], 'orientdb-file-missing', 'security'],
      [['org.h2.jdbc.JdbcSQLNonTransientConnectionException: File corrupted while reading record: "/nexus-data/db/nexus.mv.db". Possible solution: use the recovery tool [90030-232]'], 'h2-file-corrupted', 'nexus'],
      [['org.h2.mvstore.MVStoreException: File is corrupted - unable to recover a valid set of chunks [2.2.224/6]'], 'h2-file-corrupted', 'nexus'],
    ];
    for (const [trace, cause, db] of cases) {
      const [incident] = run([line(0, 'ERROR', 'org.sonatype.nexus.extender.NexusContextListener', 'Failed to start nexus', { thread: 'FelixStartLevel' }), ...trace]);
      expect(incident).toMatchObject({ severity: 'critical', subject: { type: 'database', name: db }, diagnosis: { cause, confidence: 'high' } });
    }
  });

  it('an OrientDB storage exception no other rule explains: low confidence, the users whose writes fail', () => {
    const [incident] = run([storageError(0, 'component'), storageError(1000, 'component', 'ci')]);
    expect(incident).toMatchObject({ count: 2, subject: { name: 'component' }, diagnosis: { cause: 'orientdb-storage-exception', confidence: 'low' } });
    expect(incident?.summary).toBe('Database component is damaged: OrientDB throws storage exceptions on it (2 times; writes by publisher, ci fail).');
  });

  it('a storage exception that is another rule\'s (cannot open, low disk, locked, frozen) is not corruption', () => {
    for (const cause of [
      "com.orientechnologies.orient.core.exception.OStorageException: Cannot open local storage '/nexus-data/db/security' with mode=rw",
      "com.orientechnologies.orient.core.exception.OLowDiskSpaceException: Error occurred while executing a write operation to database 'component' due to limited free space on the disk (100 MB).",
      'com.orientechnologies.common.concur.lock.OModificationOperationProhibitedException: Modification requests are prohibited',
    ]) {
      expect(run([storageError(0, 'component'), cause])).toEqual([]);
    }
  });

  it('a named kind of damage beats the bare storage exception in the same episode', () => {
    const [incident] = run([storageError(0, 'component'), storageError(1000, 'component'), "com.orientechnologies.orient.core.exception.OPageIsBrokenException: Following files and pages are detected to be broken ['asset.pcl' :1], storage is switched to 'read only' mode.", '\tDB name="component"']);
    expect(incident?.diagnosis.cause).toBe('orientdb-pages-broken');
  });

  it('a storm is one incident; an hour without a line ends it', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(storageError(i * 1000, 'component'));
    lines.push(storageError(1000 * 1000 + HOUR + 1, 'component'));
    expect(run(lines).map((i) => i.count)).toEqual([1000, 1]);
  });

  it('names a full disk before it as its cause', () => {
    const lines = [line(0, 'ERROR', 'org.x.Y', 'java.io.IOException: No space left on device'), storageError(2 * HOUR, 'component'), line(2 * HOUR + 1, 'INFO', 'org.x.Y', 'x')];
    const disk = incidents([databaseCorrupted, diskFull], lines, 'disk-full');
    const corrupted = incidents([databaseCorrupted, diskFull], lines, 'database-corrupted');
    expect(corrupted[0]?.causes).toEqual([disk[0]?.id]);
  });

  it('near misses', () => {
    expect(run([line(0, 'INFO', STORAGE, 'Exception `1` in storage `plocal:/nexus-data/db/x`'), line(1, 'ERROR', 'org.x.Y', 'Exception `1` in storage `plocal:/nexus-data/db/x`'), line(2, 'ERROR', 'org.x.Y', 'ZipException: File is corrupted')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([databaseCorrupted.id], line(0, 'ERROR', STORAGE, `Exception \`${adversarial(' in storage `plocal:/db/ DB name="')}`));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  describe('real excerpts', () => {
    it('docker/for-linux#841: realm.cpm does not exist in storage security', () => {
      const name = 'docker-for-linux-841-failed-to-start-realm-cpm.log';
      expect(corpusEntry(name).expected.map((e) => [e.class, e.subject])).toContainEqual(['database-corrupted', 'security']);
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ subject: { type: 'database', name: 'security' }, diagnosis: { cause: 'orientdb-file-missing' } });
    });

    it('nexus-public#212: a storage exception in component on uploads after the disk had been full (class other:orientdb-storage-exception)', () => {
      const name = 'np-212-orient-component-exception-after-compact-disk-full.log';
      expect(corpusEntry(name).expected.map((e) => [e.class, e.subject])).toContainEqual(['other:orientdb-storage-exception', 'component']);
      const [incident] = run(realLog(name));
      expect(incident).toMatchObject({ subject: { name: 'component' }, user: 'publisher', diagnosis: { cause: 'orientdb-storage-exception', confidence: 'low' } });
    });

    it('orientdb#8539: NullPointerException during storage data restore (OrientDB console output, no timestamps)', () => {
      const name = 'orientdb-8539-nexus-db-restore-npe-after-disk-full.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toEqual(['database-corrupted']);
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ subject: { type: 'database', name: 'unknown' }, diagnosis: { cause: 'orientdb-wal-restore-failed', confidence: 'high' } });
      expect(parseCorruption(eventOf(realLog(name).replace(/^`/, '').split('\n'), { logger: STORAGE }))).toMatchObject({ kind: 'wal-restore-failed' });
    });
  });
});
