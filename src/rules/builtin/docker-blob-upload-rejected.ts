/**
 * Rule `docker-blob-upload-rejected`: Docker blob uploads (`docker push`, BuildKit cache exports)
 * refused by Nexus. One incident per repository (or image, on a connector port when the log does
 * not name the repository) and cause while uploads keep failing, with the images and digests.
 *
 *   V2Handlers WARN Error: PUT /v2/<image>/blobs/uploads/<uuid>[?digest=...]: 400 - <repo>/v2/-/blobs/sha256:<hex> cannot be updated
 *   V2Handlers WARN Error: PATCH|PUT|POST /v2/<image>/blobs/uploads/...: <status> - <error>          (closed-source plugin: texts as posted)
 *   V2Handlers WARN Error: PUT /v2/<image>/blobs/uploads/<uuid>  + a stack (BlobStoreException ..., Cause: Early EOF)
 *   V2Handlers WARN ... BLOB_UPLOAD_INVALID / blob upload invalid / BLOB_UPLOAD_UNKNOWN / blob upload unknown / DIGEST_INVALID / digest invalid
 *   request.log     "PATCH|PUT|POST /[repository/<repo>]/v2/<image>/blobs/uploads/..." 400..499
 *
 * request.log lines make their own incidents (read after nexus.log: they cannot join the
 * V2Handlers groups); they add who pushed and the statuses, nexus.log adds why. A 401 is left
 * out: from an anonymous client it is the auth challenge every push starts with, with a user name
 * it is rule authentication-failures'.
 * Parsed with indexOf only.
 */
import type { NexusEvent, RequestEvent } from '../../events/log-event';
import { repositoryOfPath } from '../../events/http-log-line';
import type { Confidence, Reference, Rule, Severity } from '../rule';
import { cut } from './storage-texts';
import { howOften, listOf, plural } from './wording';

