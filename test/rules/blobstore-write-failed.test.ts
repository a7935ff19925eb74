import { blobstoreWriteFailed } from '../../src/rules/builtin/blobstore-write-failed';
import { filesWithout, realIncidents } from '../support/request-lines';
import { adversarial, corpusEntry, HOUR, incidents, line, MINUTE, realLog } from '../support/rule-lines';

const VIEW = 'org.sonatype.nexus.repository.httpbridge.internal.ViewServlet';
const EXT = 'org.sonatype.nexus.extdirect.internal.ExtDirectServlet';
const MANAGER = 'org.sonatype.nexus.repository.internal.blobstore.BlobStoreManagerImpl';
const S3 = 'org.sonatype.nexus.blobstore.s3.internal.S3BlobStore';
const BSE = 'org.sonatype.nexus.blobstore.api.BlobStoreException';
const FRAME = '\tat org.sonatype.nexus.blobstore.file.FileBlobStore.tryCreate(FileBlobStore.java:465)';

const run = (text: string[]) => incidents(blobstoreWriteFailed, text);

/** A ViewServlet failure whose stack holds `exception`. */
function servicing(ms: number, uri: string, exception: string, thread = 'qtp1-1'): string {
  return [line(ms, 'WARN', VIEW, `Failure servicing: GET ${uri}`, { thread }), exception, FRAME].join('\n');
}

function tmpFailure(ms: number, id: string, cause: string, uri = '/repository/maven-central/a/b/1.0/b-1.0.jar'): string {
  return servicing(ms, uri, `${BSE}: BlobId: tmp$${id}, ${cause}, Cause: ${cause.slice(cause.indexOf(': ') + 2)}`);
}

