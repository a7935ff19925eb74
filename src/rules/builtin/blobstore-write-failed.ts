/**
 * Rule `blobstore-write-failed`: a blob store cannot store (or start, or be created): one
 * incident per blob store (or bucket) and cause while it goes on, since every request that
 * writes to a broken store fails the same way. The cause decides the fix: file permissions,
 * the temp directory, a full or read-only disk, cloud credentials, IAM/service-account
 * permissions, a missing or unreachable bucket.
 *
 *   BS-6   BlobStoreException: BlobId: {id}, {exception}: {message}, Cause: {msg}              (message or stack line of any logger)
 *            e.g. BlobId: tmp$<uuid>, java.nio.file.FileAlreadyExistsException: /nexus-data/blobs/default/content/tmp
 *                 BlobId: tmp$<uuid>, java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content/tmp/...
 *   BS-6   BlobStoreException: [BlobId: null, ]Unable to initialize blob store bucket: {bucket}[, Cause: {msg}]   (S3, Google Cloud)
 *   BS-6   BlobStoreException: Error uploading blob to bucket:{bucket} key:{key}, Cause: {msg}                      (S3 uploader)
 *   BS-10  BlobStoreManagerImpl ERROR Unable to restore BlobStore {config or name} / Unable to start BlobStore {name}
 *          BlobStoreManagerImpl ERROR Failed transition: NEW -> STARTED  + a BlobStoreException in the stack
 *   BS-4   S3BlobStore WARN S3 bucket '{bucket}' is not writable.  (+ the SDK exception)
 *   BS-11  AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; ...)
 *          SdkClientException: Unable to execute HTTP request: ...;  ... InvalidAccessKeyId / SignatureDoesNotMatch / NoSuchBucket
 *   GCS    com.google.cloud.storage.StorageException: {msg}   (... does not have storage.buckets.create access ...)
 *   Azure  BlobStorageException: ... AuthenticationFailed / AuthorizationPermissionMismatch / ContainerNotFound
 *
 * Not this rule: a temp blob cut short because the client's upload ended (`EofException: Early
 * EOF`, the blob store is fine: rule request-failed), blobs missing from a store (rule
 * blobstore-missing-blob), `File blob store '{name}' is not writable` (BS-5, rule disk-full).
 * Parsed with indexOf only.
 */
import type { NexusEvent } from '../../events/log-event';
import { repositoryOfPath } from '../../events/http-log-line';
import type { Confidence, Reference, Rule, Severity } from '../rule';
import { blobStoreOfPath, cut, looksLikePath, nexusEventOf } from './storage-texts';
import { howOften, listOf, plural } from './wording';

const BLOB_STORE_EXCEPTION = 'BlobStoreException: ';
const INIT_BUCKET = 'Unable to initialize blob store bucket: ';
/** FileBlobStore.init: the store's content directories could not be made (BS-6; docker-nexus#56). */
const INIT_DIRECTORY = 'Unable to initialize blob store directory structure: ';
const UPLOAD_TO_BUCKET = 'Error uploading blob to bucket:';
const RESTORE = 'Unable to restore BlobStore ';
const START = 'Unable to start BlobStore ';
const S3_NOT_WRITABLE = "S3 bucket '";
const S3_EXCEPTION = 'AmazonS3Exception: ';
const SDK_CLIENT = 'SdkClientException: ';
const GCS_EXCEPTION = 'com.google.cloud.storage.StorageException';
const AZURE_EXCEPTION = 'BlobStorageException';
const FAILURE_SERVICING = 'Failure servicing: ';
/** The UI or REST call that creates or changes a blob store (ExtDirectServlet `Failed to invoke action method: coreui_Blobstore.create`). */
const UI_CREATE = 'coreui_Blobstore.create';
const UI_UPDATE = 'coreui_Blobstore.update';
/** An AWS SDK class named in a line that is not a stack frame (a trace collapsed onto one line by a web page). */
const AWS_SDK = 'com.amazonaws.';

export type BlobWriteCause =
  | 'file-permission-denied'
  | 'temp-path-conflict'
  | 'file-already-exists'
  | 'disk-full'
  | 'read-only-filesystem'
  | 'cloud-credentials-invalid'
  | 'cloud-permission-denied'
  | 'bucket-missing'
  | 's3-connection-pool-exhausted'
  | 'cloud-storage-unreachable'
  | 'bucket-init-failed'
  | 'blob-store-config-invalid'
  | 'plugin-incompatible'
  | 'blob-store-start-failed'
  | 'cloud-storage-error'
  | 'blob-store-io-error';

