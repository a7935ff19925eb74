/** disk-full: no space left, OrientDB low disk space, blob store not writable, Elasticsearch watermark, read-only file systems. */
import { diskFull, parseDiskFull, pathBefore } from '../../src/rules/builtin/disk-full';
import { databaseReadOnly } from '../../src/rules/builtin/database-read-only';
import { adversarial, corpusEntry, eventOf, HOUR, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const FILE_BLOB_STORE = 'org.sonatype.nexus.blobstore.file.FileBlobStore';
const DECIDER = 'org.elasticsearch.cluster.routing.allocation.decider';
const run = (text: string | string[]) => incidents(diskFull, text);

const noSpace = (ms: number, path: string): string[] => [
  line(ms, 'WARN', 'org.sonatype.nexus.repository.httpbridge.internal.ViewServlet', 'Failure servicing: PUT /repository/maven-releases/a.jar'),
  'org.sonatype.nexus.blobstore.api.BlobStoreException: BlobId: tmp$1, java.nio.file.FileSystemException: ' + path + ': No space left on device',
  'Caused by: java.nio.file.FileSystemException: ' + path + ': No space left on device',
  '\tat sun.nio.fs.UnixException.translateToIOException(UnixException.java:91)',
];

describe('disk-full', () => {
  it('finds the file a `No space left on device` line names', () => {
    const line1 = 'java.nio.file.FileSystemException: /nexus-data/blobs/default/content/tmp/tmp$x.bytes: No space left on device';
    expect(pathBefore(line1, line1.indexOf('No space'))).toBe('/nexus-data/blobs/default/content/tmp/tmp$x.bytes');
    const line2 = 'java.io.FileNotFoundException: /nexus-data/log/request.log (No space left on device)';
    expect(pathBefore(line2, line2.indexOf('No space'))).toBe('/nexus-data/log/request.log');
    const line3 = 'java.io.IOException: No space left on device';
    expect(pathBefore(line3, line3.indexOf('No space'))).toBeNull();
  });

  it('a full disk under the data directory: one critical incident, subject the data directory, with the blob stores and databases hit', () => {
    const lines = [...noSpace(0, '/nexus-data/blobs/default/content/tmp/tmp$1.bytes'), ...noSpace(1000, '/nexus-data/blobs/docker/content/tmp/tmp$2.bytes')];
    lines.push(line(2000, 'ERROR', 'org.h2.Something', 'Failed to write'), 'org.h2.mvstore.MVStoreException: IO Exception: "java.io.IOException: No space left on device"; "/nexus-data/db/nexus.mv.db" [90028-232]');
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({
      severity: 'critical',
      count: 3,
      subject: { type: 'directory', name: '/nexus-data' },
      facts: { directory: '/nexus-data', 'blob stores': ['default', 'docker'], databases: ['nexus'], free: '0 bytes' },
      diagnosis: { cause: 'disk-full', confidence: 'high' },
    });
    expect(incident?.summary).toBe('The disk under /nexus-data is full (0 bytes free): 3 times on 3 files, hitting blob store default and docker and database nexus.');
    expect(incident?.diagnosis.remediation[0]).toContain('df -h');
  });

  it('a storm is one incident with the distinct files; an hour without a line ends it', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(...noSpace(i * 1000, `/nexus-data/blobs/default/content/tmp/tmp$${i % 100}.bytes`));
    lines.push(...noSpace(1000 * 1000 + 61 * MINUTE, '/nexus-data/blobs/default/content/tmp/tmp$z.bytes'));
    const found = run(lines);
    expect(found.map((i) => i.count)).toEqual([1000, 1]);
    expect(found[0]?.distinct.path?.total).toBe(100);
  });

  it('blob store not writable (BS-5): usable space 0 is a full disk, read only a read-only file system', () => {
    const full = run(line(0, 'WARN', FILE_BLOB_STORE, "File blob store 'default' is not writable. Read only: false. Usable space: 0"));
    expect(full[0]).toMatchObject({ subject: { type: 'blobstore', name: 'default' }, diagnosis: { cause: 'disk-full' }, facts: { free: '0 bytes' } });
    const readOnly = run(line(0, 'WARN', FILE_BLOB_STORE, "File blob store 'default' is not writable. Read only: true. Usable space: 52428800"));
    expect(readOnly[0]).toMatchObject({ severity: 'critical', subject: { type: 'blobstore', name: 'default' }, diagnosis: { cause: 'filesystem-read-only' } });
    expect(readOnly[0]?.diagnosis.remediation[0]).toContain('read-only');
    // `is not writable.` with an exception: only a full or read-only file system is this rule's.
    expect(run([line(0, 'WARN', FILE_BLOB_STORE, "File blob store 'b1' is not writable."), 'java.nio.file.FileSystemException: /blobs/b1: Read-only file system'])[0]?.diagnosis.cause).toBe('filesystem-read-only');
    expect(run([line(0, 'WARN', FILE_BLOB_STORE, "File blob store 'b1' is not writable."), 'java.nio.file.NoSuchFileException: /blobs/b1'])).toEqual([]);
  });

  it('Elasticsearch high and flood-stage watermarks (DB-10); the low watermark is not a full disk', () => {
    const high = run(line(0, 'WARN', DECIDER, '[C5E1E0C5] high disk watermark [90%] exceeded on [hXoW3][C5E1E0C5][/nexus-data/elasticsearch/nexus/nodes/0] free: 1.2gb[8.1%], shards will be relocated away from this node', { thread: 'elasticsearch[C5E1E0C5][management][T#4]' }));
    expect(high[0]).toMatchObject({ severity: 'error', subject: { type: 'directory', name: '/nexus-data' }, diagnosis: { cause: 'disk-high-watermark' }, facts: { free: '1.2 GB' } });
    expect(high[0]?.summary).toContain("passed Elasticsearch's high disk watermark (90% used) (1.2 GB free)");
    expect(run(line(0, 'WARN', DECIDER, 'flood stage disk watermark [95%] exceeded on [a][b][/data] free: 100mb[2%], all indices on this node will be marked read-only'))[0]?.diagnosis.cause).toBe('disk-high-watermark');
    expect(run(line(0, 'INFO', DECIDER, 'low disk watermark [85%] exceeded on [a][b][/data] free: 3gb[14%], replicas will not be assigned to this node'))).toEqual([]);
    expect(run(line(0, 'WARN', DECIDER, 'low disk watermark [85%] exceeded on [a][b][/data] free: 3gb[14%], replicas will not be assigned to this node'))).toEqual([]);
  });

  it('OLowDiskSpaceException cut short still names the database', () => {
    const [incident] = run([line(0, 'ERROR', 'com.orientechnologies.orient.core.storage.impl.local.paginated.OLocalPaginatedStorage', 'Exception `1` in storage `plocal:/nexus-data/db/config`'), 'com.orientechnologies.orient.core.exception.OLowDiskSpaceException: Error occurred while exec']);
    expect(incident).toMatchObject({ subject: { type: 'database', name: 'config' }, diagnosis: { cause: 'orientdb-low-disk-space' } });
  });

  it('a read-only file system anywhere', () => {
    const [incident] = run([line(0, 'ERROR', 'org.x.Y', 'Failed to write'), 'java.nio.file.FileSystemException: /nexus-data/log/tasks/x.log: Read-only file system']);
    expect(incident).toMatchObject({ subject: { type: 'directory', name: '/nexus-data' }, diagnosis: { cause: 'filesystem-read-only' } });
  });

  it('names itself the cause of the read-only database that follows', () => {
    const lines = [
      line(0, 'ERROR', 'com.orientechnologies.orient.core.storage.impl.local.paginated.OLocalPaginatedStorage', 'Exception `1A2B` in storage `plocal:/nexus-data/db/component`: 2.2.36'),
      "com.orientechnologies.orient.core.exception.OLowDiskSpaceException: Error occurred while executing a write operation to database 'component' due to limited free space on the disk (2621 MB). The database is now working in read-only mode. Please close the database (or stop OrientDB), make room on your hard drive and then reopen the database. The minimal required space is 4096 MB.",
      line(MINUTE, 'WARN', 'org.sonatype.nexus.repository.view.handlers.ExceptionHandler', "Nexus Repository Manager is in read-only mode for repository 'maven-releases': PUT /a/b.jar: com.orientechnologies.common.concur.lock.OModificationOperationProhibitedException: x"),
    ];
    const disk = incidents([diskFull, databaseReadOnly], lines, 'disk-full');
    const readOnly = incidents([diskFull, databaseReadOnly], lines, 'database-read-only');
    expect(disk[0]).toMatchObject({ subject: { type: 'database', name: 'component' }, diagnosis: { cause: 'orientdb-low-disk-space' }, facts: { free: '2.6 GB', required: '4.0 GB' } });
    expect(readOnly[0]?.causes).toEqual([disk[0]?.id]);
    expect(readOnly[0]?.diagnosis.cause).toBe('orientdb-low-disk-space');
  });

  it('separate HA nodes, separate incidents; 61 quiet minutes too', () => {
    const lines = [line(0, 'ERROR', 'org.x.Y', 'java.io.IOException: No space left on device', { node: 'a' }), line(1, 'ERROR', 'org.x.Y', 'java.io.IOException: No space left on device', { node: 'b' }), line(61 * MINUTE + HOUR, 'ERROR', 'org.x.Y', 'java.io.IOException: No space left on device', { node: 'a' }), line(61 * MINUTE + HOUR + 1, 'INFO', 'org.x.Y', 'tick')];
    expect(run(lines).map((i) => [i.subject?.name, i.count])).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 1],
    ]);
  });

  it('near misses', () => {
    expect(run([line(0, 'INFO', 'org.x.Y', 'java.io.IOException: No space left on device'), line(1, 'WARN', 'org.x.Y', 'Blob store default is using 90% of its quota')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([diskFull.id], line(0, 'ERROR', 'org.x.Y', adversarial(': /a: No space left on device (No space left on device; "')));
    await incidentsOffThread([diskFull.id], line(0, 'WARN', DECIDER, `high disk watermark [${adversarial('[x][')}`));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  it('real excerpt stevehipwell/helm-charts#632: OLowDiskSpaceException on OSystem (a lone exception line, no timestamp)', () => {
    const name = 'helm-charts-632-olowdiskspace-osystem.log';
    expect(corpusEntry(name).expected.map((e) => [e.class, e.subject])).toContainEqual(['disk-full', 'OSystem']);
    const [incident, ...rest] = run(realLog(name));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ subject: { type: 'database', name: 'OSystem' }, facts: { free: '2.6 GB', required: '4.0 GB' }, diagnosis: { cause: 'orientdb-low-disk-space' } });
    // The same line as the exception of a logged event.
    const [text] = realLog(name).split('\n');
    expect(parseDiskFull(eventOf([text as string]))).toMatchObject({ kind: 'orient-low-disk', database: 'OSystem', freeBytes: 2621 * 1024 ** 2, requiredBytes: 4096 * 1024 ** 2 });
  });
});