describe('blobstore-write-failed: every text it reads', () => {
  it('BS-6 FileAlreadyExistsException on content/tmp: the temp directory, blob store from the path', () => {
    const [incident, ...rest] = run([tmpFailure(0, 'a1', 'java.nio.file.FileAlreadyExistsException: /nexus-data/blobs/default/content/tmp')]);
    expect(rest).toHaveLength(0);
    expect(incident).toMatchObject({ subject: { type: 'blobstore', name: 'default' }, severity: 'error', count: 1 });
    expect(incident?.diagnosis.cause).toBe('temp-path-conflict');
    expect(incident?.diagnosis.confidence).toBe('high');
    expect(incident?.facts.path).toBe('/nexus-data/blobs/default/content/tmp');
    expect(incident?.distinct.repository?.values).toEqual(['maven-central']);
    expect(incident?.summary).toBe('Blob store default failed to write (temp directory unusable): once; 1 repository hit (maven-central).');
    expect(incident?.diagnosis.remediation[0]).toContain('/nexus-data/blobs/default/content/tmp');
  });

  it('BS-6 AccessDeniedException: file permissions, with the directory and the uid of the Docker image', () => {
    const [incident] = run([tmpFailure(0, 'a1', 'java.nio.file.AccessDeniedException: /nexus-data/blobs/npm-store/content/tmp/tmp$a1.properties')]);
    expect(incident?.subject).toEqual({ type: 'blobstore', name: 'npm-store' });
    expect(incident?.diagnosis.cause).toBe('file-permission-denied');
    expect(incident?.diagnosis.remediation[0]).toContain('/nexus-data/blobs/npm-store');
    expect(incident?.diagnosis.remediation[0]).toContain('200');
  });

  it('BS-6 No space left on device and read-only file systems', () => {
    expect(run([tmpFailure(0, 'a', 'java.io.IOException: No space left on device')]).map((i) => i.diagnosis.cause)).toEqual(['disk-full']);
    expect(run([tmpFailure(0, 'a', 'java.nio.file.FileSystemException: /nexus-data/blobs/default/content/tmp/x: Read-only file system')]).map((i) => [i.subject?.name, i.diagnosis.cause])).toEqual([
      ['default', 'read-only-filesystem'],
    ]);
  });

  it('Unable to initialize blob store bucket (creating it in the UI): the bucket is the subject', () => {
    const text = [line(0, 'ERROR', EXT, 'Failed to invoke action method: coreui_Blobstore.create, java-method: org.sonatype.nexus.coreui.BlobStoreComponent.create'), `${BSE}: BlobId: null, Unable to initialize blob store bucket: team-artifacts`, FRAME].join('\n');
    const [incident] = run([text]);
    expect(incident).toMatchObject({ subject: { type: 'blobstore', name: 'team-artifacts' }, severity: 'error' });
    expect(incident?.diagnosis.cause).toBe('bucket-init-failed');
    expect(incident?.facts.when).toBe('creating the blob store');
    expect(incident?.summary).toContain('could not be created');
  });

  it('S3 SDK errors tell credentials, permissions, a missing bucket, the network and the pool apart', () => {
    const s3 = (cause: string) => run([line(0, 'ERROR', MANAGER, 'Failed transition: NEW -> STARTED', { thread: 'FelixStartLevel' }) + `\n${BSE}: Unable to initialize blob store bucket: prod-blobs, Cause: ${cause}\n${FRAME}`]);
    const cases: Array<[string, string]> = [
      ['The AWS Access Key Id you provided does not exist in our records. (Service: Amazon S3; Status Code: 403; Error Code: InvalidAccessKeyId; Request ID: 1)', 'cloud-credentials-invalid'],
      ['The request signature we calculated does not match the signature you provided. (Service: Amazon S3; Status Code: 403; Error Code: SignatureDoesNotMatch)', 'cloud-credentials-invalid'],
      ['Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 2)', 'cloud-permission-denied'],
      ['The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket)', 'bucket-missing'],
      ['Unable to execute HTTP request: s3.eu-west-9.amazonaws.com: Name or service not known', 'cloud-storage-unreachable'],
      ['Unable to execute HTTP request: Timeout waiting for connection from pool', 's3-connection-pool-exhausted'],
    ];
    for (const [cause, expected] of cases) {
      const [incident] = s3(cause);
      expect([incident?.subject?.name, incident?.diagnosis.cause, incident?.severity, incident?.facts.when]).toEqual(['prod-blobs', expected, 'critical', 'starting the blob store']);
    }
  });

  it('BS-10 Unable to restore BlobStore {config} / Unable to start BlobStore {name}: a store down at start is critical', () => {
    const restore = [
      line(0, 'ERROR', MANAGER, "Unable to restore BlobStore BlobStoreConfiguration{name='s3-store', type='S3', attributes={s3={bucket=nexus}}}", { thread: 'FelixStartLevel' }),
      'com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: X)',
      '\tat com.amazonaws.http.AmazonHttpClient.handleErrorResponse(AmazonHttpClient.java:1)',
    ].join('\n');
    const start = [line(0, 'ERROR', MANAGER, 'Unable to start BlobStore nfs-store', { thread: 'FelixStartLevel' }), 'java.nio.file.AccessDeniedException: /mnt/nfs/nexus/content', FRAME].join('\n');
    expect(run([restore]).map((i) => [i.subject?.name, i.diagnosis.cause, i.severity])).toEqual([['s3-store', 'cloud-permission-denied', 'critical']]);
    expect(run([start]).map((i) => [i.subject?.name, i.diagnosis.cause, i.severity])).toEqual([['nfs-store', 'file-permission-denied', 'critical']]);
    expect(run([line(0, 'ERROR', MANAGER, 'Unable to start BlobStore lost-store')]).map((i) => i.diagnosis.cause)).toEqual(['blob-store-start-failed']);
  });

  it('BS-6 Unable to initialize blob store directory structure: {name} (a file store failing to start): the store is the subject', () => {
    const text = [line(0, 'ERROR', MANAGER, 'Failed transition: NEW -> STARTED', { thread: 'FelixStartLevel' }), `${BSE}: BlobId: null, Unable to initialize blob store directory structure: nfs-store`, FRAME].join('\n');
    expect(run([text]).map((i) => [i.subject?.name, i.diagnosis.cause, i.facts['when']])).toEqual([['nfs-store', 'blob-store-start-failed', 'starting the blob store']]);
  });

  it("BS-4 S3 bucket '{bucket}' is not writable, classified by its SDK exception", () => {
    const text = [line(0, 'WARN', S3, "S3 bucket 'shared-bucket' is not writable."), 'com.amazonaws.SdkClientException: Unable to execute HTTP request: Connect to minio:9000 failed: Connection refused'].join('\n');
    expect(run([text]).map((i) => [i.subject?.name, i.diagnosis.cause, i.facts.storage])).toEqual([['shared-bucket', 'cloud-storage-unreachable', 'S3 storage']]);
  });

  it('Google Cloud: StorageException with no message, and a service account without permission', () => {
    const gcs = servicing(0, '/repository/raw-hosted/big.tar.gz', 'com.google.cloud.storage.StorageException: null');
    expect(run([gcs]).map((i) => [i.subject, i.diagnosis.cause, i.diagnosis.confidence])).toEqual([[null, 'cloud-storage-error', 'low']]);
    const denied = [
      line(0, 'ERROR', 'org.sonatype.nexus.extdirect.internal.ExtDirectExceptionHandler', 'Failed to invoke action method: coreui_Blobstore.create, java-method: org.sonatype.nexus.coreui.BlobStoreComponent.create'),
      `${BSE}: Unable to initialize blob store bucket: gcs-blobs, Cause: nexus@proj.iam.gserviceaccount.com does not have storage.buckets.create access to project 1.`,
    ].join('\n');
    const [incident] = run([denied]);
    expect([incident?.subject?.name, incident?.diagnosis.cause, incident?.facts.storage]).toEqual(['gcs-blobs', 'cloud-permission-denied', 'Google Cloud Storage']);
    expect(incident?.diagnosis.remediation[0]).toContain('service account');
  });

  it('Azure: BlobStorageException AuthorizationPermissionMismatch', () => {
    const text = servicing(0, '/repository/maven-releases/x.jar', 'com.azure.storage.blob.models.BlobStorageException: Status code 403, "AuthorizationPermissionMismatch"');
    expect(run([text]).map((i) => [i.diagnosis.cause, i.facts.storage])).toEqual([['cloud-permission-denied', 'Azure storage']]);
  });
});