/** When it failed: creating the store (UI/REST), starting it (Nexus start), or serving a request or task. */
export type BlobWritePhase = 'create' | 'start' | 'write';

interface Signal {
  store: string | null;
  cause: BlobWriteCause;
  phase: BlobWritePhase;
  /** The line the cause rests on (cut). */
  detail: string;
  /** A file path the exception names. */
  path: string | null;
  blob: string | null;
  repository: string | null;
  backend: 'file' | 's3' | 'google' | 'azure' | null;
}

interface State {
  store: string | null;
  cause: BlobWriteCause;
  phase: BlobWritePhase;
  firstDetail: string;
  lastDetail: string;
  path: string | null;
  backend: 'file' | 's3' | 'google' | 'azure' | null;
}

/** The token at `at`, up to a space, a comma, a quote, `)`, a line end or the end. */
function tokenAt(text: string, at: number): string {
  let end = at;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code === 0x20 || code === 0x2c || code === 0x29 || code === 0x27 || code === 0x22 || code === 0x09 || code === 0x0a || code === 0x0d) break;
    end++;
  }
  return text.slice(at, end);
}

/** The value after `marker` (a token), or null. */
function tokenAfter(text: string, marker: string): string | null {
  const at = text.indexOf(marker);
  if (at === -1) return null;
  const token = tokenAt(text, at + marker.length);
  return token === '' ? null : token;
}

/** `Unable to restore BlobStore BlobStoreConfiguration{name='s3', ...}` or `... BlobStore s3` -> the name. */
function storeNameAfter(text: string, marker: string): string | null {
  const at = text.indexOf(marker);
  if (at === -1) return null;
  const rest = text.slice(at + marker.length, at + marker.length + 400);
  const quoted = rest.indexOf("name='");
  if (quoted !== -1) {
    const close = rest.indexOf("'", quoted + 6);
    if (close !== -1) return rest.slice(quoted + 6, close) || null;
  }
  const token = tokenAt(rest, 0);
  return token === '' ? null : token;
}

/** The first file path an exception line names after `Exception: ` (`...AccessDeniedException: /nexus-data/...`). */
function pathOf(lines: readonly string[]): string | null {
  for (const line of lines) {
    for (let at = line.indexOf('Exception: '); at !== -1; at = line.indexOf('Exception: ', at + 11)) {
      const token = tokenAt(line, at + 11);
      if (looksLikePath(token)) return token.endsWith(':') ? token.slice(0, -1) : token;
    }
  }
  return null;
}

/** Whether a text says the client's request body ended early (the blob store is not at fault). */
export function isClientEarlyEof(text: string): boolean {
  return text.includes('EofException') || text.includes('Early EOF');
}

