/**
 * Rule `proxy-remote-unavailable`: a proxy repository failing to fetch from its remote, one
 * incident per repository while it goes on (a broken remote fails every request), classified
 * by why (TLS trust, DNS, timeout, auth, remote 5xx, an HTTP error from the remote...).
 *
 *   <format>ProxyFacet WARN  Exception {exception} checking remote for update, proxy repo {repo} failed to fetch {path}[ with status line {status}], content not in cache.
 *                                                                                                                      (or `, returning content from cache.`)
 *   HttpClientFacetImpl INFO Repository status for {repo} changed from {OLD} to UNAVAILABLE - reason {reason} for {url}   (auto-block off)
 *   V2Handlers WARN  Is the remote url a valid docker endpoint? Remote host {url} with path {path} did not return the expected response. Error message: {error}
 *                    (a Docker proxy; the line names the remote, not the repository: the remote is the subject)
 *   <format>ProxyFacetImpl WARN  Unable to resolve url. Reason: Illegal character in scheme name at index 0: core:/stable:/...   (the URL cannot be built)
 *   org.apache.http.impl.auth.HttpAuthenticator WARN  BEARER [complete=true] authentication error: Could not retrieve token from https://europe-docker.pkg.dev/v2/token. Status code: 401
 *                    (a Docker proxy whose remote refuses its credentials: clients only see `manifest unknown`)
 *   outbound-request.log: `[time] - "GET https://remote/path HTTP/1.1" 403 ...`: remote 403, 407, 429 and 5xx answers, one
 *                    incident per remote host. A remote 403 gives no WARN in nexus.log and does not block the repository
 *                    (catalogue PX-4, PX-5): this log is its only trace. 401 (a registry's auth challenge) and 404 (a
 *                    proxy's everyday answer) are not read.
 *
 * Auto-blocked intervals are rule `proxy-auto-blocked`. Parsed with indexOf only: a message can
 * be megabytes (an HTML error page in the status), and no pattern here may backtrack on it.
 */
