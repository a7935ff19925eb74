/**
 * Rule `proxy-auto-blocked`: a proxy repository Nexus stopped asking its remote, as one
 * interval per repository from the block to the unblock, classified by the reason.
 *
 *   HttpClientFacetImpl INFO Repository status for {repo} changed from {OLD} to AUTO_BLOCKED_UNAVAILABLE until {ISO} - reason {reason} for {url}
 *   HttpClientFacetImpl INFO Repository status for {repo} continued as AUTO_BLOCKED_UNAVAILABLE until {ISO} - reason {r} (previous reason was {r0})
 *   HttpClientFacetImpl INFO Repository status for {repo} changed from AUTO_BLOCKED_UNAVAILABLE to AVAILABLE - reason n/a for n/a
 *
 * A block is extended in Fibonacci steps from 40 s while the remote keeps failing (`continued
 * as`); Nexus blocks on 401, 407, 5xx and I/O errors, never on 403, 404 or 429 (PX-4).
 */
import type { Rule } from '../rule';
import { parseStatusChange } from './proxy-remote-unavailable';
import { adviceFor, classifyRemoteFailure, failurePhrase, type RemoteFailure } from './remote-failures';
import { duration, trimMarkup } from './wording';

const STATUS_FOR = 'Repository status for ';
const CONTINUED = ' continued as ';
const BLOCKED = 'AUTO_BLOCKED_UNAVAILABLE';

interface Signal {
  repository: string;
  /** blocked: a block starts or goes on; unblocked: back to AVAILABLE. */
  kind: 'blocked' | 'unblocked';
  reason: string;
  url: string | null;
  until: string | null;
}

interface State {
  repository: string;
  url: string | null;
  firstReason: string;
  lastReason: string;
  extensions: number;
  until: string | null;
  unblocked: boolean;
}

/** `continued as X until T - reason R (previous reason was R0)`. */
function parseContinued(message: string): Signal | undefined {
  const at = message.indexOf(CONTINUED, STATUS_FOR.length);
  if (at === -1) return undefined;
  const repository = message.slice(STATUS_FOR.length, at);
  if (!message.startsWith(BLOCKED, at + CONTINUED.length)) return undefined;
  const untilAt = message.indexOf(' until ', at);
  const reasonAt = message.indexOf(' reason ', at);
  const until = untilAt === -1 ? null : message.slice(untilAt + 7, message.indexOf(' ', untilAt + 7) === -1 ? message.length : message.indexOf(' ', untilAt + 7));
  let reason = reasonAt === -1 ? '' : message.slice(reasonAt + 8);
  const previous = reason.lastIndexOf(' (previous reason was');
  if (previous !== -1) reason = reason.slice(0, previous);
  return { repository, kind: 'blocked', reason: trimMarkup(reason), url: null, until };
}

export const proxyAutoBlocked: Rule<Signal, State> = {
  id: 'proxy-auto-blocked',
  title: 'Proxy repository auto-blocked: Nexus stopped asking its remote',
  severity: 'warning',
  category: 'proxy',
  reads: [{ levels: ['INFO'], loggers: ['HttpClientFacetImpl'], literals: [{ text: STATUS_FOR, at: 'start' }] }],
  // Blocks are extended while the remote fails; a day without a word closes the interval.
  windowMs: 24 * 60 * 60_000,

  match(event) {
    if (event.kind !== 'nexus') return undefined;
    const continued = parseContinued(event.message);
    if (continued !== undefined) return continued;
    const change = parseStatusChange(event.message);
    if (change === undefined) return undefined;
    if (change.to === BLOCKED) return { repository: change.repository, kind: 'blocked', reason: change.reason, url: change.url, until: change.until };
    if (change.from === BLOCKED) return { repository: change.repository, kind: 'unblocked', reason: change.reason, url: change.url, until: null };
    return undefined;
  },

  key(signal) {
    return signal.repository;
  },

  open(signal) {
    return { repository: signal.repository, url: signal.url, firstReason: signal.reason, lastReason: signal.reason, extensions: 0, until: signal.until, unblocked: false };
  },

  continues(state, signal) {
    // An unblock with no block open starts nothing; a new block after an unblock is a new interval.
    return !state.unblocked;
  },

  add(state, signal) {
    if (signal.kind === 'unblocked') {
      state.unblocked = true;
      return true;
    }
    if (signal.reason !== '') state.lastReason = signal.reason;
    if (state.url === null) state.url = signal.url;
    if (signal.until !== null) state.until = signal.until;
    state.extensions++;
    return false;
  },

  describe(state, group) {
    if (!state.unblocked && state.extensions === 0) return null; // an unblock whose block came before the log
    const failure: RemoteFailure = classifyRemoteFailure(`${state.firstReason} ${state.lastReason}`);
    const remote = state.url === null || state.url === 'n/a' ? `the remote of ${state.repository}` : state.url;
    const advice = adviceFor(failure, remote);
    const lasted = duration(group.lastTime - group.firstTime);
    const blockedAt = new Date(group.firstTime).toISOString();
    const summary = state.unblocked
      ? `Proxy repository ${state.repository} was auto-blocked for ${lasted} (${failurePhrase(failure)}: ${state.firstReason}), then available again.`
      : group.reason === null
        ? `Proxy repository ${state.repository} is auto-blocked since ${blockedAt} (${failurePhrase(failure)}: ${state.lastReason}).`
        : `Proxy repository ${state.repository} was auto-blocked from ${blockedAt} and not seen unblocked (${failurePhrase(failure)}: ${state.lastReason}; ${state.extensions - 1} extension(s)).`;
    return {
      subject: { type: 'repository', name: state.repository },
      fingerprint: [state.repository, failure],
      summary,
      severity: state.unblocked ? 'warning' : 'error',
      facts: {
        repository: state.repository,
        ...(state.url === null ? {} : { remote: state.url }),
        blocked: state.unblocked ? `${lasted}, then unblocked` : `since ${blockedAt}`,
        reason: state.firstReason === state.lastReason ? state.firstReason : `${state.firstReason}; last: ${state.lastReason}`,
        extensions: Math.max(0, state.extensions - 1),
      },
      diagnosis: {
        cause: advice.cause,
        explanation:
          `${advice.meaning} After such failures Nexus auto-blocks the repository: it stops asking the remote and serves only what it has cached, ` +
          'so clients get 404 for anything else until the block ends. The block is extended while the remote keeps failing.',
        confidence: failure === 'io-error' ? 'medium' : 'high',
        remediation: [...advice.remediation, 'Once the remote answers, the block lifts by itself; to retry at once, unblock the repository in its settings (Auto blocking enabled / Status).'],
        ...(advice.references === undefined ? {} : { references: advice.references }),
      },
    };
  },
};
