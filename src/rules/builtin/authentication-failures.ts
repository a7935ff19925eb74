/**
 * Rule `authentication-failures`: failed logins, counted per client (shared reference
 * nexus-catalogue.md, SEC-1 and SEC-2). nexus.log has no line per failed login at INFO; the
 * evidence is:
 *
 *   audit.log (3.22+, audit on): {"domain":"security.user","type":"authentication", ...,
 *     "attributes":{"failureReasons":["INCORRECT_CREDENTIALS"],"wasSuccessful":false,"userId":"ci-bot","remoteIp":"10.0.0.5",...}}
 *   request.log: 10.0.0.5 - ci-bot [10/Mar/2025:10:00:01 +0000] "GET /repository/maven-public/... HTTP/1.1" 401 ...
 *
 * A 401 whose user is `-` is the normal first, anonymous challenge of a client (it sends its
 * credentials only after it): it is not counted. One incident per client IP while failures keep
 * coming (15 minutes without one ends it), reported from 5 failures on. One IP failing with one
 * user name is a client with a wrong or expired password (a CI job, a build tool's settings);
 * one IP trying many user names is password spraying (or a misconfigured shared tool).
 */
import type { AnyEvent } from '../../events/log-event';
import type { Finding, Rule } from '../rule';
import { howOften, listOf, plural } from './wording';

interface Signal {
  source: 'audit' | 'request';
  user: string;
  ip: string | null;
  agent: string | null;
  path: string | null;
}

interface State {
  source: 'audit' | 'request';
  ip: string | null;
  /** Failures per user name, for the first users seen. */
  users: Record<string, number>;
  agent: string | null;
  path: string | null;
}

/** Failures in one episode from which it is reported. */
export const AUTH_FAILURE_THRESHOLD = 5;
/** Distinct user names from one client from which it reads as spraying. */
export const SPRAY_USERS = 3;
const USERS_KEPT = 50;

function auditSignal(event: AnyEvent): Signal | undefined {
  if (event.kind !== 'audit' || event.domain !== 'security.user' || event.type !== 'authentication') return undefined;
  const a = event.attributes;
  const reasons = Array.isArray(a.failureReasons) ? (a.failureReasons as unknown[]) : [];
  if (a.wasSuccessful === true || (a.wasSuccessful !== false && reasons.length === 0)) return undefined;
  const user = event.userId ?? '?';
  return { source: 'audit', user, ip: event.remoteIp, agent: typeof a.userAgent === 'string' ? a.userAgent : null, path: typeof a.path === 'string' ? a.path : null };
}

export const authenticationFailures: Rule<Signal, State> = {
  id: 'authentication-failures',
  title: 'Failed logins (wrong credentials) from one client',
  severity: 'warning',
  category: 'security',
  reads: [
    { input: 'audit', literals: ['"authentication"'] },
    { input: 'request', statuses: [[401, 401]] },
  ],
  windowMs: 15 * 60_000,
  distinctLimit: 10,

  match(event) {
    if (event.kind === 'audit') return auditSignal(event);
    if (event.kind !== 'request' || event.status !== 401 || event.user === null || event.user === '-' || event.user === '') return undefined;
    return { source: 'request', user: event.user, ip: event.clientIp, agent: event.userAgent, path: event.path };
  },

  key(signal) {
    return `${signal.source}\u0000${signal.ip ?? `user:${signal.user}`}`;
  },

  open(signal) {
    return { source: signal.source, ip: signal.ip, users: {}, agent: signal.agent, path: signal.path };
  },

  add(state, signal) {
    if (signal.user in state.users) state.users[signal.user] = (state.users[signal.user] as number) + 1;
    else if (Object.keys(state.users).length < USERS_KEPT) state.users[signal.user] = 1;
    state.agent ??= signal.agent;
    state.path ??= signal.path;
  },

  distinct(signal) {
    return { user: signal.user };
  },

  describe(state, group): Finding | null {
    if (group.count < AUTH_FAILURE_THRESHOLD) return null;
    const users = group.distinct.user ?? { values: Object.keys(state.users), total: Object.keys(state.users).length };
    const ranked = Object.entries(state.users).sort((a, b) => b[1] - a[1]);
    const top = ranked[0]?.[0] ?? users.values[0] ?? '?';
    const spraying = users.total >= SPRAY_USERS;
    const how = howOften(group.count, group.firstTime, group.lastTime);
    const from = state.ip === null ? '' : ` from ${state.ip}`;
    const log = state.source === 'audit' ? 'audit.log: INCORRECT_CREDENTIALS' : 'request.log: 401 with a user name';
    const agent = state.agent === null || state.agent === '' ? '' : ` (${state.agent})`;
    const summary = spraying
      ? `Client ${state.ip ?? '?'}${agent} failed to log in ${how} with ${plural(users.total, 'different user name')} (${listOf(users.values, users.total, 3)}): password spraying, or one tool with many wrong accounts (${log}).`
      : `User ${top} failed to log in ${how}${from}${agent} (${log}).`;
    return {
      subject: spraying ? { type: 'client', name: state.ip ?? '?' } : { type: 'user', name: top },
      fingerprint: spraying ? ['spraying', state.ip] : ['user', top],
      summary,
      user: spraying ? null : top,
      ...(spraying ? { severity: 'error' as const } : {}),
      facts: {
        client: state.ip ?? 'not logged',
        users: users.values,
        'user names': users.total,
        failures: group.count,
        ...(state.agent === null ? {} : { 'user agent': state.agent }),
        ...(state.path === null ? {} : { 'first path': state.path }),
        source: state.source === 'audit' ? 'audit.log' : 'request.log',
      },
      diagnosis: spraying
        ? {
            cause: 'password-spraying',
            explanation:
              `One client (${state.ip ?? 'unknown IP'}) tried ${plural(users.total, 'user name')} and failed ${plural(group.count, 'time')}: someone guessing passwords across accounts, ` +
              'or a shared tool (a proxy, a CI agent) configured with many wrong accounts.',
            confidence: 'medium',
            remediation: [
              `Find out who ${state.ip ?? 'the client'} is (the host, the proxy in front of it); if it is not yours, block it at the firewall or reverse proxy.`,
              'Check the accounts it tried for lockouts and rotate their passwords if any login from it succeeded.',
              'Prefer user tokens over passwords for tools, and keep the anonymous user and admin defaults locked down.',
            ],
          }
        : {
            cause: 'wrong-credentials',
            explanation:
              `User ${top} failed to authenticate ${plural(group.count, 'time')}${from}: the client sends a wrong or expired password or token. ` +
              'Usually a CI job, a build tool (settings.xml, .npmrc, docker login) or a service account whose password was changed; with LDAP, also an expired or locked directory account.',
            confidence: 'medium',
            remediation: [
              `Update the credentials of the client${from} (its user agent says which tool) for user ${top}, or the account's password.`,
              'If the account is locked or expired in LDAP, unlock it there; if it is a Nexus user, check that it is active.',
              'For tools, use a user token (Nexus Pro) or a dedicated service account so a password change does not break them.',
            ],
          },
    };
  },
};
