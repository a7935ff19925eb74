import { requestErrors } from '../../src/rules/builtin/request-errors';
import { filesWithout, realIncidents, requestIncidents, requestLine } from '../support/request-lines';
import { adversarial, corpusEntry, MINUTE } from '../support/rule-lines';

const run = (lines: string[]) => requestIncidents(requestErrors, lines);

/** `n` lines one second apart from `from`, `make(i)` each. */
function burst(n: number, make: (i: number, ms: number) => string, from = 0, step = 1000): string[] {
  return Array.from({ length: n }, (_, i) => make(i, from + i * step));
}

describe('request-errors: storms per repository and status', () => {
  it('20 404s on a proxy repository make one incident with the count, the paths and the clients', () => {
    const lines = burst(20, (i, ms) => requestLine(ms, 'GET', `/repository/maven-central/org/x/${i % 5}/x.pom`, 404, { ip: `10.0.0.${i % 2}` }));
    const [incident, ...rest] = run(lines);
    expect(rest).toHaveLength(0);
    expect(incident).toMatchObject({ subject: { type: 'repository', name: 'maven-central' }, severity: 'warning', count: 20 });
    expect(incident?.diagnosis.cause).toBe('content-not-found');
    expect(incident?.distinct.path?.total).toBe(5);
    expect(incident?.distinct.client?.total).toBe(2);
    expect(incident?.facts).toMatchObject({ repository: 'maven-central', statuses: ['404 ×20'], methods: ['GET ×20'] });
    expect(incident?.summary).toBe('Repository maven-central answered 404 errors 20 times to 2 clients on 5 paths (/repository/maven-central/org/x/0/x.pom, /repository/maven-central/org/x/1/x.pom and 3 more).');
    expect(incident?.diagnosis.explanation).toContain('never auto-blocks');
  });

  it('19 errors are not a storm (the group is discarded)', () => {
    expect(run(burst(19, (i, ms) => requestLine(ms, 'GET', `/repository/r/${i}`, 404)))).toEqual([]);
  });

  it('every error status of one repository is one storm: 5xx make it an error, the most frequent gives the cause', () => {
    const lines = [
      ...burst(15, (i, ms) => requestLine(ms, 'GET', `/repository/npm-group/p${i}`, 500)),
      ...burst(10, (i, ms) => requestLine(ms, 'GET', `/repository/npm-group/q${i}`, 502), 100),
      ...burst(12, (i, ms) => requestLine(ms, 'GET', `/repository/npm-group/r${i}`, 403), 200),
      ...burst(12, (i, ms) => requestLine(ms, 'GET', `/repository/npm-group/s${i}`, 404), 300),
    ];
    const found = run(lines.sort((a, b) => a.localeCompare(b)));
    expect(found.map((i) => [i.subject?.name, i.severity, i.diagnosis.cause, i.count])).toEqual([['npm-group', 'error', 'nexus-server-errors', 49]]);
    expect(found[0]?.facts.statuses).toEqual(['403 ×12', '404 ×12', '500 ×15', '502 ×10']);
    expect(found[0]?.summary).toContain('server errors (403 ×12, 404 ×12, 500 ×15, 502 ×10)');
    const clientOnly = run([...burst(30, (i, ms) => requestLine(ms, 'GET', `/repository/maven-central/a${i}`, 404)), ...burst(12, (i, ms) => requestLine(ms, 'GET', `/repository/maven-central/b${i}`, 403), 100)].sort((a, b) => a.localeCompare(b)));
    expect(clientOnly.map((i) => [i.severity, i.diagnosis.cause, i.count, i.facts.statuses])).toEqual([['warning', 'content-not-found', 42, ['403 ×12', '404 ×30']]]);
  });

  it('tells the status classes apart', () => {
    const storm = (status: number, method = 'GET', path = '/repository/r/x', user: string | null = 'alice') => run(burst(20, (i, ms) => requestLine(ms, method, `${path}${i}`, status, { user })))[0]?.diagnosis.cause;
    expect(storm(503)).toBe('nexus-unavailable');
    expect(storm(403)).toBe('access-denied');
    expect(storm(429)).toBe('rate-limited');
    expect(storm(405, 'PUT')).toBe('method-not-allowed');
    expect(storm(400, 'PUT')).toBe('uploads-rejected');
    expect(storm(400, 'GET')).toBe('bad-requests');
    expect(storm(409)).toBe('client-errors');
    expect(storm(400, 'GET', '/badMessage', null)).toBe('jetty-bad-message');
  });

  it('paths outside repositories are grouped by area', () => {
    const areas = (path: string) => run(burst(20, (_i, ms) => requestLine(ms, 'GET', path, 500)))[0]?.subject;
    expect(areas('/service/rest/v1/search?q=x')).toEqual({ type: 'path', name: 'REST API' });
    expect(areas('/v2/team/app/manifests/1.0')).toEqual({ type: 'path', name: 'Docker connector port' });
    expect(areas('/nexus/repository/ctx-repo/x')).toEqual({ type: 'repository', name: 'ctx-repo' });
    expect(areas('/favicon.ico')).toEqual({ type: 'path', name: 'other paths' });
  });

  it('1,000 errors are one incident with the count and the distinct paths', () => {
    const found = run(burst(1000, (i, ms) => requestLine(ms, 'GET', `/repository/pypi-proxy/simple/p${i}/`, 404), 0, 500));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ count: 1000 });
    expect(found[0]?.distinct.path).toMatchObject({ total: 1000 });
    expect(found[0]?.distinct.path?.values).toHaveLength(10);
  });

  it('ten minutes without an error of the kind end the storm', () => {
    const first = burst(25, (i, ms) => requestLine(ms, 'GET', `/repository/r/${i}`, 404));
    const second = burst(30, (i, ms) => requestLine(ms, 'GET', `/repository/r/${i}`, 404), 25_000 + 11 * MINUTE);
    expect(run([...first, ...second]).map((i) => [i.count, i.closeReason])).toEqual([
      [25, 'window'],
      [30, 'end-of-input'],
    ]);
  });
});