/** The cause a blob store failure's text shows. */
export function classifyBlobWrite(text: string, path: string | null): BlobWriteCause {
  if (text.includes('No space left on device') || text.includes('not enough space on the disk')) return 'disk-full';
  if (text.includes('Read-only file system')) return 'read-only-filesystem';
  if (text.includes('AccessDeniedException') || text.includes('Permission denied') || text.includes('Operation not permitted')) return 'file-permission-denied';
  if (text.includes('FileAlreadyExistsException')) return path !== null && /[\\/]tmp$/.test(path) ? 'temp-path-conflict' : 'file-already-exists';
  if (
    text.includes('InvalidAccessKeyId') ||
    text.includes('does not exist in our records') ||
    text.includes('SignatureDoesNotMatch') ||
    text.includes('ExpiredToken') ||
    text.includes('security token included in the request is invalid') ||
    text.includes('Unable to load AWS credentials') ||
    text.includes('Unable to load credentials') ||
    text.includes('invalid_grant') ||
    text.includes('Invalid Credentials') ||
    text.includes('AuthenticationFailed')
  ) {
    return 'cloud-credentials-invalid';
  }
  if (text.includes('NoSuchBucket') || text.includes('specified bucket does not exist') || text.includes('ContainerNotFound') || text.includes('The specified container does not exist')) return 'bucket-missing';
  if (
    text.includes('AccessDenied') ||
    text.includes('Access Denied') ||
    text.includes('Status Code: 403') ||
    text.includes('AuthorizationPermissionMismatch') ||
    text.includes('AuthorizationFailure') ||
    text.includes('does not have storage.') ||
    text.includes('403 Forbidden')
  ) {
    return 'cloud-permission-denied';
  }
  if (text.includes('Timeout waiting for connection from pool')) return 's3-connection-pool-exhausted';
  // A blob store plugin built for another Nexus version (or installed incompletely).
  if (text.includes('NoClassDefFoundError') || text.includes('IncompatibleClassChangeError') || text.includes('NoSuchMethodError') || text.includes('ClassNotFoundException')) return 'plugin-incompatible';
  // A required attribute of the store's configuration is absent (AttributesMap.require): `Missing: {s3} bucket`.
  if (text.includes('Missing: {')) return 'blob-store-config-invalid';
  if (
    text.includes('Unable to execute HTTP request') ||
    text.includes('UnknownHostException') ||
    text.includes('Connection refused') ||
    text.includes('connect timed out') ||
    text.includes('Read timed out') ||
    text.includes('SocketTimeoutException') ||
    text.includes('Broken pipe') ||
    text.includes('Connection reset') ||
    text.includes('Connection has been shutdown')
  ) {
    return 'cloud-storage-unreachable';
  }
  if (text.includes(INIT_BUCKET)) return 'bucket-init-failed';
  if (text.includes(RESTORE) || text.includes(START) || text.includes('Failed transition: NEW -> STARTED')) return 'blob-store-start-failed';
  if (text.includes(GCS_EXCEPTION) || text.includes(S3_EXCEPTION) || text.includes(SDK_CLIENT) || text.includes(AZURE_EXCEPTION) || text.includes(S3_NOT_WRITABLE)) return 'cloud-storage-error';
  return 'blob-store-io-error';
}

function phaseOf(event: NexusEvent): BlobWritePhase {
  const message = event.message;
  if (message.includes('coreui_Blobstore.create') || message.includes('coreui_Blobstore.update')) return 'create';
  if (message.startsWith(RESTORE) || message.startsWith(START) || message.startsWith('Failed transition: NEW -> STARTED') || event.thread === 'FelixStartLevel') return 'start';
  return 'write';
}

function backendOf(text: string, logger: string): Signal['backend'] {
  if (text.includes('amazonaws') || text.includes('Amazon S3') || logger.includes('S3BlobStore') || text.includes(S3_NOT_WRITABLE) || text.includes('.s3.')) return 's3';
  if (text.includes('com.google.cloud') || text.includes('gserviceaccount') || text.includes('.gcloud.')) return 'google';
  if (text.includes('com.azure') || text.includes(AZURE_EXCEPTION)) return 'azure';
  if (text.includes('java.nio.file') || logger.endsWith('FileBlobStore') || text.includes('/blobs/')) return 'file';
  return null;
}

/** The blob store failure an event shows, or undefined. */
export function parseBlobWriteFailure(event: NexusEvent): Signal | undefined {
  const lines = [event.message, ...event.continuation];
  const relevant = lines.filter(
    (line) =>
      line.includes(BLOB_STORE_EXCEPTION) ||
      line.includes(INIT_BUCKET) ||
      line.includes(RESTORE) ||
      line.includes(START) ||
      line.startsWith(S3_NOT_WRITABLE) ||
      line.includes(S3_EXCEPTION) ||
      line.includes(SDK_CLIENT) ||
      line.includes(GCS_EXCEPTION) ||
      line.includes(AZURE_EXCEPTION) ||
      line.includes(UI_CREATE) ||
      line.includes(UI_UPDATE) ||
      line.includes(AWS_SDK),
  );
  if (relevant.length === 0) return undefined;
  const all = lines.join('\n');
  // The client's upload ended early: the store is fine. Missing blobs: rule blobstore-missing-blob.
  if (isClientEarlyEof(all) || all.includes('exists in metadata, but is missing from the blobstore')) return undefined;
  const path = pathOf(lines);
  const store =
    tokenAfter(all, INIT_BUCKET) ??
    tokenAfter(all, INIT_DIRECTORY) ??
    tokenAfter(all, UPLOAD_TO_BUCKET) ??
    storeNameAfter(all, START) ??
    storeNameAfter(all, RESTORE) ??
    (event.message.startsWith(S3_NOT_WRITABLE) ? tokenAt(event.message, S3_NOT_WRITABLE.length) || null : null) ??
    (path === null ? null : blobStoreOfPath(path));
  const cause = classifyBlobWrite(all, path);
  // The line the cause shows best: the last Caused by, else the first relevant line.
  let detail = relevant[0] as string;
  for (const line of event.continuation) if (line.trimStart().startsWith('Caused by: ')) detail = line.trim();
  const blob = tokenAfter(all, 'BlobId: ');
  const servicing = event.message.startsWith(FAILURE_SERVICING) ? event.message.slice(FAILURE_SERVICING.length) : null;
  const uri = servicing === null ? null : servicing.slice(servicing.indexOf(' ') + 1);
  return {
    store,
    cause,
    phase: phaseOf(event),
    detail: cut(detail, 300),
    path,
    blob: blob === null || blob === 'null' ? null : blob,
    repository: uri === null ? null : repositoryOfPath(uri),
    backend: backendOf(all, event.logger),
  };
}

