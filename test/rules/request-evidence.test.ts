/** request.log: every layout parses; joined to nexus.log it proves why a push failed. */
import * as path from 'node:path';
import { analyzeFiles } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { isDockerPushIncident } from '../../src/rules/builtin/docker-manifest-missing-layers';
import type { DockerPushIncident } from '../../src/index';
import { kindOfName } from '../../src/events/classify-input';
import { parseBlobPath, parseRequestLine } from '../../src/events/http-log-line';
import { SAMPLES } from '../support/helpers';

const UA = 'docker/24.0.7 go/go1.20.10 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))';

describe('request.log lines', () => {
  const expected = {
    clientIp: '172.18.0.1',
    user: 'admin',
    method: 'PUT',
    path: '/repository/docker-hosted/v2/test-image/manifests/1.0',
    status: 400,
    elapsed: 165,
    time: Date.UTC(2026, 3, 9, 14, 23, 42),
  };

  it('3.17+: Content-Length, User-Agent and [thread]', () => {
    const line = `172.18.0.1 - admin [09/Apr/2026:14:23:42 +0000] "PUT /repository/docker-hosted/v2/test-image/manifests/1.0 HTTP/1.1" 400 22997 0 165 "${UA}" [qtp1985555490-85]`;
    expect(parseRequestLine(line)).toMatchObject({ ...expected, kind: 'request', bytes: 0, text: line, userAgent: UA, thread: 'qtp1985555490-85' });
  });

  it('3.13+: no [thread]; 3.3+: no Content-Length; older: no User-Agent', () => {
    const base = '172.18.0.1 - admin [09/Apr/2026:14:23:42 +0000] "PUT /repository/docker-hosted/v2/test-image/manifests/1.0 HTTP/1.1" 400';
    expect(parseRequestLine(`${base} 22997 0 165 "buildkit/v0.29"`)).toMatchObject({ ...expected, userAgent: 'buildkit/v0.29', thread: null });
    expect(parseRequestLine(`${base} 0 165 "buildkit/v0.29"`)).toMatchObject({ ...expected, userAgent: 'buildkit/v0.29', thread: null });
    expect(parseRequestLine(`${base} 0 165`)).toMatchObject({ ...expected, userAgent: null, thread: null });
    expect(parseRequestLine(`${base} - 0 165 "" [qtp1-2]`)).toMatchObject({ ...expected, userAgent: null, thread: 'qtp1-2' });
    expect(parseRequestLine(`${base} - - 165`)).toMatchObject({ ...expected, bytes: null });
  });

  it('applies the offset; an anonymous user is null; junk is not a request', () => {
    const line = '10.0.0.1 - - [09/Apr/2026:10:23:42 -0400] "HEAD /v2/a/blobs/sha256:abc HTTP/1.1" 200 - 0 3 "x" [t]';
    expect(parseRequestLine(line)).toMatchObject({ user: null, method: 'HEAD', time: Date.UTC(2026, 3, 9, 14, 23, 42) });
    expect(parseRequestLine('2025-09-10 01:36:22,857+0000 INFO [x] y z - m')).toBeUndefined();
    expect(parseRequestLine('')).toBeUndefined();
  });

  it('knows request log names and blob paths', () => {
    expect(kindOfName('/nexus-data/log/request.log')).toBe('request');
    expect(kindOfName('log/request-2026-11-19.log.gz')).toBe('request');
    expect(kindOfName('log/outbound-request.log')).toBe('outbound');
    expect(kindOfName('log/nexus.log')).toBe('nexus');
    expect(kindOfName('C:\\sonatype-work\\nexus3\\log\\tasks\\blobstore.compact-20250910013622123.log')).toBe('task');
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseBlobPath(`/repository/docker-group/v2/team/app/blobs/${digest}`)).toEqual({ repository: 'docker-group', image: 'team/app', digest });
    expect(parseBlobPath(`/v2/team/app/blobs/${digest}`)).toEqual({ repository: null, image: 'team/app', digest });
  });
});