describe('request-errors: normal traffic and near misses', () => {
  it('leaves out the anonymous 401 challenge, Docker layer checks, blob uploads and successes', () => {
    const lines = [
      ...burst(30, (i, ms) => requestLine(ms, 'GET', `/repository/maven-public/x${i}`, 401, { user: null })),
      ...burst(30, (i, ms) => requestLine(ms, 'HEAD', `/v2/app/blobs/sha256:${String(i).padStart(64, '0')}`, 404, { user: null, agent: 'docker/24' })),
      ...burst(30, (i, ms) => requestLine(ms, 'HEAD', `/repository/docker-hosted/v2/app/blobs/sha256:${String(i).padStart(64, '0')}`, 404)),
      ...burst(30, (i, ms) => requestLine(ms, 'PATCH', `/repository/docker-hosted/v2/app/blobs/uploads/u${i}`, 404)),
      ...burst(30, (i, ms) => requestLine(ms, 'GET', `/repository/r/x${i}`, 200)),
      ...burst(30, (i, ms) => requestLine(ms, 'GET', `/repository/r/y${i}`, 304)),
    ];
    expect(run(lines)).toEqual([]);
  });

  it('401s with a user name are left to authentication-failures (per client)', () => {
    expect(run(burst(30, (i, ms) => requestLine(ms, 'GET', `/repository/r/x${i}`, 401, { user: 'ci-bot' })))).toEqual([]);
  });

  it('reads a 300 KB adversarial path without trouble, and keeps it short', () => {
    const long = requestLine(0, 'GET', `/repository/${adversarial('r/repository/?/v2/', 300_000)}`, 404);
    const found = run([long, ...burst(19, (i, ms) => requestLine(ms, 'GET', `/repository/r/x${i}`, 404), 1000)]);
    expect(found.map((i) => [i.subject?.name, i.count])).toEqual([['r', 20]]);
    for (const value of found[0]?.distinct.path?.values ?? []) expect(value.length).toBeLessThanOrEqual(301);
  });
});

describe('request-errors on the real excerpts', () => {
  it('np-967 request.log: 8 malformed requests (GET /badMessage 400) stay under the threshold; labelled other:jetty-bad-message-400', () => {
    const entry = corpusEntry('np-967-request-log-badmessage-400-burst.log');
    expect(entry.expected.map((e) => e.class)).toEqual(['other:jetty-bad-message-400']);
    expect(realIncidents(requestErrors, 'np-967-request-log-badmessage-400-burst.log')).toEqual([]);
  });

  it('... and the same burst at 20 lines is a jetty-bad-message storm on the Jetty area', () => {
    // (identical lines are dropped as duplicates by the engine: the real burst differs by thread and elapsed time)
    const line = (i: number) => `172.23.0.1 - - [16/Apr/2026:16:02:34 +0000] "GET /badMessage HTTP/1.0" 400 - 0 ${i % 11} "" [qtp1353397472-${90 + i}]`;
    const [incident] = run(Array.from({ length: 20 }, (_, i) => line(i)));
    expect(incident?.subject).toEqual({ type: 'path', name: 'Jetty (malformed requests)' });
    expect(incident?.diagnosis.cause).toBe('jetty-bad-message');
  });

  it('stays silent on every excerpt not labelled with it', () => {
    for (const file of filesWithout('request-errors')) expect([file, realIncidents(requestErrors, file).length]).toEqual([file, 0]);
  });
});