interface CauseText {
  phrase: string;
  confidence: Confidence;
  explain(store: string, s: Readonly<State>): string;
  fix(store: string, s: Readonly<State>): string[];
  references?: Reference[];
}

const DOCKER_IMAGE: Reference = { title: 'sonatype/docker-nexus3: persistent data must be owned by uid 200', url: 'https://github.com/sonatype/docker-nexus3' };
const BLOB_STORES: Reference = { title: 'Sonatype: Configuring Blob Stores', url: 'https://help.sonatype.com/en/configuring-blob-stores.html' };

const CAUSES: Record<BlobWriteCause, CauseText> = {
  'file-permission-denied': {
    phrase: 'permission denied',
    confidence: 'high',
    explain: (store, s) =>
      `The operating system refused Nexus access to the files of ${store}${s.path === null ? '' : ` (${s.path})`} (AccessDeniedException / Permission denied): ` +
      'the directory is owned by another user than the one Nexus runs as, often after a copy, a restore or a new volume (the Docker image runs Nexus as uid 200).',
    fix: (store, s) => [
      `Give the Nexus user ownership of the blob store directory${s.path === null ? '' : ` (${dirOf(s.path)})`}: e.g. chown -R nexus:nexus <dir>, or chown -R 200:200 <dir> for the sonatype/nexus3 image.`,
      'Check the mount options (read-only, root_squash on NFS) and SELinux labels (:Z on Docker volumes).',
      `Retry the failed uploads or downloads once ${store} is writable.`,
    ],
    references: [DOCKER_IMAGE, BLOB_STORES],
  },
  'temp-path-conflict': {
    phrase: 'temp directory unusable',
    confidence: 'high',
    explain: (store, s) =>
      `${cap(store)} cannot create temp blobs: ${s.path ?? 'its content/tmp path'} exists but is not a usable directory (FileAlreadyExistsException), ` +
      'e.g. a file or a broken link in its place, or a directory that cannot be created on the volume. Every write through this store fails, proxy downloads included (clients get 500).',
    fix: (store, s) => [
      `Look at ${s.path ?? 'the content/tmp path of the blob store'} on the Nexus host: if it is a file or a dangling link, stop Nexus, move it away and recreate it as a directory owned by the Nexus user.`,
      `Check that the volume of ${store} is mounted and writable (ls -ld on the path and its parents).`,
    ],
    references: [{ title: 'sonatype/nexus-public issue 568: FileAlreadyExistsException for /nexus-data/blobs/default/content/tmp', url: 'https://github.com/sonatype/nexus-public/issues/568' }, BLOB_STORES],
  },
  'file-already-exists': {
    phrase: 'file already exists',
    confidence: 'medium',
    explain: (store, s) => `${cap(store)} could not create ${s.path ?? 'a file'} because something already exists at that path (FileAlreadyExistsException).`,
    fix: (store, s) => [`Look at ${s.path ?? 'the path in the evidence'} on the host of ${store}: remove or move what is in the way (with Nexus stopped).`],
    references: [BLOB_STORES],
  },
  'disk-full': {
    phrase: 'no space left on device',
    confidence: 'high',
    explain: (store) => `The disk of ${store} is full (No space left on device): every upload and proxy download into it fails.`,
    fix: (store) => [
      `Free space on the volume of ${store} or grow it; then run 'Admin - Compact blob store' for ${store} to remove soft-deleted blobs.`,
      'Run cleanup policies on the repositories that use it so the space does not fill again.',
    ],
    references: [{ title: 'Sonatype support: blob store out of disk space (article 360000096228)', url: 'https://support.sonatype.com/hc/en-us/articles/360000096228' }],
  },
  'read-only-filesystem': {
    phrase: 'read-only file system',
    confidence: 'high',
    explain: (store) => `The file system of ${store} is read-only (the kernel remounts a volume read-only after I/O errors, or it was mounted so): no blob can be written.`,
    fix: (store) => [`Check the volume of ${store} (dmesg, mount): repair the file system and remount it read-write, then restart Nexus.`],
  },
  'cloud-credentials-invalid': {
    phrase: 'credentials refused',
    confidence: 'high',
    explain: (store, s) =>
      `The ${backendName(s.backend)} refused the credentials of ${store} (${s.lastDetail.includes('InvalidAccessKeyId') ? 'the access key does not exist' : 'invalid, deleted or expired credentials'}).`,
    fix: (store, s) => [
      `Set valid credentials on ${store} (Administration > Repository > Blob Stores > ${store}): ${s.backend === 'google' ? 'a service account key that exists' : s.backend === 'azure' ? 'a valid account key or managed identity' : 'an access key that exists and its secret, or an IAM role'}.`,
      'If Nexus cannot start because of it, fix the credentials in the blob store configuration (for OrientDB, export and edit the config database) and restart.',
    ],
    references: [{ title: 'sonatype/nexus-blobstore-s3 issue 61: cannot start after the bucket and access keys were deleted', url: 'https://github.com/sonatype/nexus-blobstore-s3/issues/61' }, BLOB_STORES],
  },
  'cloud-permission-denied': {
    phrase: 'permission denied by the cloud storage',
    confidence: 'high',
    explain: (store, s) =>
      `The ${backendName(s.backend)} authenticated Nexus but denied the operation on ${store} (403 / access denied): the ${s.backend === 'google' ? 'service account lacks a role or permission' : s.backend === 'azure' ? 'identity lacks a role on the container' : 'IAM policy lacks an action'} the blob store needs.`,
    fix: (store, s) => [
      s.backend === 'google'
        ? `Grant the service account the permissions it lacks on the project or bucket of ${store} (the log names it, e.g. storage.buckets.create: Storage Admin, or pre-create the bucket and grant Storage Object Admin).`
        : s.backend === 'azure'
          ? `Grant the identity of ${store} a data role on the container (Storage Blob Data Contributor).`
          : `Allow the IAM user or role of ${store} the S3 actions Nexus needs on the bucket and its objects (s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket, s3:GetLifecycleConfiguration, s3:PutLifecycleConfiguration, s3:PutObjectTagging, s3:GetObjectTagging, s3:DeleteObjectTagging, s3:GetBucketAcl, s3:CreateBucket if Nexus creates it).`,
      'Check bucket policies and KMS key policies too: a deny there wins over the IAM grant.',
    ],
    references: [{ title: 'nexus-blobstore-google-cloud issue 48: service account lacks storage.buckets.create', url: 'https://github.com/sonatype-nexus-community/nexus-blobstore-google-cloud/issues/48' }, BLOB_STORES],
  },
  'bucket-missing': {
    phrase: 'bucket missing',
    confidence: 'high',
    explain: (store, s) => `The bucket (or container) of ${store} does not exist in the ${backendName(s.backend)}: deleted, renamed, or another region or account.`,
    fix: (store) => [`Recreate the bucket or point ${store} at the right one (name, region, endpoint); if it was deleted, restore its content from backup and reconcile.`],
  },
  's3-connection-pool-exhausted': {
    phrase: 'S3 connection pool exhausted',
    confidence: 'medium',
    explain: (store) => `Requests of ${store} waited too long for a connection to S3 (Timeout waiting for connection from pool): more concurrent blob operations than the pool allows, or S3 answering slowly.`,
    fix: (store) => [`Raise the S3 connection pool size of ${store} (blob store settings, Connection pool size) or reduce concurrent load; check the latency to the S3 endpoint.`],
  },
  'cloud-storage-unreachable': {
    phrase: 'storage unreachable',
    confidence: 'high',
    explain: (store, s) => `Nexus could not reach the ${backendName(s.backend)} of ${store}, or lost the connection to it (unable to execute the HTTP request: DNS, connection refused, timed out, reset or broken pipe).`,
    fix: (store) => [
      `Check the endpoint and region of ${store} and that the Nexus host can reach it (DNS, firewall, outbound HTTP proxy: Administration > System > HTTP).`,
      'For S3-compatible storage (MinIO, Ceph), check the service is up and path-style access is set if it needs it.',
    ],
  },
  'plugin-incompatible': {
    phrase: 'plugin incompatible',
    confidence: 'high',
    explain: (store, s) =>
      `The ${backendName(s.backend)} blob store code failed to load a class it needs (${s.firstDetail}): the blob store plugin was built for another Nexus version, or installed incompletely, so ${store} cannot work.`,
    fix: () => [
      'Install the build of the blob store plugin made for this exact Nexus version (or the version bundled with Nexus, for S3, Azure and Google Cloud in recent releases), then restart.',
      'After an upgrade of Nexus, upgrade or remove hand-installed plugins before starting.',
    ],
  },
  'blob-store-config-invalid': {
    phrase: 'configuration incomplete',
    confidence: 'medium',
    explain: (store, s) =>
      `The configuration of ${store} lacks a setting the ${backendName(s.backend)} blob store requires (${s.firstDetail}): the form or REST call that created it and the blob store plugin disagree, ` +
      'often a plugin built from another version than the Nexus it runs in.',
    fix: (store) => [
      `Create or update ${store} again with every required field (bucket, region, credentials); through REST, compare the JSON with the API documentation of this Nexus version.`,
      'If a blob store plugin is installed by hand, use the build made for this Nexus version.',
    ],
  },
  'bucket-init-failed': {
    phrase: 'bucket could not be initialized',
    confidence: 'medium',
    explain: (store, s) =>
      `Nexus could not initialize the bucket ${store} of a ${backendName(s.backend)} blob store; the part of the log read does not show why. ` +
      'The usual causes are credentials, permissions to create or configure the bucket (lifecycle, tagging), a wrong region or endpoint, or a name that is taken.',
    fix: (store) => [
      `Read the Caused by lines after this one in nexus.log: they name the cloud error for ${store}.`,
      'Check the credentials and the permissions of the identity Nexus uses on that bucket, the region and the endpoint; pre-create the bucket if Nexus may not.',
    ],
    references: [{ title: 'sonatype/nexus-blobstore-s3 issue 24: failed to create S3 blob store', url: 'https://github.com/sonatype/nexus-blobstore-s3/issues/24' }, BLOB_STORES],
  },
  'blob-store-start-failed': {
    phrase: 'failed to start',
    confidence: 'medium',
    explain: (store) => `Blob store ${store} failed to start: every repository that uses it is unavailable until it does.`,
    fix: (store) => [`Read the exception after the line: it says why ${store} cannot start (a missing mount, bucket or credentials).`, `Fix that, then restart Nexus or the blob store.`],
    references: [BLOB_STORES],
  },
  'cloud-storage-error': {
    phrase: 'cloud storage error',
    confidence: 'low',
    explain: (store, s) => `The ${backendName(s.backend)} of ${store} failed the operation without saying why (${s.lastDetail}).`,
    fix: (store) => [
      `Look for the cloud provider's own error (the HTTP status, the Caused by lines, the provider's audit logs) for ${store}.`,
      'If it happens with large uploads only, check timeouts and upload size limits between Nexus and the storage.',
    ],
    references: [{ title: 'nexus-blobstore-google-cloud issue 49: StorageException on large uploads', url: 'https://github.com/sonatype-nexus-community/nexus-blobstore-google-cloud/issues/49' }],
  },
  'blob-store-io-error': {
    phrase: 'I/O error',
    confidence: 'low',
    explain: (store, s) => `${cap(store)} failed to store a blob: ${s.lastDetail}.`,
    fix: (store) => [`Check the storage of ${store} (disk, mount, permissions, bucket) with the exception in the evidence.`],
  },
};

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function dirOf(path: string): string {
  const at = path.replace(/\\/g, '/').indexOf('/content/');
  return at === -1 ? path : path.slice(0, at);
}

