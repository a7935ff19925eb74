/** authentication-failures: audit.log INCORRECT_CREDENTIALS and request.log 401s with a user, per client, from 5 on. */
import { authenticationFailures } from '../../src/rules/builtin/authentication-failures';
import type { Incident } from '../../src/incidents/incident';
import { analyze } from '../support/helpers';
import { adversarial, at, MINUTE, SECOND } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const audit = (ms: number, user: string, ip = '10.0.0.5', ok = false): string =>
  JSON.stringify({
    timestamp: at(ms),
    nodeId: 'A1B2C3D4-E5F6A7B8-C9D0E1F2-A3B4C5D6-E7F8A9B0',
    initiator: `anonymous/${ip}`,
    domain: 'security.user',
    type: 'authentication',
    context: user,
    attributes: { failureReasons: ok ? [] : ['INCORRECT_CREDENTIALS'], wasSuccessful: ok, userId: user, remoteIp: ip, userAgent: 'Apache-Maven/3.9.6 (Java 17.0.10; Linux 6.1)', path: '/repository/maven-public/org/x/1.0/x-1.0.pom' },
  });

function accessDate(ms: number): string {
  const d = new Date(Date.UTC(2025, 2, 3, 9) + ms);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const request = (ms: number, user: string, status = 401, ip = '172.18.0.1'): string =>
  `${ip} - ${user} [${accessDate(ms)}] "GET /v2/ HTTP/1.1" ${status} - 113 3 "docker/27.3.1 go/go1.22.7" [qtp1985555490-85]`;

const runAudit = (lines: string[]): Incident[] => analyze(`${lines.join('\n')}\n`, { rules: [authenticationFailures], kind: 'audit', source: 'audit.log' });
const runRequest = (lines: string[]): Incident[] => analyze(`${lines.join('\n')}\n`, { rules: [authenticationFailures], kind: 'request', source: 'request.log' });

describe('authentication-failures', () => {
  it('audit.log: a user failing to log in 6 times from one client', () => {
    const [incident, ...rest] = runAudit(Array.from({ length: 6 }, (_, i) => audit(i * 20 * SECOND, 'ci-bot')));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({
      rule: 'authentication-failures',
      severity: 'warning',
      category: 'security',
      subject: { type: 'user', name: 'ci-bot' },
      user: 'ci-bot',
      count: 6,
      facts: { client: '10.0.0.5', 'user names': 1, failures: 6, source: 'audit.log' },
      diagnosis: { cause: 'wrong-credentials' },
    });
    expect(incident?.summary).toBe('User ci-bot failed to log in 6 times in 2 min (3.6/min) from 10.0.0.5 (Apache-Maven/3.9.6 (Java 17.0.10; Linux 6.1)) (audit.log: INCORRECT_CREDENTIALS).');
  });

  it('below 5 failures in the window it is not an incident; successes do not count', () => {
    expect(runAudit([...Array.from({ length: 4 }, (_, i) => audit(i * SECOND, 'ci-bot')), ...Array.from({ length: 5 }, (_, i) => audit(10 * SECOND + i, 'ci-bot', '10.0.0.5', true))])).toEqual([]);
  });

  it('15 minutes without a failure ends an episode: two episodes of 3 are not a storm', () => {
    expect(runAudit([...Array.from({ length: 3 }, (_, i) => audit(i * SECOND, 'bob')), ...Array.from({ length: 3 }, (_, i) => audit(20 * MINUTE + i * SECOND, 'bob'))])).toEqual([]);
  });

  it('one client trying many user names is password spraying (error)', () => {
    const users = ['admin', 'root', 'deploy', 'jenkins', 'test', 'nexus', 'ci', 'build'];
    const [incident] = runAudit(users.map((u, i) => audit(i * SECOND, u, '203.0.113.7')));
    expect(incident).toMatchObject({ severity: 'error', subject: { type: 'client', name: '203.0.113.7' }, user: null, facts: { 'user names': 8 }, diagnosis: { cause: 'password-spraying' } });
    expect(incident?.summary).toMatch(/^Client 203\.0\.113\.7 \(Apache-Maven\/3\.9\.6 \(Java 17\.0\.10; Linux 6\.1\)\) failed to log in 8 times with 8 different user names \(admin, root, deploy and 5 more\): password spraying/);
  });

  it('request.log: 401s with a user count; the anonymous first challenge (user -) does not', () => {
    const anonymous = Array.from({ length: 50 }, (_, i) => request(i * SECOND, '-'));
    expect(runRequest(anonymous)).toEqual([]);
    const [incident] = runRequest([...anonymous, ...Array.from({ length: 5 }, (_, i) => request(i * SECOND, 'deployer')), request(6 * SECOND, 'deployer', 200)]);
    expect(incident).toMatchObject({ subject: { type: 'user', name: 'deployer' }, count: 5, facts: { client: '172.18.0.1', source: 'request.log', 'user agent': 'docker/27.3.1 go/go1.22.7' } });
    expect(incident?.summary).toBe('User deployer failed to log in 5 times from 172.18.0.1 (docker/27.3.1 go/go1.22.7) (request.log: 401 with a user name).');
  });

  it('clients are kept apart; a storm of a thousand failures is one incident', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(audit(i * SECOND, 'ci-bot', i % 2 === 0 ? '10.0.0.5' : '10.0.0.6'));
    const list = runAudit(lines);
    expect(list.map((i) => [i.facts.client, i.count])).toEqual([
      ['10.0.0.5', 500],
      ['10.0.0.6', 500],
    ]);
    expect(list[1]?.occurrences).toBe(2); // the same user: one fingerprint
  });

  it('near misses: other audit records and statuses', () => {
    const other = JSON.stringify({ timestamp: at(0), domain: 'security.user', type: 'created', context: 'x', attributes: { authentication: 'x' } });
    expect(runAudit(Array.from({ length: 10 }, () => other))).toEqual([]);
    expect(runRequest(Array.from({ length: 10 }, (_, i) => request(i, 'bob', 403)))).toEqual([]);
  });

  it('a long adversarial user name costs its length', async () => {
    const list = await incidentsOffThread([authenticationFailures.id], Array.from({ length: 5 }, (_, i) => audit(i, adversarial('"authentication" ', 100_000))), { kind: 'audit', source: 'audit.log' });
    expect(list).toHaveLength(1);
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout
});
