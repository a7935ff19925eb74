/** proxy-remote-unavailable: the texts it reads beyond the ProxyFacet WARN (covered end to end by the corpus test). */
import { parseDockerEndpointFailure, proxyRemoteUnavailable } from '../../src/rules/builtin/proxy-remote-unavailable';
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