describe('nexus.log joined with request.log', () => {
  async function pushes(patterns: string[]): Promise<DockerPushIncident[]> {
    const out: Incident[] = [];
    for await (const incident of analyzeFiles(patterns, { jobs: 1 })) out.push(incident);
    return out.filter(isDockerPushIncident);
  }
  const nexusLog = path.join(SAMPLES, 'nexus.log');
  const requestLog = path.join(SAMPLES, 'request.log');

  it('proves the routing split: layer checks answered 200 by the group, the manifest PUT to the hosted repository', async () => {
    const incident = (await pushes([nexusLog, requestLog])).find((i) => i.image === 'team-a/api-server') as DockerPushIncident;
    expect(incident.client).toEqual({ ip: '10.0.4.17', user: 'ci-bot', userAgent: expect.stringContaining('docker/24.0.7') });
    expect(incident.layerChecks.map((c) => [c.method, c.status, c.repository])).toEqual([
      ['HEAD', 200, 'docker-group'], ['HEAD', 200, 'docker-group'], ['HEAD', 200, 'docker-group'],
    ]);
    expect(incident.layerChecks.map((c) => c.digest).sort()).toEqual([...incident.missingLayers].sort());
    expect(incident.diagnosis).toMatchObject({ cause: 'layer-check-answered-by-other-repository', confidence: 'high' });
    expect(incident.diagnosis.explanation).toContain("answered 200 by 'docker-group', not by 'docker-hosted'");
    expect(incident.diagnosis.remediation[0]).toContain('from 10.0.4.17 went to');
    const sources = incident.evidence.map((e) => path.basename(e.source));
    expect(sources.filter((s) => s === 'request.log')).toHaveLength(4); // 3 checks + the PUT
    expect(incident.evidence[incident.evidence.length - 1]?.text).toContain('"PUT /repository/docker-hosted/v2/team-a/api-server/manifests/1.4.2');
    // The cause rests on the three checks and the PUT, by index into the evidence.
    expect(incident.diagnosis.evidence.map((i) => incident.evidence[i]?.text.split('"')[1]?.split(' ')[0])).toEqual(['HEAD', 'HEAD', 'HEAD', 'PUT']);
  });

  it('checks answered by the hosted repository itself point at the blob store instead', async () => {
    const incident = (await pushes([nexusLog, requestLog])).find((i) => i.image === 'team-b/worker') as DockerPushIncident;
    expect(incident.layerChecks.map((c) => c.repository)).toEqual(['docker-hosted', 'docker-hosted']);
    expect(incident.diagnosis).toMatchObject({ cause: 'layer-missing-after-check', confidence: 'medium' });
    expect(incident.diagnosis.remediation.join(' ')).toContain('separate blob stores');
  });

  it('without request.log the cause is the likely one, with what to collect to confirm it', async () => {
    const incident = (await pushes([nexusLog])).find((i) => i.image === 'team-a/api-server') as DockerPushIncident;
    expect([incident.client, incident.layerChecks, incident.diagnosis.confidence]).toEqual([null, [], 'medium']);
    expect(incident.diagnosis.remediation.join(' ')).toContain('To confirm: in request.log');
  });

  it('a folder brings its request.log along; pushes without matching requests are unchanged', async () => {
    const all = await pushes([SAMPLES]);
    expect(all).toHaveLength(12); // 11 pushes of the push story, 1 of the broken server (samples/README.md)
    expect(all.filter((i) => i.client !== null).map((i) => i.image).sort()).toEqual(['team-a/api-server', 'team-b/worker', 'team-c/api']); // team-c/api: the broken server's request.log, in its support zip
    expect(all.find((i) => i.image === 'ml/trainer')?.client).toBeNull(); // its thread later served a GET /v2/ only
  });
});

describe('request.log and the other causes', () => {
  it('a 400 with no missing layer (manifest list) gets its client from request.log; its cause stays the manifest-list one', async () => {
    const dir = require('node:fs').mkdtempSync(path.join(require('node:os').tmpdir(), 'nla-req-'));
    const fs = require('node:fs') as typeof import('node:fs');
    fs.writeFileSync(
      path.join(dir, 'nexus.log'),
      '2026-11-20 10:30:45,120+0000 WARN  [qtp1985555490-95]  release-bot org.sonatype.nexus.repository.docker.internal.V2Handlers - Error: PUT /v2/platform/base/manifests/2026.11: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest\n',
    );
    fs.writeFileSync(
      path.join(dir, 'request.log'),
      '10.0.4.40 - release-bot [20/Nov/2026:10:30:45 +0000] "PUT /repository/docker-hosted/v2/platform/base/manifests/2026.11 HTTP/1.1" 400 912 174 9 "docker/24.0.7" [qtp1985555490-95]\n',
    );
    const out: Incident[] = [];
    for await (const incident of analyzeFiles(dir)) out.push(incident);
    const [incident] = out.filter(isDockerPushIncident);
    expect(incident?.client).toEqual({ ip: '10.0.4.40', user: 'release-bot', userAgent: 'docker/24.0.7' });
    expect(incident?.diagnosis.cause).toBe('manifest-list-refers-to-missing-content');
    expect(incident?.evidence.map((e) => path.basename(e.source))).toEqual(['nexus.log', 'request.log']);
    expect(incident?.diagnosis.evidence).toEqual([0]); // still the 400 line, shifted past no checks
  });
});
