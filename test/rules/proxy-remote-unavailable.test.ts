/** proxy-remote-unavailable: the texts it reads beyond the ProxyFacet WARN (covered end to end by the corpus test). */
import { parseDockerEndpointFailure, proxyRemoteUnavailable } from '../../src/rules/builtin/proxy-remote-unavailable';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { incidents, line, realLog, SECOND } from '../support/rule-lines';

const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
const endpoint = (path: string, error: string): string =>
  `Is the remote url a valid docker endpoint? Remote host https://eu.gcr.io/ with path ${path} did not return the expected response. Error message: ${error}`;

describe('proxy-remote-unavailable: a Docker proxy whose remote does not answer as a registry (V2Handlers)', () => {
  it('parses the remote, the path and the error; an answer that is not an outage is an HTTP error of the remote', () => {
    expect(parseDockerEndpointFailure(endpoint('/v2/ops-test/flink-jobs/manifests/1.0.0-rc.77', 'manifest unknown'))).toEqual({
      repository: 'https://eu.gcr.io/',
      failure: 'remote-http-error',
      detail: 'the remote answered: manifest unknown',
      path: '/v2/ops-test/flink-jobs/manifests/1.0.0-rc.77',
      fromCache: false,
      remote: 'https://eu.gcr.io/',
      remoteOnly: true,
      docker: true,
    });
    expect(parseDockerEndpointFailure(endpoint('/v2/a/manifests/1', 'Unauthorized'))?.failure).toBe('auth');
    expect(parseDockerEndpointFailure('Error: GET /v2/a/manifests/1: 404')).toBeUndefined();
  });

  it('failures against one remote are one incident whose subject is the remote', () => {
    const text = [
      line(0, 'WARN', V2, endpoint('/v2/team/a/manifests/1', 'manifest unknown'), { user: 'admin' }),
      line(SECOND, 'WARN', V2, endpoint('/v2/team/b/manifests/2', 'manifest unknown'), { user: 'admin' }),
    ];
    const [incident, ...rest] = incidents(proxyRemoteUnavailable, text);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ subject: { type: 'remote', name: 'https://eu.gcr.io/' }, count: 2, diagnosis: { cause: 'remote-http-error' } });
    expect(incident?.summary).toContain('A Docker proxy repository could not fetch from its remote https://eu.gcr.io/');
    expect(incident?.facts['repository']).toBeUndefined();
  });

  it('np-292: the warning pasted without its timestamp is read by its header tail', () => {
    const found = incidents(proxyRemoteUnavailable, realLog('np-292-docker-proxy-gcr-manifest-unknown-digest-mismatch.log'));
    expect(found.map((i) => [i.subject, i.diagnosis.cause])).toEqual([[{ type: 'remote', name: 'https://eu.gcr.io/' }, 'remote-http-error']]);
  });
});

describe('proxy-remote-unavailable: remote answers only outbound-request.log shows (catalogue PX-5: a remote 403 gives no WARN)', () => {
  const outbound = (time: string, url: string, status: number): string =>
    `[07/Nov/2025:08:${time} +0000] - "GET ${url} HTTP/1.1" ${status} -1 572 "Nexus/3.60.0-02 (OSS; Linux; 5.15.0-160-generic; amd64; 1.8.0_382) " [qtp169057866-15749]`;

  it('403s from one remote are one incident about that host; 401 challenges, 404s and 200s are not read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-outbound-'));
    writeFileSync(
      path.join(dir, 'outbound-request.log'),
      [
        outbound('01:27', 'https://download.pytorch.org/whl/cu130/simple/cmake/', 403),
        outbound('01:28', 'https://download.pytorch.org/whl/cu130/simple/numpy/', 403),
        outbound('01:29', 'https://download.pytorch.org/whl/cu130/simple/cmake/', 403),
        outbound('01:30', 'https://registry-1.docker.io/v2/', 401),
        outbound('01:31', 'https://repo1.maven.org/maven2/a/b/1/b-1.pom', 404),
        outbound('01:32', 'https://repo1.maven.org/maven2/a/b/1/b-1.jar', 200),
      ].join('\n'),
    );
    const out: Incident[] = [];
    for await (const incident of analyzeFiles(dir)) out.push(incident);
    const found = out.filter((i) => i.rule === 'proxy-remote-unavailable');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ subject: { type: 'remote', name: 'download.pytorch.org' }, count: 3, diagnosis: { cause: 'remote-forbidden' }, distinct: { path: { total: 2 } } });
    expect(found[0]?.summary).not.toContain('cache');
  });

  it('a 5xx storm from a remote is its server errors; 429 rate limiting; 407 the outbound proxy credentials', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-outbound-'));
    const statuses = [502, 503, 502, 429, 407];
    writeFileSync(path.join(dir, 'outbound-request.log'), statuses.map((status, i) => outbound(`0${i}:00`, `https://remote${status === 502 || status === 503 ? '' : status}.example.com/p/${i}`, status)).join('\n'));
    const out: Incident[] = [];
    for await (const incident of analyzeFiles(dir)) out.push(incident);
    const causes = Object.fromEntries(out.filter((i) => i.rule === 'proxy-remote-unavailable').map((i) => [i.subject?.name, [i.count, i.diagnosis.cause]]));
    expect(causes).toEqual({
      'remote.example.com': [3, 'remote-server-error'],
      'remote429.example.com': [1, 'remote-rate-limited'],
      'remote407.example.com': [1, 'remote-auth'],
    });
  });
});

describe('proxy-remote-unavailable: an upstream URL that cannot be built', () => {
  it('np-340 (yum, a colon read as a scheme) and np-pr-75 (raw, a colon read as a port): the remote is fine', () => {
    const [yum] = incidents(proxyRemoteUnavailable, realLog('np-340-yum-proxy-unable-to-resolve-url-colon.log'));
    expect(yum).toMatchObject({ diagnosis: { cause: 'remote-url-invalid' }, subject: { type: 'repository', name: '(name not logged, OrientYumProxyFacetImpl)' } });
    const [raw] = incidents(proxyRemoteUnavailable, realLog('np-pr-75-compose-raw-proxy-colon-invalid-host-name.log'));
    expect(raw).toMatchObject({ diagnosis: { cause: 'remote-url-invalid' }, subject: { name: 'archlinux_x64-extra-proxy' } });
  });
});
