/**
 * Rule `request-failed`: requests Nexus failed to serve, classified by the root cause of the
 * failure (the last `Caused by:` of the stack, or the error text). A broken dependency (memory,
 * file descriptors, database pool, blob store, disk) fails every request the same way: runs of
 * one failure on one repository fold into one incident (`aggregate`), with the request count
 * and the distinct paths.
 *
 *   PX-8  ViewServlet WARN Failure servicing: {METHOD} {uri}   + stack (root cause: the last Caused by)
 *   PX-8  ViewServlet WARN Bad request. Reason: {message}
 *   PX-9  ExceptionHandler WARN Illegal operation: {ACTION} {path}: {exception}     (redeploy refused, read-only: 400)
 *   PX-9  ExceptionHandler WARN Invalid content: {ACTION} {path}: {exception}       (400 on PUT, else 404)
 *         V2Handlers WARN Error: {METHOD} /v2/{image}/...: {status} - {error}   or   Error: {METHOD} /v2/... + stack
 *           (blob uploads: rule docker-blob-upload-rejected; the `'digest' on null` NPE: rule docker-manifest-npe-provenance)
 *         V2ManifestUtilImpl ERROR Manifest refers to missing layer: ... name='{repo}'   (same thread, before the
 *           V2Handlers 400: names the repository a connector-port path does not)
 *         UnexpectedExceptionMapper WARN (ID {id}) Unexpected exception: {exception}   (REST API)
 *
 * Each request is a group keyed by node and thread (a pooled Jetty thread serves one request at
 * a time); the failure line completes it. Parsed with indexOf only.
 */
import type { NexusEvent } from '../../events/log-event';
import { repositoryOfPath } from '../../events/http-log-line';
import type { Confidence, Reference, Rule, Severity } from '../rule';
import { isBlobUploadFailure, parseV2ErrorLine } from './docker-blob-upload-rejected';
import { MISSING_LAYER_LITERAL, parseMissingLayer } from './docker-messages';
import { cut, exceptionClassOf, nexusEventOf } from './storage-texts';
import { howOften, listOf, plural } from './wording';

const FAILURE_SERVICING = 'Failure servicing: ';
const BAD_REQUEST = 'Bad request. Reason: ';
const ILLEGAL_OPERATION = 'Illegal operation: ';
const INVALID_CONTENT = 'Invalid content: ';
const V2_ERROR = 'Error: ';
const UNEXPECTED = 'Unexpected exception: ';
/** Jetty 12 answering an exception no handler caught: `writeError: status=500, message=..., response=ErrorResponse@...{500,GET@... http://host:8081/v2/ HTTP/1.1}`. */
const WRITE_ERROR = 'writeError: status=';
const DIGEST_NPE = "Cannot get property 'digest' on null";

export type RequestCause =
  | 'too-many-open-files'
  | 'out-of-memory'
  | 'database-pool-exhausted'
  | 'disk-full'
  | 'blob-missing'
  | 'blob-store-failure'
  | 'database-read-only'
  | 'database-error'
  | 'remote-fetch-failed'
  | 'upload-client-early-eof'
  | 'client-aborted'
  | 'client-idle-timeout'
  | 'jetty-bad-message-400'
  | 'nexus-npe'
  | 'npm-metadata-invalid'
  | 'manifest-missing-layers'
  | 'manifest-invalid'
  | 'repository-read-only'
  | 'redeploy-refused'
  | 'illegal-operation'
  | 'invalid-content'
  | 'bad-request'
  | 'docker-request-rejected'
  | 'unhandled-exception';

/** Where the failure was logged: the repository servlet, a format-neutral handler, the Docker API, the REST API. */
type Origin = 'view' | 'bad-request' | 'handler' | 'docker' | 'rest' | 'jetty';

interface Failure {
  kind: 'failure';
  origin: Origin;
  method: string | null;
  /** The request path as logged (query dropped). */
  path: string | null;
  repository: string | null;
  image: string | null;
  reference: string | null;
  status: number | null;
  cause: RequestCause;
  /** The root exception line or error text (cut). */
  root: string;
  rootClass: string | null;
}

interface Layers {
  kind: 'layers';
  repository: string | null;
  image: string;
  tag: string;
}