describe('blobstore-write-failed: texts seen in the second real corpus batch', () => {
  it('creating a store in the UI fails on a missing attribute (nexus-blobstore-s3#13): the configuration is incomplete', () => {
    const [incident] = incidents(blobstoreWriteFailed, realLog('nexus-blobstore-s3-13-missing-s3-bucket-attribute.log'));
    expect(incident).toMatchObject({ diagnosis: { cause: 'blob-store-config-invalid' } });
  });

  it('a trace collapsed onto one line by a web page, named by its AWS SDK classes: S3 unreachable', () => {
    const [incident] = incidents(blobstoreWriteFailed, realLog('sonatype-kb-s3-connect-timed-out-collapsed.log'));
    expect(incident).toMatchObject({ diagnosis: { cause: 'cloud-storage-unreachable' } });
  });

  it('a dropped connection (Broken pipe, Connection has been shutdown) is the storage unreachable, not an unknown cloud error', () => {
    const [incident] = incidents(blobstoreWriteFailed, realLog('google-cloud-java-3678-headerless-gcs-broken-pipe.log'));
    expect(incident).toMatchObject({ diagnosis: { cause: 'cloud-storage-unreachable' } });
  });
});

describe('blobstore-write-failed: storms and windows', () => {
  it('1,000 failing writes to one store are one incident with the count and the distinct blobs and repositories', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(tmpFailure(i * 1000, `blob-${i}`, 'java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content/tmp', `/repository/repo-${i % 3}/x/${i}.jar`));
    const found = run(lines);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ count: 1000, subject: { name: 'default' } });
    expect(found[0]?.distinct.blob?.total).toBe(1000);
    expect(found[0]?.distinct.repository?.total).toBe(3);
    expect(found[0]?.summary).toMatch(/1,000 times in 17 min .*3 repositories hit \(repo-0, repo-1 and repo-2\)/);
  });

  it('two stores, or two causes on one store, are separate incidents', () => {
    const found = run([
      tmpFailure(0, 'a', 'java.nio.file.AccessDeniedException: /nexus-data/blobs/one/content/tmp'),
      tmpFailure(1000, 'b', 'java.nio.file.AccessDeniedException: /nexus-data/blobs/two/content/tmp'),
      tmpFailure(2000, 'c', 'java.nio.file.FileSystemException: /nexus-data/blobs/one/content/tmp/tmp$c.bytes: No space left on device'),
    ]);
    expect(found.map((i) => [i.subject?.name, i.diagnosis.cause]).sort()).toEqual([
      ['one', 'disk-full'],
      ['one', 'file-permission-denied'],
      ['two', 'file-permission-denied'],
    ]);
  });

  it('an hour without a failure ends the incident: the next one is a second incident', () => {
    const cause = 'java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content/tmp';
    const found = run([tmpFailure(0, 'a', cause), tmpFailure(30 * MINUTE, 'b', cause), tmpFailure(30 * MINUTE + HOUR + 1000, 'c', cause)]);
    expect(found.map((i) => [i.count, i.closeReason])).toEqual([
      [2, 'window'],
      [1, 'end-of-input'],
    ]);
  });
});