function backendName(backend: State['backend']): string {
  switch (backend) {
    case 's3':
      return 'S3 storage';
    case 'google':
      return 'Google Cloud Storage';
    case 'azure':
      return 'Azure storage';
    case 'file':
      return 'file system';
    default:
      return 'storage';
  }
}

export const blobstoreWriteFailed: Rule<Signal, State> = {
  id: 'blobstore-write-failed',
  title: 'Blob store cannot write (or start): permissions, disk, bucket or credentials',
  severity: 'error',
  category: 'blobstore',
  reads: [
    {
      levels: ['WARN', 'ERROR'],
      literals: [BLOB_STORE_EXCEPTION, INIT_BUCKET, S3_EXCEPTION, SDK_CLIENT, GCS_EXCEPTION, AZURE_EXCEPTION],
      continuation: true,
    },
    { levels: ['ERROR'], loggers: ['BlobStoreManagerImpl'], literals: [{ text: RESTORE, at: 'start' }, { text: START, at: 'start' }], continuation: true },
    // Creating or changing a blob store from the UI fails whatever the exception.
    { levels: ['ERROR', 'WARN'], loggers: ['ExtDirectServlet', 'ExtDirectExceptionHandler'], literals: [UI_CREATE, UI_UPDATE], continuation: true },
    // A web page's one-line copy of a trace (`Caused by: ... at com.amazonaws.http...`): read from loose text.
    { levels: ['ERROR'], literals: [AWS_SDK] },
    { levels: ['WARN'], loggers: ['S3BlobStore'], literals: [{ text: S3_NOT_WRITABLE, at: 'start' }], continuation: true },
  ],
  windowMs: 60 * 60_000,
  distinctLimit: 10,
  causedBy: [{ rule: 'disk-full', withinMs: 24 * 60 * 60_000 }],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseBlobWriteFailure(nexus);
  },

  key(signal) {
    return `${signal.store ?? ''}\u0000${signal.cause}`;
  },

  open(signal) {
    return { store: signal.store, cause: signal.cause, phase: signal.phase, firstDetail: signal.detail, lastDetail: signal.detail, path: signal.path, backend: signal.backend };
  },

  distinct(signal) {
    const values: Record<string, string> = {};
    if (signal.repository !== null) values.repository = signal.repository;
    if (signal.blob !== null) values.blob = signal.blob;
    return values;
  },

  add(state, signal) {
    state.lastDetail = signal.detail;
    state.path ??= signal.path;
    state.backend ??= signal.backend;
    if (signal.phase === 'start') state.phase = 'start';
  },

  describe(state, group) {
    const text = CAUSES[state.cause];
    const storeName = state.store === null ? 'a blob store' : `blob store ${state.store}`;
    const repositories = group.distinct.repository ?? { values: [], total: 0 };
    const what = state.phase === 'create' ? 'could not be created' : state.phase === 'start' ? 'could not start' : 'failed to write';
    const affected = repositories.total > 0 ? `; ${plural(repositories.total, 'repository', 'repositories')} hit (${listOf(repositories.values, repositories.total, 3)})` : '';
    const severity: Severity = state.phase === 'start' ? 'critical' : 'error';
    return {
      subject: state.store === null ? null : { type: 'blobstore', name: state.store },
      fingerprint: [state.store, state.cause],
      summary: `${cap(storeName)} ${what} (${text.phrase}): ${howOften(group.count, group.firstTime, group.lastTime)}${affected}.`,
      severity,
      facts: {
        'blob store': state.store ?? 'not named in the log',
        cause: text.phrase,
        when: state.phase === 'create' ? 'creating the blob store' : state.phase === 'start' ? 'starting the blob store' : 'storing blobs',
        ...(state.backend === null ? {} : { storage: backendName(state.backend) }),
        ...(state.path === null ? {} : { path: state.path }),
        ...(repositories.total > 0 ? { repositories: repositories.values } : {}),
        'last error': state.lastDetail,
      },
      diagnosis: {
        cause: state.cause,
        explanation: text.explain(storeName, state),
        confidence: text.confidence,
        remediation: text.fix(storeName, state),
        ...(text.references === undefined ? {} : { references: text.references }),
      },
    };
  },
};
