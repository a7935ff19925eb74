/**
 * Rule `request-errors`: storms of error responses in request.log, one incident per repository
 * (or area: REST API, UI, Docker connector port, Jetty) and status (4xx each on its own, 5xx
 * together) while they go on, reported from 20 errors on. request.log is the only place many
 * failures show: a proxy whose remote answers 403 or 404 logs no WARN and is never auto-blocked
 * (PX-4, PX-5); authorization failures log nothing at INFO (SEC-2).
 *
 *   request.log  <ip> - <user> [<date>] "<METHOD> <path> HTTP/1.1" <400..599> ...
 *
 * Left out: 401 for an anonymous request (the challenge every client gets first: normal
 * traffic), HEAD 404 on a Docker `/v2/.../blobs/` path (the layer check before an upload: normal
 * traffic), fewer than 20 errors of a kind; and what a more specific rule reports: 401 with a user
 * name (rule authentication-failures, per client), 4xx on `/blobs/uploads/` (rule
 * docker-blob-upload-rejected).
 */
import { thousands } from '../../format-number';
import type { RequestEvent } from '../../events/log-event';
import { repositoryOfPath } from '../../events/http-log-line';
import type { Confidence, Reference, Rule, Severity } from '../rule';
import { howOften, listOf, plural } from './wording';

/** Errors of one kind on one repository that make a storm. */
export const REQUEST_ERROR_THRESHOLD = 20;

export type RequestErrorCause =
  | 'nexus-server-errors'
  | 'nexus-unavailable'
  | 'content-not-found'
  | 'access-denied'
  | 'rate-limited'
  | 'jetty-bad-message'
  | 'uploads-rejected'
  | 'bad-requests'
  | 'method-not-allowed'
  | 'client-errors';

interface Signal {
  /** Repository, or the area of a path outside repositories. */
  subject: string;
  repository: boolean;
  /** `404`, ... or `5xx`. */
  status: number;
  method: string;
  path: string;
  client: string;
  user: string | null;
}

interface State {
  subject: string;
  repository: boolean;
  byStatus: Record<string, number>;
  byMethod: Record<string, number>;
  users: string[];
  lastRequest: string;
}

const AREAS: ReadonlyArray<[string, string]> = [
  ['/service/rest/', 'REST API'],
  ['/service/extdirect', 'UI (extdirect)'],
  ['/v2/', 'Docker connector port'],
  ['/badMessage', 'Jetty (malformed requests)'],
  ['/service/', 'Nexus services'],
  ['/static/', 'UI static files'],
];

/** The repository of a path (with or without a context path), else its area. */
function subjectOf(path: string): { subject: string; repository: boolean } {
  const at = path.indexOf('/repository/');
  if (at !== -1 && at < 64) {
    const name = repositoryOfPath(path.slice(at));
    if (name !== null) return { subject: name, repository: true };
  }
  for (const [prefix, area] of AREAS) {
    const found = path.indexOf(prefix);
    if (found === 0 || (prefix !== '/v2/' && found !== -1 && found < 64)) return { subject: area, repository: false };
  }
  return { subject: 'other paths', repository: false };
}

function withoutQuery(path: string): string {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  return bare.length > 300 ? `${bare.slice(0, 300)}…` : bare;
}

/** Whether a request.log error is normal traffic, or another rule's. */
export function isNormalError(event: RequestEvent): boolean {
  if (event.status === 401) return true; // anonymous: the challenge before the credentials; with a user: rule authentication-failures
  if (event.status === 404 && event.method === 'HEAD' && event.path.includes('/v2/') && event.path.includes('/blobs/')) return true; // Docker layer check
  if (event.status < 500 && event.path.includes('/blobs/uploads')) return true; // rule docker-blob-upload-rejected
  return false;
}

function causeOf(state: Readonly<State>, status: number): RequestErrorCause {
  if (status >= 500) return status === 503 ? 'nexus-unavailable' : 'nexus-server-errors';
  if (state.subject === 'Jetty (malformed requests)') return 'jetty-bad-message';
  switch (status) {
    case 404:
      return 'content-not-found';
    case 403:
      return 'access-denied';
    case 429:
      return 'rate-limited';
    case 405:
      return 'method-not-allowed';
    case 400:
      return (state.byMethod.PUT ?? 0) + (state.byMethod.POST ?? 0) > (state.byMethod.GET ?? 0) + (state.byMethod.HEAD ?? 0) ? 'uploads-rejected' : 'bad-requests';
    default:
      return 'client-errors';
  }
}

/** The status most of the errors had. */
/** The 5xx counts only. */
function onlyServer(byStatus: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(byStatus).filter(([code]) => Number(code) >= 500));
}