describe('blobstore-write-failed: near misses', () => {
  it('a client upload cut short (Early EOF) is not a blob store failure', () => {
    expect(run([tmpFailure(0, 'a', 'org.eclipse.jetty.io.EofException: Early EOF')])).toEqual([]);
    const s3Upload = [
      line(0, 'WARN', 'org.sonatype.nexus.repository.docker.internal.V2Handlers', 'Error: PUT /v2/eas/reposync/blobs/uploads/482388ec'),
      `${BSE}: Error uploading blob to bucket:eas-containers key:content/directpath/x.bytes, Cause: Early EOF`,
    ].join('\n');
    expect(run([s3Upload])).toEqual([]);
  });

  it('missing blobs are rule blobstore-missing-blob; other levels, other exceptions and quota lines are nothing', () => {
    expect(run([servicing(0, '/repository/r/x', `${BSE}: Blob default@1 exists in metadata, but is missing from the blobstore`)])).toEqual([]);
    expect(run([line(0, 'INFO', VIEW, `Failure servicing: GET /repository/r/x`) + `\n${BSE}: BlobId: tmp$1, java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content/tmp`])).toEqual([]);
    expect(run([servicing(0, '/repository/r/x', "com.orientechnologies.orient.core.exception.OStorageException: Cannot open local storage '/nexus-data/db/component'")])).toEqual([]);
    expect(run([line(0, 'WARN', 'org.sonatype.nexus.blobstore.quota.BlobStoreQuotaUsageChecker', 'Blob store default is using 10 GB space and has a limit of 5 GB')])).toEqual([]);
    expect(run([line(0, 'WARN', S3, "S3 bucket name 'x' is fine")])).toEqual([]);
  });

  it('reads a 300 KB adversarial message without trouble', () => {
    const long = adversarial(`${BSE}BlobId: , Unable to initialize blob store bucket:Exception: /`, 300_000);
    const found = run([line(0, 'ERROR', EXT, long), `${BSE}: BlobId: tmp$x, ${adversarial('java.nio.file.AccessDeniedException: ', 300_000)}`]);
    expect(found.length).toBeLessThanOrEqual(1);
  });
});

describe('blobstore-write-failed on the real excerpts', () => {
  const cases: Array<[string, string | null, string]> = [
    ['nexus-blobstore-gcloud-10-unable-to-initialize-bucket.log', 'maven-storage', 'bucket-init-failed'],
    ['nexus-blobstore-gcloud-48-bucket-create-permission-denied.log', 'hogehugapiyo-nexus-blob-nagashima-w', 'cloud-permission-denied'],
    ['nexus-blobstore-gcloud-49-viewservlet-put-storage-exception.log', null, 'cloud-storage-error'],
    ['nexus-blobstore-s3-24-unable-to-initialize-bucket.log', '{MY_BUCKET_NAME}', 'bucket-init-failed'],
    ['nexus-blobstore-s3-61-blobstore-start-invalid-access-key-quoted.log', 'zone-nexus-s3', 'cloud-credentials-invalid'],
    ['np-568-viewservlet-blobstore-tmp-file-already-exists.log', 'default', 'temp-path-conflict'],
    ['docker-nexus-56-nfs-blobstore-directory-structure-backtick.log', 'default', 'blob-store-start-failed'],
  ];

  it.each(cases)('%s: the labelled subject, with the cause the log shows', (file, subject, cause) => {
    const label = corpusEntry(file).expected.find((e) => e.class === 'blobstore-write-failed');
    expect(label?.subject).toBe(subject);
    expect(realLog(file)).toContain(label?.proof);
    const found = realIncidents(blobstoreWriteFailed, file);
    expect(found).toHaveLength(1);
    expect(found[0]?.subject?.name ?? null).toBe(subject);
    expect(found[0]?.diagnosis.cause).toBe(cause);
  });

  it('the store that could not start at boot (s3-61) is critical', () => {
    expect(realIncidents(blobstoreWriteFailed, 'nexus-blobstore-s3-61-blobstore-start-invalid-access-key-quoted.log')[0]?.severity).toBe('critical');
  });

  it('n3dr-439 (Early EOF: the client, not the store) makes no incident', () => {
    expect(corpusEntry('n3dr-439-rest-upload-blobstore-early-eof.log').expected.map((e) => e.class)).toEqual(['other:upload-client-early-eof']);
    expect(realIncidents(blobstoreWriteFailed, 'n3dr-439-rest-upload-blobstore-early-eof.log')).toEqual([]);
  });

  it('stays silent on every excerpt not labelled with it', () => {
    for (const file of filesWithout('blobstore-write-failed')) expect([file, realIncidents(blobstoreWriteFailed, file).length]).toEqual([file, 0]);
  });
});