type Signal = Failure | Layers;

interface State {
  layers: { repository: string | null; image: string; tag: string; count: number } | null;
  failure: Failure | null;
}

/** The cause a failure's text shows (message and exception lines together). */
export function classifyRequestFailure(text: string): RequestCause {
  if (text.includes('OutOfMemoryError')) return 'out-of-memory';
  if (text.includes('Too many open files')) return 'too-many-open-files';
  if (text.includes('No space left on device')) return 'disk-full';
  if (text.includes('Connection is not available, request timed out') || text.includes('SQLTransientConnectionException')) return 'database-pool-exhausted';
  if (text.includes('Early EOF')) return 'upload-client-early-eof';
  if (text.includes('BadMessageException')) return 'jetty-bad-message-400';
  if (text.includes('Idle timeout expired')) return 'client-idle-timeout';
  if (text.includes('EofException') || text.includes('ClientAbortException')) return 'client-aborted';
  if (text.includes('exists in metadata, but is missing from the blobstore') || text.includes('MissingBlobException')) return 'blob-missing';
  if (
    text.includes('BlobStoreException') ||
    text.includes('com.google.cloud.storage.StorageException') ||
    text.includes('AmazonS3Exception') ||
    text.includes('SdkClientException') ||
    text.includes('BlobStorageException')
  ) {
    return 'blob-store-failure';
  }
  if (text.includes('OModificationOperationProhibitedException') || text.includes('OWriteOperationNotPermittedException') || text.includes('FrozenException') || text.includes('read-only mode')) return 'database-read-only';
  if (text.includes('OStorageException') || text.includes('ODatabaseException') || text.includes('org.h2.') || text.includes('PSQLException') || text.includes('PersistenceException') || text.includes('database has been closed')) return 'database-error';
  if (
    text.includes('RemoteBlockedIOException') ||
    text.includes('HttpHostConnectException') ||
    text.includes('ConnectTimeoutException') ||
    text.includes('UnknownHostException') ||
    text.includes('SSLHandshakeException') ||
    text.includes('PKIX path building failed')
  ) {
    return 'remote-fetch-failed';
  }
  // An npm package root whose `versions` is not an object: what the remote served, or the cached copy, is not valid npm metadata.
  if (text.includes("child 'versions' not a Map")) return 'npm-metadata-invalid';
  if (text.includes('NullPointerException')) return 'nexus-npe';
  return 'unhandled-exception';
}

/** The root exception line of a stack: the last `Caused by:`, else the first exception line, else `fallback`. */
function rootOf(continuation: readonly string[], fallback: string): { root: string; rootClass: string | null } {
  let root: string | null = null;
  for (const line of continuation) if (line.trimStart().startsWith('Caused by: ')) root = line.trim().slice(11);
  if (root === null) for (const line of continuation) if (exceptionClassOf(line) !== null) { root = line.trim(); break; } // prettier-ignore
  const text = root ?? fallback;
  return { root: cut(text, 300), rootClass: exceptionClassOf(text) ?? classOfText(text) };
}

/** `org.x.FooException: msg` anywhere in a text (after `: `), or null. */
function classOfText(text: string): string | null {
  // Bounded: the first few occurrences, a class name of at most 200 characters.
  let tries = 0;
  for (let at = text.indexOf('Exception'); at !== -1 && tries < 8; at = text.indexOf('Exception', at + 9), tries++) {
    let start = at;
    while (start > 0 && start > at - 200 && /[\w.$]/.test(text.charAt(start - 1))) start--;
    const name = exceptionClassOf(text.slice(start, at + 9));
    if (name !== null) return name;
  }
  return null;
}

/** The repository of a servlet URI, with or without a context path (`/nexus/repository/<r>/...`). */
function repositoryOfUri(uri: string): string | null {
  const at = uri.indexOf('/repository/');
  return at === -1 ? null : repositoryOfPath(uri.slice(at));
}

/** The first token of `text` from `at` (to a space) and where it ends. */
function token(text: string, at: number): [string, number] {
  let end = text.indexOf(' ', at);
  if (end === -1) end = text.length;
  return [text.slice(at, end), end];
}

function withoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** The repository an exception text names (`Repository does not allow updating assets: r`, `r/path cannot be updated`, `Repository is read only: r`). */
function repositoryInText(text: string): string | null {
  for (const marker of ['does not allow updating assets: ', 'Repository is read only: ', 'Repository is read-only: ']) {
    const at = text.indexOf(marker);
    if (at !== -1) {
      const [name] = token(text, at + marker.length);
      const clean = name.replace(/[.,;'"]+$/, '');
      if (clean !== '') return clean;
    }
  }
  const updated = text.indexOf(' cannot be updated');
  if (updated > 0) {
    const start = text.lastIndexOf(' ', updated - 1) + 1;
    const candidate = text.slice(start, updated);
    const slash = candidate.indexOf('/');
    if (slash > 0) return candidate.slice(0, slash).replace(/^['"]/, '');
  }
  return null;
}

/** `/v2/<image>/(manifests|blobs|tags)/<ref>` -> image and reference. */
function dockerPath(path: string): { image: string | null; reference: string | null } {
  const v2 = path.indexOf('/v2/');
  if (v2 === -1) return { image: null, reference: null };
  for (const part of ['/manifests/', '/blobs/', '/tags/']) {
    const at = path.lastIndexOf(part);
    if (at > v2 + 4) return { image: path.slice(v2 + 4, at), reference: part === '/tags/' ? null : path.slice(at + part.length) || null };
  }
  return { image: null, reference: null };
}

function viewFailure(event: NexusEvent): Failure | undefined {
  const message = event.message;
  if (message.startsWith(BAD_REQUEST)) {
    const reason = message.slice(BAD_REQUEST.length);
    return { kind: 'failure', origin: 'bad-request', method: null, path: null, repository: null, image: null, reference: null, status: 400, cause: 'bad-request', root: cut(reason, 300), rootClass: null };
  }
  if (!message.startsWith(FAILURE_SERVICING)) return undefined;
  const [method, methodEnd] = token(message, FAILURE_SERVICING.length);
  const [uri] = token(message, methodEnd + 1);
  const { root, rootClass } = rootOf(event.continuation, message);
  const path = withoutQuery(uri);
  return {
    kind: 'failure',
    origin: 'view',
    method,
    path,
    repository: repositoryOfUri(path),
    image: null,
    reference: null,
    status: null,
    cause: classifyRequestFailure([message, ...event.continuation].join('\n')),
    root,
    rootClass,
  };
}

function handlerFailure(event: NexusEvent): Failure | undefined {
  const message = event.message;
  const illegal = message.startsWith(ILLEGAL_OPERATION);
  if (!illegal && !message.startsWith(INVALID_CONTENT)) return undefined;
  const [method, methodEnd] = token(message, (illegal ? ILLEGAL_OPERATION : INVALID_CONTENT).length);
  const colon = message.indexOf(': ', methodEnd + 1);
  const path = colon === -1 ? message.slice(methodEnd + 1) : message.slice(methodEnd + 1, colon);
  const exception = colon === -1 ? '' : message.slice(colon + 2);
  let cause: RequestCause = 'invalid-content';
  if (illegal) {
    cause =
      exception.includes('does not allow updating') || exception.includes('cannot be updated')
        ? 'redeploy-refused'
        : exception.includes('read only') || exception.includes('read-only')
          ? 'repository-read-only'
          : 'illegal-operation';
  }
  return {
    kind: 'failure',
    origin: 'handler',
    method,
    path: withoutQuery(path),
    repository: repositoryInText(exception),
    image: null,
    reference: null,
    status: illegal || method === 'PUT' ? 400 : 404,
    cause,
    root: cut(exception, 300),
    rootClass: classOfText(exception),
  };
}

function dockerFailure(event: NexusEvent): Failure | undefined {
  const message = event.message;
  if (!message.startsWith(V2_ERROR) || isBlobUploadFailure(message, event.continuation)) return undefined;
  if (message.includes(DIGEST_NPE) || event.continuation.some((line) => line.includes(DIGEST_NPE))) return undefined;
  const parsed = parseV2ErrorLine(message);
  if (parsed === undefined) return undefined;
  const path = withoutQuery(parsed.path);
  const { image, reference } = dockerPath(path);
  let cause: RequestCause;
  let root: string;
  let rootClass: string | null;
  // Blank lines after the line (a pasted excerpt, logs joined by hand) are no stack trace.
  if (parsed.status !== null && event.continuation.every((line) => line.trim() === '')) {
    root = cut(parsed.error, 300);
    rootClass = classOfText(parsed.error);
    if (parsed.error.includes('Invalid Manifest')) cause = 'manifest-invalid';
    else if (parsed.error.includes('is read only')) cause = 'repository-read-only';
    else if (parsed.status >= 500) cause = classifyRequestFailure(parsed.error);
    else cause = 'docker-request-rejected';
  } else {
    ({ root, rootClass } = rootOf(event.continuation, parsed.error === '' ? message : parsed.error));
    cause = classifyRequestFailure([message, ...event.continuation].join('\n'));
  }
  return {
    kind: 'failure',
    origin: 'docker',
    method: parsed.method,
    path,
    repository: repositoryOfUri(path) ?? repositoryInText(parsed.error),
    image,
    reference,
    status: parsed.status,
    cause,
    root,
    rootClass,
  };
}

function restFailure(event: NexusEvent): Failure | undefined {
  const at = event.message.indexOf(UNEXPECTED);
  if (at === -1) return undefined;
  const exception = event.message.slice(at + UNEXPECTED.length);
  const { root, rootClass } = rootOf(event.continuation, exception);
  return {
    kind: 'failure',
    origin: 'rest',
    method: null,
    path: null,
    repository: null,
    image: null,
    reference: null,
    status: 500,
    cause: classifyRequestFailure([event.message, ...event.continuation].join('\n')),
    root,
    rootClass,
  };
}

/** A request Jetty itself answered with a 5xx (the exception escaped every Nexus handler). */
function jettyFailure(event: NexusEvent): Failure | undefined {
  const message = event.message;
  if (!message.startsWith(WRITE_ERROR)) return undefined;
  const status = Number(message.slice(WRITE_ERROR.length, WRITE_ERROR.length + 3));
  if (!(status >= 500 && status <= 599)) return undefined;
  const text = message.indexOf(', message=');
  const responseAt = message.lastIndexOf(', response=');
  const exception = text === -1 ? message : message.slice(text + ', message='.length, responseAt > text ? responseAt : undefined);
  // `{500,GET@d79d22b http://docker.example:9640/v2/ HTTP/1.1}`: the method and the URL's path.
  let method: string | null = null;
  let path: string | null = null;
  const request = responseAt === -1 ? -1 : message.indexOf(',', message.indexOf('{', responseAt));
  if (request !== -1) {
    const [methodAt, url] = message.slice(request + 1).split(' ');
    method = methodAt?.split('@')[0] ?? null;
    const scheme = url?.indexOf('://') ?? -1;
    const slash = url === undefined || scheme === -1 ? -1 : url.indexOf('/', scheme + 3);
    path = url === undefined ? null : slash === -1 ? url : url.slice(slash).split('?')[0] ?? null;
  }
  const { root, rootClass } = rootOf(event.continuation, exception);
  return {
    kind: 'failure',
    origin: 'jetty',
    method,
    path,
    repository: path === null ? null : repositoryOfPath(path),
    image: null,
    reference: null,
    status,
    cause: classifyRequestFailure([message, ...event.continuation].join('\n')),
    root,
    rootClass,
  };
}

interface CauseText {
  phrase: string;
  severity: Severity;
  confidence: Confidence;
  explain(where: string, f: Failure): string;
  fix(where: string, f: Failure): string[];
  references?: Reference[];
}

const CLIENT_SIDE = 'The request failed on the client side of the connection: Nexus is not at fault.';

const CAUSES: Record<RequestCause, CauseText> = {
  'too-many-open-files': {
    phrase: 'too many open files',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Requests to ${where} failed because the Nexus process ran out of file descriptors (Too many open files): the open file limit is too low for the load, or descriptors leak.`,
    fix: () => [
      'Raise the open file limit of the Nexus process to at least 65536 (systemd LimitNOFILE=65536, docker run --ulimit nofile=65536:65536, /etc/security/limits.conf) and restart Nexus.',
      'If the count keeps growing at a steady load, look for a leak (lsof -p <pid> | wc -l over time).',
    ],
    references: [{ title: 'Sonatype: System Requirements (file handle limits)', url: 'https://help.sonatype.com/en/sonatype-nexus-repository-system-requirements.html' }],
  },
  'out-of-memory': {
    phrase: 'out of memory',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Requests to ${where} failed with OutOfMemoryError: the JVM ran out of memory, and whatever fails after it is a consequence.`,
    fix: () => ['Give Nexus the heap and direct memory of its sizing profile (-Xms/-Xmx, -XX:MaxDirectMemorySize in nexus.vmoptions) and restart it; see the jvm-out-of-memory incident for the kind of memory.'],
  },
  'database-pool-exhausted': {
    phrase: 'database pool exhausted',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Requests to ${where} waited for a database connection until they timed out (Connection is not available): the database is slow or down, or long transactions hold the pool.`,
    fix: () => ['Check the database (PostgreSQL up, latency, locks, long-running queries) and the pool size (nexus.datastore.nexus.maximumPoolSize); see the database-pool-exhausted incident.'],
  },
  'disk-full': {
    phrase: 'disk full',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Requests to ${where} failed because a disk Nexus writes to is full (No space left on device).`,
    fix: () => ['Free or add space on the volume (see the disk-full incident), then compact the blob stores that hold deleted blobs.'],
  },
  'blob-missing': {
    phrase: 'blob missing',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Requests to ${where} failed because blobs the database refers to are missing from the blob store.`,
    fix: () => ["Run 'Repair - Reconcile component database from blob store' for the blob store; see the blobstore-missing-blob incident."],
  },
  'blob-store-failure': {
    phrase: 'blob store failure',
    severity: 'error',
    confidence: 'high',
    explain: (where, f) => `Requests to ${where} failed because the blob store could not store or read the content (${f.root}).`,
    fix: () => ['Fix the blob store first (its permissions, disk, temp directory, bucket or credentials): see the blobstore-write-failed incident of the same time, which names the store and the cause.', 'Then retry the failed requests.'],
  },
  'database-read-only': {
    phrase: 'database read-only',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Writes to ${where} were refused because Nexus is read-only (frozen by an administrator or a backup task, or the database switched to read-only).`,
    fix: () => ['Release the read-only mode (Administration > System > Support > Read-Only) once the backup is over, or fix what made the database read-only (a full disk).'],
  },
  'database-error': {
    phrase: 'database error',
    severity: 'error',
    confidence: 'medium',
    explain: (where, f) => `Requests to ${where} failed on a database error (${f.root}).`,
    fix: () => ['Check the database incidents of the same time (cannot open, corrupted, connection refused) and the database itself.'],
  },
  'remote-fetch-failed': {
    phrase: 'remote unreachable',
    severity: 'error',
    confidence: 'medium',
    explain: (where, f) => `Requests to ${where} failed because its remote could not be reached (${f.root}).`,
    fix: () => ['See the proxy-remote-unavailable incident for the repository: it names the failure class (DNS, TLS, timeout) and the fix.'],
  },
  'upload-client-early-eof': {
    phrase: 'upload ended early (client)',
    severity: 'warning',
    confidence: 'high',
    explain: (where) =>
      `Uploads to ${where} ended before their body was complete (EofException: Early EOF): the client, or a reverse proxy in between, closed or cut the request. ${CLIENT_SIDE}`,
    fix: () => [
      'Check the uploading client (its timeouts, whether it was killed) and the reverse proxy or load balancer in front of Nexus (body size limits, request buffering, timeouts).',
      'Retry the upload; the temp blob of the failed one is removed by Nexus.',
    ],
    references: [{ title: '030/n3dr issue 439: uploads fail with BlobStoreException ... Early EOF', url: 'https://github.com/030/n3dr/issues/439' }],
  },
  'client-aborted': {
    phrase: 'client went away',
    severity: 'warning',
    confidence: 'medium',
    explain: (where) => `Clients of ${where} closed the connection before Nexus finished answering (EofException: broken pipe or connection reset). Isolated ones are harmless; bursts mean slow storage or a load balancer timeout shorter than the transfers.`,
    fix: () => ['If they come in bursts, compare the load balancer / reverse proxy timeouts with the transfer times in request.log, and check the storage latency.'],
  },
  'client-idle-timeout': {
    phrase: 'idle timeout',
    severity: 'warning',
    confidence: 'medium',
    explain: (where) => `Connections to ${where} were idle longer than Jetty allows (Idle timeout expired, jetty.http.timeout 30000 ms): a stalled client or proxy, or slow storage.`,
    fix: () => ['Check the clients and proxies for stalls; raise jetty.http.timeout only if transfers are legitimately slow.'],
  },
  'jetty-bad-message-400': {
    phrase: 'malformed HTTP request',
    severity: 'warning',
    confidence: 'high',
    explain: (where) => `Jetty rejected malformed HTTP requests to ${where} (BadMessageException, answered 400): headers too large, illegal characters, or a broken proxy. ${CLIENT_SIDE}`,
    fix: () => ['Find the client (request.log: GET /badMessage 400, same time) and fix what it sends; if large headers are legitimate (big tokens or cookies), raise the Jetty request header size.'],
  },
  'nexus-npe': {
    phrase: 'NullPointerException',
    severity: 'error',
    confidence: 'medium',
    explain: (where, f) => `Requests to ${where} failed with a NullPointerException inside Nexus (${f.root}): a bug, often triggered by content or metadata Nexus does not expect.`,
    fix: () => ['Search the Nexus release notes and issues for the exception and path; upgrade to a version that fixes it.', 'Meanwhile avoid the request that triggers it (the paths are listed).'],
  },
  'manifest-missing-layers': {
    phrase: 'manifest refers to missing layers',
    severity: 'error',
    confidence: 'high',
    explain: (where) => `Docker manifest pushes to ${where} were rejected (400 Invalid Manifest) because layers the manifest refers to are not in the repository: the client skipped uploading them because its layer checks said they existed.`,
    fix: () => ['See the docker-manifest-missing-layers incident: send the layer checks and the push to the same hosted repository, then push again.'],
  },
  'manifest-invalid': {
    phrase: 'invalid manifest',
    severity: 'error',
    confidence: 'medium',
    explain: (where) => `Docker manifest pushes to ${where} were rejected as invalid (400): the manifest refers to layers or manifests the repository does not hold, or its format is not accepted.`,
    fix: () => ['Push the image again from a clean state (docker manifest rm for manifest lists); check that its layers were uploaded to this repository.'],
  },
  'repository-read-only': {
    phrase: 'repository read-only',
    severity: 'warning',
    confidence: 'high',
    explain: (where) => `Writes to ${where} were refused: its deployment policy is read-only.`,
    fix: (where) => [`Deploy to a hosted repository that allows it, or change the deployment policy of ${where}.`],
  },
  'redeploy-refused': {
    phrase: 'redeploy refused',
    severity: 'warning',
    confidence: 'high',
    explain: (where) => `Uploads to ${where} were refused (400) because the path already exists and the repository does not allow redeploy: a release deployed twice.`,
    fix: (where) => [
      'Deploy a new version instead of overwriting a release (or skip the deploy of unchanged modules).',
      `If overwriting is intended, set the deployment policy of ${where} to "Allow redeploy".`,
    ],
  },
  'illegal-operation': {
    phrase: 'operation not allowed',
    severity: 'warning',
    confidence: 'medium',
    explain: (where, f) => `Nexus refused requests to ${where} as not allowed (${f.root}).`,
    fix: () => ['Read the exception in the evidence: it says what the repository does not allow (deploy policy, version policy, layout).'],
  },
  'invalid-content': {
    phrase: 'invalid content',
    severity: 'warning',
    confidence: 'medium',
    explain: (where, f) => `Nexus refused content sent to or fetched by ${where} as invalid (${f.root}): a wrong path or layout for the format, or content that is not what its name says.`,
    fix: () => ['Check the client uploads to the right repository format and path layout (for Maven: the layout policy); for proxies, check what the remote sends.'],
  },
  'bad-request': {
    phrase: 'bad request',
    severity: 'warning',
    confidence: 'medium',
    explain: (_where, f) => `Nexus answered requests with 400 Bad Request (${f.root}). ${CLIENT_SIDE}`,
    fix: () => ['Find the client in request.log (400 at the same time) and correct the request (path, parameters).'],
  },
  'docker-request-rejected': {
    phrase: 'Docker request rejected',
    severity: 'warning',
    confidence: 'low',
    explain: (where, f) => `Docker API requests to ${where} were rejected with ${f.status ?? 'an error'} (${f.root}).`,
    fix: () => ['Read the error text: the Docker registry error it maps to says what the client must change.'],
  },
  'npm-metadata-invalid': {
    phrase: 'invalid npm package metadata',
    severity: 'error',
    confidence: 'medium',
    explain: (where, f) =>
      `Requests for npm packages through ${where} failed with 500 because a package document (the package root) is not valid npm metadata: its "versions" is not an object (${f.root}). ` +
      'The remote served a document Nexus cannot merge (often a private registry), or the copy cached by the proxy is damaged.',
    fix: (where, f) => [
      `Invalidate the cache of the npm proxy behind ${where} (Repository > Invalidate cache) and delete the cached package root of the failing package${f.path === null ? '' : ` (${f.path})`} so it is fetched again.`,
      'If it fails again, fetch the package root from the remote with curl and check its "versions": a remote that is not a real npm registry cannot be proxied as one.',
    ],
  },
  'unhandled-exception': {
    phrase: 'unexpected exception',
    severity: 'error',
    confidence: 'low',
    explain: (where, f) => `Requests to ${where} failed with an exception Nexus did not handle (${f.root}); clients got 500.`,
    fix: () => ['Look at the root exception and the paths: a storage, database or content problem named in it comes first; else search the Nexus issues for it and upgrade.'],
  },
};

function whereOf(f: Failure): string {
  if (f.repository !== null) return `repository ${f.repository}`;
  if (f.image !== null) return `image ${f.image}`;
  if (f.origin === 'rest') return 'the REST API';
  return 'Nexus';
}

export const requestFailed: Rule<Signal, State> = {
  id: 'request-failed',
  title: 'Requests Nexus failed to serve, by root cause',
  severity: 'error',
  category: 'requests',
  reads: [
    { levels: ['WARN'], loggers: ['ViewServlet'], literals: [{ text: FAILURE_SERVICING, at: 'start' }, { text: BAD_REQUEST, at: 'start' }], continuation: true },
    { levels: ['WARN'], loggers: ['ExceptionHandler'], literals: [{ text: ILLEGAL_OPERATION, at: 'start' }, { text: INVALID_CONTENT, at: 'start' }] },
    { levels: ['WARN'], loggers: ['V2Handlers'], literals: [{ text: V2_ERROR, at: 'start' }], continuation: true },
    { levels: ['ERROR'], loggers: ['V2ManifestUtilImpl'], literals: [{ text: MISSING_LAYER_LITERAL, at: 'start' }] },
    { levels: ['WARN', 'ERROR'], loggers: ['UnexpectedExceptionMapper'], literals: [UNEXPECTED], continuation: true },
    { levels: ['WARN', 'ERROR'], loggers: ['Response'], literals: [{ text: WRITE_ERROR, at: 'start' }], continuation: true },
  ],
  // A request's lines come within milliseconds; runs of one failure fold for half an hour.
  windowMs: 60_000,
  aggregate: { windowMs: 30 * 60_000 },
  distinctLimit: 10,
  causedBy: [
    { rule: 'jvm-out-of-memory', withinMs: 30 * 60_000 },
    { rule: 'database-pool-exhausted', withinMs: 30 * 60_000 },
    { rule: 'open-file-limit-low', withinMs: 24 * 60 * 60_000 },
    { rule: 'disk-full', withinMs: 60 * 60_000 },
    { rule: 'blobstore-write-failed', withinMs: 60 * 60_000 },
    { rule: 'blobstore-missing-blob', withinMs: 60 * 60_000 },
    { rule: 'docker-manifest-missing-layers', withinMs: 60_000 },
    { rule: 'proxy-remote-unavailable', withinMs: 30 * 60_000, sameSubject: true },
  ],

  match(event) {
    const nexus = nexusEventOf(event);
    if (nexus === undefined) return undefined;
    const logger = nexus.logger;
    if (logger.endsWith('V2ManifestUtilImpl')) {
      const layer = parseMissingLayer(nexus.message);
      return layer === undefined ? undefined : { kind: 'layers', repository: layer.repository, image: layer.image, tag: layer.tag };
    }
    if (logger.endsWith('ViewServlet')) return viewFailure(nexus);
    if (logger.endsWith('.ExceptionHandler')) return handlerFailure(nexus);
    if (logger.endsWith('V2Handlers')) return dockerFailure(nexus);
    if (logger.endsWith('UnexpectedExceptionMapper')) return restFailure(nexus);
    if (logger.endsWith('jetty.server.Response')) return jettyFailure(nexus);
    return undefined;
  },

  key(_signal, event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? '' : `${nexus.node ?? ''}\u0000${nexus.thread}`;
  },

  open() {
    return { layers: null, failure: null };
  },

  continues(state, signal) {
    const layers = state.layers;
    if (layers === null) return true;
    // A pooled thread serving another push or request: the context does not belong to it.
    if (signal.kind === 'layers') return layers.image === signal.image && layers.tag === signal.tag;
    return signal.origin === 'docker' && signal.image === layers.image;
  },

  distinct(signal) {
    return signal.kind === 'failure' && signal.path !== null ? { path: signal.path } : undefined;
  },

  add(state, signal) {
    if (signal.kind === 'layers') {
      if (state.layers === null) state.layers = { repository: signal.repository, image: signal.image, tag: signal.tag, count: 0 };
      state.layers.count++;
      return false;
    }
    const failure: Failure = { ...signal };
    if (state.layers !== null && failure.origin === 'docker' && failure.image === state.layers.image) {
      failure.repository ??= state.layers.repository;
      if (failure.cause === 'manifest-invalid') failure.cause = 'manifest-missing-layers';
    }
    state.failure = failure;
    return true;
  },

  describe(state, group) {
    const f = state.failure;
    if (f === null) return null; // missing layers whose request failure never came: rule docker-manifest-missing-layers
    // A manifest PUT refused with 400 Invalid Manifest is a push docker-manifest-missing-layers
    // reports whole (layers or none, checks, who, the fix): a second incident would only repeat it.
    if (f.cause === 'manifest-missing-layers' || f.cause === 'manifest-invalid') return null;
    const text = CAUSES[f.cause];
    const where = whereOf(f);
    const paths = group.distinct.path ?? { values: [], total: 0 };
    const requests = group.runs;
    const generic = f.cause === 'unhandled-exception' || f.cause === 'nexus-npe' || f.cause === 'database-error';
    const subjectName = f.repository ?? f.image;
    const request = f.method === null ? null : `${f.method} ${f.path ?? ''}`.trim();
    return {
      subject: subjectName === null ? null : { type: f.repository !== null ? 'repository' : 'image', name: subjectName },
      fingerprint: [f.repository ?? f.image ?? f.origin, f.cause, generic ? f.rootClass : null],
      summary:
        `${requests === 1 ? 'A request' : `${plural(requests, 'request')}`} to ${where} failed (${text.phrase}${generic && f.rootClass !== null ? `: ${f.rootClass}` : ''}): ` +
        `${howOften(requests, group.firstTime, group.lastTime)}${paths.total > 1 ? `, ${plural(paths.total, 'path')} (${listOf(paths.values, paths.total, 2)})` : request === null ? '' : ` (${request})`}.`,
      severity: text.severity,
      facts: {
        ...(f.repository === null ? {} : { repository: f.repository }),
        ...(f.image === null ? {} : { image: f.image }),
        'failed requests': requests,
        ...(request === null ? {} : { 'last request': request }),
        ...(f.status === null ? {} : { status: f.status }),
        'root cause': f.root,
        ...(paths.total > 0 ? { paths: paths.values } : {}),
        ...(state.layers === null ? {} : { 'missing layers logged': state.layers.count }),
      },
      diagnosis: {
        cause: f.cause,
        explanation: text.explain(where, f),
        confidence: text.confidence,
        remediation: text.fix(where, f),
        ...(text.references === undefined ? {} : { references: text.references }),
      },
    };
  },
};