function mainStatus(byStatus: Readonly<Record<string, number>>): number {
  let best = 0;
  let most = -1;
  for (const [status, n] of Object.entries(byStatus)) {
    if (n > most) {
      best = Number(status);
      most = n;
    }
  }
  return best;
}

interface CauseText {
  confidence: Confidence;
  explain(where: string, s: Readonly<State>): string;
  fix(where: string, s: Readonly<State>): string[];
  references?: Reference[];
}

const CAUSES: Record<RequestErrorCause, CauseText> = {
  'nexus-server-errors': {
    confidence: 'medium',
    explain: (where) => `Nexus answered requests to ${where} with server errors (5xx): it failed to serve them. A storm usually has one cause: memory, the database pool, a blob store, a full disk.`,
    fix: (where) => [`Look at nexus.log at the same time for ${where}: the request-failed, jvm-out-of-memory, database-pool-exhausted or blobstore-write-failed incidents name the cause; fix that first.`],
  },
  'nexus-unavailable': {
    confidence: 'medium',
    explain: (where) => `Nexus answered requests to ${where} with 503 Service Unavailable: it is read-only (frozen by an administrator or a backup, or the database went read-only), starting, or the repository is offline.`,
    fix: (where) => [`Check Administration > System > Support > Read-Only and the state of ${where} (online); see the database-read-only incident if any.`],
  },
  'content-not-found': {
    confidence: 'low',
    explain: (where, s) =>
      `${where} answered 404 to ${s.repository ? 'many requests' : 'many requests outside repositories'}. For a proxy or group repository it means the remote lacks the content or refuses it (a remote 403/404 logs no WARN in nexus.log and never auto-blocks), or the repository is auto-blocked and the content is not cached; for a hosted repository the content was never uploaded or was cleaned up.`,
    fix: (where) => [
      `Request one of the paths listed from the remote of ${where} directly (curl with the repository's credentials): if it answers 403/404, fix the remote URL, the credentials or the path the clients ask for.`,
      'If the paths look like probes (checksums, metadata, other repositories\' content), tell the clients to use the right repository or group instead.',
      'For a hosted repository, check the cleanup policies did not remove content still in use.',
    ],
    references: [
      { title: 'Nexus source: ProxyFacetSupport logs no WARN for a remote 403/404; DefaultAutoBlockConfiguration never auto-blocks on 403, 404, 429', url: 'https://github.com/sonatype/nexus-public' },
    ],
  },
  'access-denied': {
    confidence: 'medium',
    explain: (where, s) => `${where} refused authenticated requests with 403${s.users.length > 0 ? ` (users ${listOf(s.users, s.users.length, 3)})` : ''}: the users lack the privilege for what they ask (read, browse, add, edit).`,
    fix: (where) => [`Give the users a role with the nx-repository-view privileges they need on ${where}, or point the clients at a repository they may use.`],
  },
  'rate-limited': {
    confidence: 'high',
    explain: (where) => `Requests to ${where} were answered 429 Too Many Requests: a rate limit (the remote's, relayed by a proxy repository, or one in front of Nexus) is hit.`,
    fix: (where) => [`Authenticate ${where} to its remote (authenticated pulls get higher limits, e.g. Docker Hub) and raise its cache times so Nexus asks less often.`],
  },
  'jetty-bad-message': {
    confidence: 'high',
    explain: () => 'Jetty rejected malformed HTTP requests before they reached a repository (logged as GET /badMessage 400): headers too large, illegal characters, or a broken client or proxy.',
    fix: () => ['Find the client (the IPs listed) and fix what it sends; raise the Jetty request header size only if large headers are legitimate.'],
  },
  'uploads-rejected': {
    confidence: 'medium',
    explain: (where) => `Uploads to ${where} were answered 400: usually a redeploy the repository does not allow, or content it rejects (nexus.log: ExceptionHandler "Illegal operation" / "Invalid content").`,
    fix: (where) => [`Read the ExceptionHandler lines of nexus.log for ${where} (rule request-failed): deploy a new version instead of overwriting, or allow redeploy if intended.`],
  },
  'bad-requests': {
    confidence: 'low',
    explain: (where) => `Requests to ${where} were answered 400 Bad Request: the clients send requests Nexus cannot read.`,
    fix: () => ['Look at the paths and clients listed, and at nexus.log (ViewServlet "Bad request. Reason") at the same time.'],
  },
  'method-not-allowed': {
    confidence: 'medium',
    explain: (where) => `Requests to ${where} were answered 405 Method Not Allowed: typically uploads to a proxy or group repository, which accept no deploys.`,
    fix: () => ['Point the deploying clients at a hosted repository (distributionManagement, publishConfig, the push URL).'],
  },
  'client-errors': {
    confidence: 'low',
    explain: (where, s) => `Requests to ${where} were answered ${mainStatus(s.byStatus)}.`,
    fix: () => ['Look at the paths and clients listed for what they ask.'],
  },
};

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const requestErrors: Rule<Signal, State> = {
  id: 'request-errors',
  title: 'Storms of error responses in request.log, per repository',
  severity: 'warning',
  category: 'requests',
  reads: [{ input: 'request', statuses: [[400, 599]] }],
  // Ten minutes without an error of the kind ends the storm.
  windowMs: 10 * 60_000,
  distinctLimit: 10,
  causedBy: [
    { rule: 'jvm-out-of-memory', withinMs: 30 * 60_000 },
    { rule: 'database-pool-exhausted', withinMs: 30 * 60_000 },
    { rule: 'proxy-auto-blocked', withinMs: 30 * 60_000, sameSubject: true },
    { rule: 'proxy-remote-unavailable', withinMs: 30 * 60_000, sameSubject: true },
  ],

  match(event) {
    if (event.kind !== 'request' || event.status < 400 || event.status > 599 || isNormalError(event)) return undefined;
    const { subject, repository } = subjectOf(event.path);
    return {
      subject,
      repository,
      status: event.status,
      method: event.method.length > 10 ? event.method.slice(0, 10) : event.method,
      path: withoutQuery(event.path),
      client: event.clientIp,
      user: event.user,
    };
  },

  // Every error status of one repository is one storm: the most frequent gives the cause, the
  // others are listed (a repository answering 404 and 403 at once is one problem to look at).
  key(signal) {
    return signal.subject;
  },

  open(signal) {
    return { subject: signal.subject, repository: signal.repository, byStatus: {}, byMethod: {}, users: [], lastRequest: '' };
  },

  distinct(signal) {
    return { path: signal.path, client: signal.client };
  },

  add(state, signal) {
    state.byStatus[signal.status] = (state.byStatus[signal.status] ?? 0) + 1;
    if (signal.method in state.byMethod || Object.keys(state.byMethod).length < 8) state.byMethod[signal.method] = (state.byMethod[signal.method] ?? 0) + 1;
    if (signal.user !== null && state.users.length < 5 && !state.users.includes(signal.user)) state.users.push(signal.user);
    state.lastRequest = `${signal.method} ${signal.path} ${signal.status}`;
  },

  describe(state, group) {
    if (group.count < REQUEST_ERROR_THRESHOLD) return null;
    const serverErrors = Object.entries(state.byStatus).reduce((n, [code, count]) => (Number(code) >= 500 ? n + count : n), 0);
    const server = serverErrors >= REQUEST_ERROR_THRESHOLD || serverErrors * 2 >= group.count;
    const status = mainStatus(server ? onlyServer(state.byStatus) : state.byStatus);
    const cause = causeOf(state, status);
    const text = CAUSES[cause];
    const where = state.repository ? `repository ${state.subject}` : state.subject === 'other paths' ? 'Nexus' : `the ${state.subject}`;
    const paths = group.distinct.path ?? { values: [], total: 0 };
    const clients = group.distinct.client ?? { values: [], total: 0 };
    const statuses = Object.entries(state.byStatus).map(([s, n]) => `${s} ×${thousands(n)}`);
    const severity: Severity = server ? 'error' : 'warning';
    const label = server ? `server errors (${statuses.join(', ')})` : statuses.length === 1 ? `${status} errors` : `errors (${statuses.join(', ')})`;
    return {
      subject: state.repository ? { type: 'repository', name: state.subject } : { type: 'path', name: state.subject },
      fingerprint: [state.subject],
      summary:
        `${cap(where)} answered ${label} ${howOften(group.count, group.firstTime, group.lastTime)}` +
        ` to ${plural(clients.total, 'client')} on ${plural(paths.total, 'path')} (${listOf(paths.values, paths.total, 2)}).`,
      severity,
      facts: {
        [state.repository ? 'repository' : 'area']: state.subject,
        statuses,
        methods: Object.entries(state.byMethod).map(([m, n]) => `${m} ×${thousands(n)}`),
        paths: paths.values,
        clients: clients.values,
        ...(state.users.length > 0 ? { users: state.users } : {}),
        'last request': state.lastRequest,
      },
      diagnosis: {
        cause,
        explanation: cap(text.explain(where, state)),
        confidence: text.confidence,
        remediation: text.fix(where, state),
        ...(text.references === undefined ? {} : { references: text.references }),
      },
    };
  },
};