import type { NexusEvent, OutboundEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { adviceFor, classifyRemoteFailure, failurePhrase, urlParts, type RemoteFailure } from './remote-failures';
import { howOften, listOf, plural, trimMarkup } from './wording';

const CHECKING = ' checking remote for update, proxy repo ';
const FAILED_TO_FETCH = ' failed to fetch ';
const STATUS_LINE = ' with status line ';
const FROM_CACHE = ', returning content from cache';
const STATUS_FOR = 'Repository status for ';
const DOCKER_ENDPOINT = 'Is the remote url a valid docker endpoint? Remote host ';
const WITH_PATH = ' with path ';
const ERROR_MESSAGE = 'Error message: ';
const UNRESOLVED_URL = 'Unable to resolve url. Reason: ';
/** Apache HttpClient's `BEARER [complete=true] authentication error: Could not retrieve token from <url>. Status code: 401` (a Docker proxy's registry token). */
const AUTH_ERROR = ' authentication error: ';
const TOKEN_FROM = 'Could not retrieve token from ';
/** Remote answers read from outbound-request.log. */
const OUTBOUND_STATUSES: ReadonlyArray<readonly [number, number]> = [
  [403, 403],
  [407, 407],
  [429, 429],
  [500, 599],
];

export interface RemoteFetchFailure {
  repository: string;
  failure: RemoteFailure;
  /** The exception or reason as logged (cut). */
  detail: string;
  path: string | null;
  /** The cached copy was served. */
  fromCache: boolean;
  remote: string | null;
  /** The line names only the remote (a Docker proxy's V2Handlers warning, outbound-request.log): `repository` holds its URL. */
  remoteOnly?: true;
  /** From a Docker proxy's V2Handlers warning. */
  docker?: true;
}

/** A Docker proxy's `Is the remote url a valid docker endpoint? ...` warning, or undefined. */
export function parseDockerEndpointFailure(message: string): RemoteFetchFailure | undefined {
  if (!message.startsWith(DOCKER_ENDPOINT)) return undefined;
  const hostEnd = message.indexOf(WITH_PATH, DOCKER_ENDPOINT.length);
  if (hostEnd === -1) return undefined;
  const remote = message.slice(DOCKER_ENDPOINT.length, hostEnd);
  const pathStart = hostEnd + WITH_PATH.length;
  const pathEnd = message.indexOf(' ', pathStart);
  const errorAt = message.indexOf(ERROR_MESSAGE, pathStart);
  const error = errorAt === -1 ? 'no error message' : message.slice(errorAt + ERROR_MESSAGE.length, errorAt + ERROR_MESSAGE.length + 300);
  // The remote answered, but not with what a registry answers: an HTTP error unless the text says more.
  const failure = classifyRemoteFailure(error);
  return {
    repository: remote,
    failure: failure === 'io-error' ? 'remote-http-error' : failure,
    detail: `the remote answered: ${error}`,
    path: message.slice(pathStart, pathEnd === -1 ? message.length : pathEnd),
    fromCache: false,
    remote,
    remoteOnly: true,
    docker: true,
  };
}

/** A remote's error answer in outbound-request.log. */
export function parseOutboundFailure(event: OutboundEvent): RemoteFetchFailure {
  const { host, path } = urlParts(event.url) ?? { host: event.url, path: '/' };
  const failure: RemoteFailure = event.status === 403 ? 'forbidden' : event.status === 407 ? 'auth' : event.status === 429 ? 'rate-limited' : 'remote-5xx';
  return {
    repository: host,
    failure,
    detail: `${event.method} ${event.url.length > 200 ? `${event.url.slice(0, 200)}…` : event.url} answered ${event.status}`,
    path,
    fromCache: false,
    remote: host,
    remoteOnly: true,
  };
}

/** HttpAuthenticator's failure to get a token from the remote's token service: the remote refuses the configured credentials. */
function parseAuthenticationError(event: NexusEvent): RemoteFetchFailure | undefined {
  const at = event.message.indexOf(AUTH_ERROR);
  if (at === -1) return undefined;
  const reason = event.message.slice(at + AUTH_ERROR.length, at + AUTH_ERROR.length + 300);
  const from = reason.indexOf(TOKEN_FROM);
  let host = 'the remote';
  if (from !== -1) {
    const url = reason.slice(from + TOKEN_FROM.length).split(/[\s]/)[0]?.replace(/\.$/, '') ?? '';
    host = urlParts(url)?.host || host;
  }
  const failure = classifyRemoteFailure(reason);
  return {
    repository: host,
    failure: failure === 'io-error' ? 'auth' : failure,
    detail: `${event.message.slice(0, at).trim()} authentication error: ${reason}`,
    path: null,
    fromCache: false,
    remote: host,
    remoteOnly: true,
  };
}

/** `<format>ProxyFacetImpl - Unable to resolve url. Reason: ...`: the line names neither repository nor remote, only the format's facet. */
function parseUnresolvedUrl(event: NexusEvent): RemoteFetchFailure | undefined {
  if (!event.message.startsWith(UNRESOLVED_URL)) return undefined;
  const reason = event.message.slice(UNRESOLVED_URL.length, UNRESOLVED_URL.length + 300);
  const facet = event.logger.slice(event.logger.lastIndexOf('.') + 1);
  return {
    repository: `(name not logged${facet === '' ? '' : `, ${facet}`})`,
    failure: classifyRemoteFailure(reason),
    detail: `Unable to resolve url: ${reason}`,
    path: null,
    fromCache: false,
    remote: null,
  };
}

/** A ProxyFacetSupport fetch failure, or undefined. */
export function parseFetchFailure(message: string): RemoteFetchFailure | undefined {
  const checking = message.indexOf(CHECKING);
  if (checking === -1) return undefined;
  const exception = message.startsWith('Exception ') ? message.slice(10, checking) : message.slice(0, checking);
  const repoStart = checking + CHECKING.length;
  const repoEnd = message.indexOf(' ', repoStart);
  if (repoEnd === -1) return undefined;
  const repository = message.slice(repoStart, repoEnd);
  let path: string | null = null;
  if (message.startsWith(FAILED_TO_FETCH, repoEnd)) {
    const pathStart = repoEnd + FAILED_TO_FETCH.length;
    let pathEnd = pathStart;
    while (pathEnd < message.length && message.charCodeAt(pathEnd) !== 0x20 && message.charCodeAt(pathEnd) !== 0x2c) pathEnd++;
    path = message.slice(pathStart, pathEnd);
  }
  const status = message.indexOf(STATUS_LINE, repoEnd);
  const detail = status === -1 ? exception : `${exception} (${message.slice(status + STATUS_LINE.length, status + STATUS_LINE.length + 120).split(', content')[0] as string})`;
  return {
    repository,
    failure: classifyRemoteFailure(detail),
    detail: detail.length > 300 ? `${detail.slice(0, 300)}…` : detail,
    path,
    fromCache: message.includes(FROM_CACHE, repoEnd),
    remote: null,
  };
}

/** `Repository status for X changed from Y to Z - reason R for URL`: the parts, or undefined. */
export function parseStatusChange(message: string): { repository: string; from: string; to: string; until: string | null; reason: string; url: string | null } | undefined {
  if (!message.startsWith(STATUS_FOR)) return undefined;
  const changed = message.indexOf(' changed from ', STATUS_FOR.length);
  if (changed === -1) return undefined;
  const repository = message.slice(STATUS_FOR.length, changed);
  const to = message.indexOf(' to ', changed + 14);
  if (to === -1) return undefined;
  const from = message.slice(changed + 14, to);
  let stateEnd = to + 4;
  while (stateEnd < message.length && message.charCodeAt(stateEnd) !== 0x20) stateEnd++;
  const state = message.slice(to + 4, stateEnd);
  const untilAt = message.startsWith(' until ', stateEnd) ? stateEnd + 7 : -1;
  const until = untilAt === -1 ? null : message.slice(untilAt, message.indexOf(' ', untilAt) === -1 ? message.length : message.indexOf(' ', untilAt));
  const reasonAt = message.indexOf(' reason ', stateEnd);
  let reason = reasonAt === -1 ? '' : message.slice(reasonAt + 8);
  let url: string | null = null;
  const forAt = reason.lastIndexOf(' for ');
  if (forAt !== -1) {
    url = trimMarkup(reason.slice(forAt + 5));
    reason = reason.slice(0, forAt);
  }
  reason = trimMarkup(reason);
  return { repository, from, to: state, until, reason, url };
}

interface State {
  repository: string;
  /** Failures by class, for the cause. */
  byClass: Partial<Record<RemoteFailure, number>>;
  lastDetail: string;
  fromCache: number;
  remote: string | null;
  /** Keyed by the remote's URL: the log did not name the repository. */
  remoteOnly: boolean;
  docker: boolean;
}

/** The class most of the failures had. */
function mainClass(byClass: Partial<Record<RemoteFailure, number>>): RemoteFailure {
  let best: RemoteFailure = 'io-error';
  let most = -1;
  for (const [name, n] of Object.entries(byClass) as Array<[RemoteFailure, number]>) {
    if (n > most) {
      best = name;
      most = n;
    }
  }
  return best;
}

export const proxyRemoteUnavailable: Rule<RemoteFetchFailure, State> = {
  id: 'proxy-remote-unavailable',
  title: 'Proxy repository cannot fetch from its remote',
  severity: 'warning',
  category: 'proxy',
  reads: [
    // The WARN comes from each format's proxy facet (MavenProxyFacet, DockerProxyFacetImpl...): any logger.
    { levels: ['WARN'], literals: [CHECKING.trim()] },
    { levels: ['INFO'], loggers: ['HttpClientFacetImpl'], literals: [{ text: STATUS_FOR, at: 'start' }] },
    { levels: ['WARN'], loggers: ['V2Handlers'], literals: [{ text: DOCKER_ENDPOINT, at: 'start' }] },
    { levels: ['WARN'], literals: [{ text: UNRESOLVED_URL, at: 'start' }] },
    { levels: ['WARN', 'ERROR'], loggers: ['HttpAuthenticator'], literals: [AUTH_ERROR.trim()] },
    { input: 'outbound', statuses: OUTBOUND_STATUSES },
  ],
  windowMs: 30 * 60_000,
  distinctLimit: 10,

  match(event) {
    if (event.kind === 'outbound') return parseOutboundFailure(event);
    if (event.kind !== 'nexus') return undefined;
    if (event.message.startsWith(UNRESOLVED_URL)) return parseUnresolvedUrl(event);
    if (event.logger.endsWith('HttpAuthenticator')) return parseAuthenticationError(event);
    if (event.level === 'INFO') {
      const change = parseStatusChange(event.message);
      if (change === undefined || change.to !== 'UNAVAILABLE') return undefined;
      return { repository: change.repository, failure: classifyRemoteFailure(change.reason), detail: change.reason, path: null, fromCache: false, remote: change.url };
    }
    return parseFetchFailure(event.message) ?? parseDockerEndpointFailure(event.message);
  },

  key(signal) {
    return signal.repository;
  },

  open(signal) {
    return { repository: signal.repository, byClass: {}, lastDetail: signal.detail, fromCache: 0, remote: signal.remote, remoteOnly: signal.remoteOnly === true, docker: signal.docker === true };
  },

  distinct(signal) {
    return signal.path === null ? undefined : { path: signal.path };
  },

  add(state, signal) {
    state.byClass[signal.failure] = (state.byClass[signal.failure] ?? 0) + 1;
    state.lastDetail = signal.detail;
    if (signal.fromCache) state.fromCache++;
    state.remote ??= signal.remote;
  },

  describe(state, group) {
    const failure = mainClass(state.byClass);
    const advice = adviceFor(failure, state.remoteOnly ? `the remote ${state.repository}` : `the remote of ${state.repository}${state.remote === null ? '' : ` (${state.remote})`}`);
    const who = state.remoteOnly
      ? `A ${state.docker ? 'Docker ' : ''}proxy repository could not fetch from its remote ${state.repository}`
      : state.repository.startsWith('(')
        ? `A proxy repository ${state.repository} could not fetch from its remote`
        : `Proxy repository ${state.repository} could not fetch from its remote`;
    const paths = group.distinct.path ?? { values: [], total: 0 };
    // Lines that name only the remote (outbound-request.log, a Docker endpoint check) say nothing of the cache.
    const served = state.fromCache === 0 ? 'none could be served from the cache' : `${plural(state.fromCache, 'request')} got the cached copy`;
    const classes = Object.entries(state.byClass).map(([name, n]) => `${failurePhrase(name as RemoteFailure)} ${n}`);
    return {
      subject: { type: state.remoteOnly ? 'remote' : 'repository', name: state.repository },
      fingerprint: [state.repository, failure],
      summary:
        `${who} (${failurePhrase(failure)}): ${howOften(group.count, group.firstTime, group.lastTime)}` +
        `${paths.total > 0 ? `, ${plural(paths.total, 'path')} (${listOf(paths.values, paths.total, 2)})` : ''}${state.remoteOnly ? '' : `; ${served}`}.`,
      severity: failure === 'remote-http-error' ? 'warning' : state.fromCache === group.count ? 'info' : 'warning',
      facts: {
        ...(state.remoteOnly ? {} : { repository: state.repository }),
        ...(state.remote === null ? {} : { remote: state.remote }),
        failure: failurePhrase(failure),
        'by cause': classes,
        'last error': state.lastDetail,
      },
      diagnosis: {
        cause: advice.cause,
        explanation: `${advice.meaning} Requests for content the repository has not cached fail meanwhile. Last error: ${state.lastDetail}.`,
        confidence: failure === 'io-error' ? 'low' : 'high',
        remediation: [...advice.remediation, `Look at the repository's status in the UI; if it was auto-blocked (rule proxy-auto-blocked), it unblocks itself once the remote answers.`],
        ...(advice.references === undefined ? {} : { references: advice.references }),
      },
    };
  },
};