const UPLOADS = '/blobs/uploads';
const ERROR = 'Error: ';
/** Registry error texts of failed blob uploads (Docker Registry HTTP API v2), any V2Handlers line. */
const UPLOAD_TEXTS = ['BLOB_UPLOAD_INVALID', 'blob upload invalid', 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown', 'DIGEST_INVALID', 'digest invalid'];

export type UploadCause =
  | 'blob-exists-redeploy-disabled'
  | 'repository-read-only'
  | 'upload-interrupted'
  | 'digest-mismatch'
  | 'upload-session-unknown'
  | 'push-not-permitted'
  | 'credentials-refused'
  | 'blob-store-failure'
  | 'blob-upload-invalid'
  | 'upload-rejected';

interface Signal {
  repository: string | null;
  image: string | null;
  digest: string | null;
  method: string;
  status: number | null;
  cause: UploadCause;
  detail: string;
  from: 'nexus' | 'request';
  client: string | null;
  user: string | null;
}

interface State {
  repository: string | null;
  image: string | null;
  cause: UploadCause;
  from: 'nexus' | 'request';
  lastDetail: string;
  statuses: Record<string, number>;
  users: string[];
}

/** `Error: METHOD path[: status[ - error]]` of a V2Handlers line: the parts, or undefined. */
export function parseV2ErrorLine(message: string): { method: string; path: string; status: number | null; error: string } | undefined {
  if (!message.startsWith(ERROR)) return undefined;
  const methodEnd = message.indexOf(' ', ERROR.length);
  if (methodEnd === -1) return undefined;
  const method = message.slice(ERROR.length, methodEnd);
  let pathEnd = message.indexOf(' ', methodEnd + 1);
  if (pathEnd === -1) pathEnd = message.length;
  let path = message.slice(methodEnd + 1, pathEnd);
  let status: number | null = null;
  let error = '';
  if (path.endsWith(':')) {
    path = path.slice(0, -1);
    const digits = message.slice(pathEnd + 1, pathEnd + 4);
    if (/^[1-5]\d\d$/.test(digits)) {
      status = Number(digits);
      error = message.startsWith(' - ', pathEnd + 4) ? message.slice(pathEnd + 7) : message.slice(pathEnd + 4).trim();
    } else {
      error = message.slice(pathEnd + 1);
    }
  }
  return { method, path, status, error };
}

/** `/[repository/<r>/]v2/<image>/blobs/uploads/...` -> the image, or null. */
function imageOf(path: string): string | null {
  const v2 = path.indexOf('/v2/');
  const blobs = path.indexOf('/blobs/', v2 + 4);
  return v2 === -1 || blobs === -1 || blobs <= v2 + 4 ? null : path.slice(v2 + 4, blobs);
}

/** `sha256:<hex>` (or URL-encoded `sha256%3A<hex>`) in a text, normalized, or null. */
function digestIn(text: string): string | null {
  let at = text.indexOf('sha256:');
  let skip = 7;
  if (at === -1) {
    at = text.indexOf('sha256%3A');
    if (at === -1) at = text.indexOf('sha256%3a');
    skip = 9;
  }
  if (at === -1) return null;
  let end = at + skip;
  while (end < text.length && end < at + skip + 64 && /[0-9a-f]/.test(text.charAt(end))) end++;
  return end - at - skip === 64 ? `sha256:${text.slice(at + skip, end)}` : null;
}

/** The repository an error text names: `<repo>/v2/-/blobs/...`, `Repository is read only: <repo>`, `... updating assets: <repo>`. */
function repositoryInError(error: string): string | null {
  const asset = error.indexOf('/v2/-/blobs/');
  if (asset > 0) {
    const start = error.lastIndexOf(' ', asset) + 1;
    const name = error.slice(start, asset);
    if (name !== '' && !name.includes('/')) return name;
  }
  for (const marker of ['Repository is read only: ', 'does not allow updating assets: ']) {
    const at = error.indexOf(marker);
    if (at !== -1) {
      let end = at + marker.length;
      while (end < error.length && !' ,;"\'\n\r\t'.includes(error.charAt(end))) end++;
      const name = error.slice(at + marker.length, end).replace(/\.$/, '');
      if (name !== '') return name;
    }
  }
  return null;
}

/** The cause a failed upload's text (and status) shows. */
export function classifyUpload(text: string, status: number | null): UploadCause {
  if (text.includes('cannot be updated') || text.includes('does not allow updating')) return 'blob-exists-redeploy-disabled';
  if (text.includes('is read only') || text.includes('Repository is read-only')) return 'repository-read-only';
  if (text.includes('EofException') || text.includes('Early EOF') || text.includes('Connection reset') || text.includes('Idle timeout') || text.includes('Broken pipe') || text.includes('ClosedChannelException') || status === 499) return 'upload-interrupted';
  if (text.includes('DIGEST_INVALID') || text.includes('digest invalid') || text.includes('Digest mismatch') || text.includes('digest mismatch') || text.includes('does not match')) return 'digest-mismatch';
  if (text.includes('BLOB_UPLOAD_UNKNOWN') || text.includes('blob upload unknown') || text.includes('upload unknown') || text.includes('missing upload') || status === 404) return 'upload-session-unknown';
  if (status === 403) return 'push-not-permitted';
  if (status === 401) return 'credentials-refused';
  if (text.includes('BlobStoreException') || text.includes('StorageException') || text.includes('AmazonS3Exception') || text.includes('SdkClientException') || (status !== null && status >= 500)) return 'blob-store-failure';
  if (text.includes('BLOB_UPLOAD_INVALID') || text.includes('blob upload invalid') || status === 400 || status === 416) return 'blob-upload-invalid';
  return 'upload-rejected';
}

/** Whether a V2Handlers event is a failed blob upload (this rule's, not request-failed's). */
export function isBlobUploadFailure(message: string, continuation: readonly string[] = []): boolean {
  if (!message.startsWith(ERROR)) return false;
  const parsed = parseV2ErrorLine(message);
  if (parsed !== undefined && parsed.path.includes(UPLOADS)) return true;
  for (const text of UPLOAD_TEXTS) if (message.includes(text)) return true;
  for (const line of continuation) for (const text of UPLOAD_TEXTS) if (line.includes(text)) return true;
  return false;
}

function fromNexus(event: NexusEvent): Signal | undefined {
  if (!isBlobUploadFailure(event.message, event.continuation)) return undefined;
  const parsed = parseV2ErrorLine(event.message);
  if (parsed === undefined) return undefined;
  const trace = event.continuation.join('\n');
  const text = `${parsed.error}\n${trace}`;
  let detail = parsed.error;
  if (detail === '') {
    const causedBy = event.continuation.filter((line) => line.trimStart().startsWith('Caused by: '));
    detail = causedBy[causedBy.length - 1] ?? event.continuation[0] ?? '';
  }
  return {
    repository: repositoryOfPath(parsed.path) ?? repositoryInError(text),
    image: imageOf(parsed.path),
    digest: digestIn(parsed.error) ?? digestIn(parsed.path),
    method: parsed.method,
    status: parsed.status,
    cause: classifyUpload(text, parsed.status),
    detail: cut(detail.trim(), 300),
    from: 'nexus',
    client: null,
    user: event.user === '*SYSTEM' || event.user === '*UNKNOWN' ? null : event.user,
  };
}

function fromRequest(event: RequestEvent): Signal | undefined {
  if (!event.path.includes(UPLOADS) || event.status < 400 || event.status > 499) return undefined;
  if (event.status === 401) return undefined; // anonymous: the auth challenge; with a user: rule authentication-failures
  return {
    repository: repositoryOfPath(event.path),
    image: imageOf(event.path),
    digest: digestIn(event.path),
    method: event.method,
    status: event.status,
    cause: classifyUpload('', event.status),
    detail: `${event.method} ${event.path.length > 200 ? `${event.path.slice(0, 200)}…` : event.path} ${event.status}`,
    from: 'request',
    client: event.clientIp,
    user: event.user,
  };
}

interface CauseText {
  phrase: string;
  confidence: Confidence;
  explain(where: string, s: Readonly<State>): string;
  fix(where: string, s: Readonly<State>): string[];
  references?: Reference[];
}

const REVERSE_PROXY: Reference = { title: 'Sonatype: Docker Repository Reverse Proxy Strategies', url: 'https://help.sonatype.com/en/docker-repository-reverse-proxy-strategies.html' };
const NP_967: Reference = { title: 'sonatype/nexus-public issue 967: BuildKit cache push fails with blob upload invalid (cannot be updated)', url: 'https://github.com/sonatype/nexus-public/issues/967' };
const REGISTRY_ERRORS: Reference = { title: 'Docker Registry HTTP API v2: error codes (BLOB_UPLOAD_INVALID, BLOB_UPLOAD_UNKNOWN, DIGEST_INVALID)', url: 'https://distribution.github.io/distribution/spec/api/#errors-2' };

const CAUSES: Record<UploadCause, CauseText> = {
  'blob-exists-redeploy-disabled': {
    phrase: 'blob already stored, redeploy disabled',
    confidence: 'high',
    explain: (where) =>
      `${where} already holds the blob and its deployment policy does not allow redeploy, so completing the upload ("cannot be updated") is refused with 400 ` +
      '(the client prints "blob upload invalid"). It happens when the same layer is uploaded twice: parallel pushes sharing layers, a retried push, or a BuildKit registry cache export (--cache-to type=registry) that re-uploads its cache blobs.',
    fix: (where) => [
      `Set the deployment policy of ${where} to "Allow redeploy" (Docker blobs are addressed by digest: overwriting one stores the same bytes), or push the BuildKit cache to a separate hosted repository that allows redeploy.`,
      'Otherwise retry the push: the blob is already there, so the retry goes on (np-967).',
    ],
    references: [NP_967],
  },
  'repository-read-only': {
    phrase: 'repository read-only',
    confidence: 'high',
    explain: (where) => `${where} is read-only for pushes (deployment policy "Read-only", or the writable member of a Docker group is read-only).`,
    fix: (where) => [`Push to a hosted repository that allows deploys, or change the deployment policy of ${where}; for a group, set a writable hosted member (Pro).`],
    references: [{ title: 'NEXUS-25275: a read-only writable member surfaces as blob upload invalid', url: 'https://issues.sonatype.org/browse/NEXUS-25275' }],
  },
  'upload-interrupted': {
    phrase: 'upload cut short',
    confidence: 'medium',
    explain: (where) =>
      `Uploads to ${where} ended before all their bytes arrived (Early EOF, connection reset, idle timeout): the client or a reverse proxy / load balancer in between closed the request. ` +
      'Large layers through a proxy with a body size limit, request buffering or a short timeout are the usual cause.',
    fix: () => [
      'In the reverse proxy in front of Nexus, allow large bodies and long uploads: nginx client_max_body_size 0, proxy_request_buffering off, proxy_read_timeout / proxy_send_timeout of several minutes (or the equivalent in your proxy or load balancer).',
      'Check the client side (CI runner timeouts, network) if no proxy is in between.',
    ],
    references: [REVERSE_PROXY],
  },
  'digest-mismatch': {
    phrase: 'digest mismatch',
    confidence: 'medium',
    explain: (where) => `The bytes ${where} received do not match the digest the client declared (DIGEST_INVALID): the body was changed or truncated on the way, typically by a reverse proxy that re-encodes or buffers chunked uploads.`,
    fix: () => ['Let the reverse proxy pass upload bodies through unchanged (no request buffering or re-chunking, no body size limit), then push again.'],
    references: [REVERSE_PROXY, REGISTRY_ERRORS],
  },
  'upload-session-unknown': {
    phrase: 'upload session unknown',
    confidence: 'medium',
    explain: (where) =>
      `The client continued an upload (PATCH/PUT to the Location Nexus gave it) that ${where} does not know (404, BLOB_UPLOAD_UNKNOWN). ` +
      'A reverse proxy that rewrites the Location header or the scheme (http vs https: X-Forwarded-Proto missing), a path that maps to another repository, a load balancer sending the parts of one upload to different nodes, or an upload that expired.',
    fix: () => [
      'Make the reverse proxy keep the upload URLs: pass Host and X-Forwarded-Proto (https) so Nexus builds the right Location, and map the same path to the same repository for POST, PATCH and PUT.',
      'With several nodes behind a load balancer, keep the requests of one push on one node (sticky sessions) or use shared storage as the HA setup requires.',
    ],
    references: [REVERSE_PROXY, REGISTRY_ERRORS],
  },
  'push-not-permitted': {
    phrase: 'push not permitted',
    confidence: 'high',
    explain: (where, s) => `${where} refused uploads from ${s.users.length > 0 ? listOf(s.users, s.users.length, 3) : 'the client'} with 403: the user is authenticated but lacks the privilege to add to the repository.`,
    fix: (where) => [`Give the pushing user a role with nx-repository-view-docker-<repository>-add and -edit for ${where} (or push with a user that has it).`],
  },
  'credentials-refused': {
    phrase: 'credentials refused',
    confidence: 'high',
    explain: (where, s) => `${where} refused the credentials of ${s.users.length > 0 ? listOf(s.users, s.users.length, 3) : 'the pushing user'} (401).`,
    fix: () => ['docker login again with valid credentials (a user token if tokens are required); check the Docker Bearer Token Realm is active when anonymous pulls are off.'],
  },
  'blob-store-failure': {
    phrase: 'blob store failed',
    confidence: 'medium',
    explain: (where, s) => `Nexus could not store uploads to ${where}: the blob store failed (${s.lastDetail}).`,
    fix: () => ['See the blobstore-write-failed incident of the same time for the blob store and its cause (permissions, disk, bucket).'],
  },
  'blob-upload-invalid': {
    phrase: 'blob upload invalid',
    confidence: 'low',
    explain: (where, s) =>
      `${where} rejected blob uploads as invalid (${s.from === 'request' ? 'request.log shows the statuses only; nexus.log has the reason on the V2Handlers line' : s.lastDetail}). ` +
      'Common causes: a reverse proxy that breaks chunked uploads (body size limit, buffering, rewritten Location), a blob already stored where redeploy is disabled, or a read-only repository.',
    fix: (where) => [
      `Read the V2Handlers "Error: PUT ... /blobs/uploads/" lines of nexus.log for ${where} at the same time: the text after the status is the reason.`,
      'Check the reverse proxy settings for uploads (client_max_body_size 0, proxy_request_buffering off, Location and X-Forwarded-Proto kept).',
    ],
    references: [REVERSE_PROXY, NP_967],
  },
  'upload-rejected': {
    phrase: 'upload rejected',
    confidence: 'low',
    explain: (where, s) => `${where} rejected blob uploads: ${s.lastDetail}.`,
    fix: (where) => [`Read the error text in the evidence for ${where}; check the reverse proxy and the repository's deployment policy.`],
    references: [REVERSE_PROXY],
  },
};

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const dockerBlobUploadRejected: Rule<Signal, State> = {
  id: 'docker-blob-upload-rejected',
  title: 'Docker blob uploads rejected (redeploy, reverse proxy, digest, upload session)',
  severity: 'error',
  category: 'docker',
  reads: [
    { levels: ['WARN', 'ERROR'], loggers: ['V2Handlers'], literals: [UPLOADS, ...UPLOAD_TEXTS], continuation: true },
    { input: 'request', statuses: [[400, 499]], literals: [UPLOADS] },
  ],
  windowMs: 60 * 60_000,
  distinctLimit: 10,
  causedBy: [{ rule: 'blobstore-write-failed', withinMs: 60 * 60_000 }],

  match(event) {
    if (event.kind === 'nexus') return fromNexus(event);
    if (event.kind === 'request') return fromRequest(event);
    return undefined;
  },

  key(signal) {
    return `${signal.from}\u0000${signal.repository ?? ''}\u0000${signal.repository === null ? (signal.image ?? '') : ''}\u0000${signal.cause}`;
  },

  open(signal) {
    return { repository: signal.repository, image: signal.image, cause: signal.cause, from: signal.from, lastDetail: signal.detail, statuses: {}, users: [] };
  },

  distinct(signal) {
    const values: Record<string, string> = {};
    if (signal.image !== null) values.image = signal.image;
    if (signal.digest !== null) values.digest = signal.digest;
    if (signal.client !== null) values.client = signal.client;
    return values;
  },

  add(state, signal) {
    state.lastDetail = signal.detail;
    const status = signal.status === null ? 'exception' : String(signal.status);
    state.statuses[status] = (state.statuses[status] ?? 0) + 1;
    if (signal.user !== null && state.users.length < 5 && !state.users.includes(signal.user)) state.users.push(signal.user);
  },

  describe(state, group) {
    const text = CAUSES[state.cause];
    const where = state.repository !== null ? `repository ${state.repository}` : state.image !== null ? `the repository of image ${state.image}` : 'the repository';
    const images = group.distinct.image ?? { values: [], total: 0 };
    const digests = group.distinct.digest ?? { values: [], total: 0 };
    const subjectName = state.repository ?? state.image;
    const statuses = Object.entries(state.statuses).map(([status, n]) => `${status} ×${n}`);
    const severity: Severity = state.cause === 'push-not-permitted' || state.cause === 'credentials-refused' ? 'warning' : 'error';
    return {
      subject: subjectName === null ? null : { type: state.repository !== null ? 'repository' : 'image', name: subjectName },
      fingerprint: [state.repository, state.repository === null ? state.image : null, state.cause],
      summary:
        `Docker blob uploads to ${where} were rejected (${text.phrase}): ${howOften(group.count, group.firstTime, group.lastTime)}` +
        `${images.total > 0 ? `, ${plural(images.total, 'image')} (${listOf(images.values, images.total, 2)})` : ''}` +
        `${digests.total > 0 ? `, ${plural(digests.total, 'blob')}` : ''}${state.from === 'request' ? ' (request.log)' : ''}.`,
      severity,
      facts: {
        ...(state.repository === null ? {} : { repository: state.repository }),
        ...(images.total > 0 ? { images: images.values } : {}),
        cause: text.phrase,
        statuses,
        ...(state.users.length > 0 ? { users: state.users } : {}),
        'last error': state.lastDetail,
      },
      ...(state.users.length === 1 ? { user: state.users[0] as string } : {}),
      diagnosis: {
        cause: state.cause,
        explanation: cap(text.explain(where, state)),
        confidence: text.confidence,
        remediation: text.fix(where, state),
        ...(text.references === undefined ? {} : { references: text.references }),
      },
    };
  },
};
