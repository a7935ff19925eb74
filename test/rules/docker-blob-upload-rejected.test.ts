import { dockerBlobUploadRejected, isBlobUploadFailure, parseV2ErrorLine } from '../../src/rules/builtin/docker-blob-upload-rejected';
import { digest } from '../support/helpers';
import { filesWithout, realIncidents, requestIncidents, requestLine } from '../support/request-lines';
import { adversarial, corpusEntry, HOUR, incidents, line, MINUTE, realLog } from '../support/rule-lines';

const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
const run = (text: string[]) => incidents(dockerBlobUploadRejected, text);

function uploadError(ms: number, image: string, uuid: string, rest = '', o: { method?: string; thread?: string; user?: string } = {}): string {
  return line(ms, 'WARN', V2, `Error: ${o.method ?? 'PUT'} /v2/${image}/blobs/uploads/${uuid}${rest}`, { thread: o.thread ?? 'qtp1-82', user: o.user ?? 'ci' });
}

describe('docker-blob-upload-rejected: the V2Handlers texts', () => {
  it('parses `Error: METHOD path: status - error` by hand', () => {
    expect(parseV2ErrorLine('Error: PUT /v2/a/blobs/uploads/u1: 400 - docker-hosted/v2/-/blobs/sha256:ab cannot be updated')).toEqual({
      method: 'PUT',
      path: '/v2/a/blobs/uploads/u1',
      status: 400,
      error: 'docker-hosted/v2/-/blobs/sha256:ab cannot be updated',
    });
    expect(parseV2ErrorLine('Error: PUT /v2/a/blobs/uploads/u1')).toEqual({ method: 'PUT', path: '/v2/a/blobs/uploads/u1', status: null, error: '' });
    expect(parseV2ErrorLine('Other: PUT /v2/a')).toBeUndefined();
  });

  it('`cannot be updated`: the blob is stored and the hosted repository does not allow redeploy', () => {
    const d = digest('layer-1');
    const [incident, ...rest] = run([uploadError(0, 'cache', 'c7da606e', `: 400 - docker-hosted/v2/-/blobs/${d} cannot be updated`)]);
    expect(rest).toHaveLength(0);
    expect(incident).toMatchObject({ subject: { type: 'repository', name: 'docker-hosted' }, severity: 'error', user: 'ci' });
    expect(incident?.diagnosis.cause).toBe('blob-exists-redeploy-disabled');
    expect(incident?.diagnosis.remediation[0]).toContain('Allow redeploy');
    expect(incident?.distinct.digest?.values).toEqual([d]);
    expect(incident?.summary).toBe('Docker blob uploads to repository docker-hosted were rejected (blob already stored, redeploy disabled): once, 1 image (cache), 1 blob.');
  });

  it('path routing names the repository in the path; a connector port with no name in the text makes the image the subject', () => {
    const routed = line(0, 'WARN', V2, 'Error: PATCH /repository/docker-push/v2/team/app/blobs/uploads/u1: 404 - blob upload unknown');
    expect(run([routed]).map((i) => [i.subject, i.diagnosis.cause])).toEqual([[{ type: 'repository', name: 'docker-push' }, 'upload-session-unknown']]);
    const connector = uploadError(0, 'team/app', 'u2', ': 400 - blob upload invalid');
    expect(run([connector]).map((i) => [i.subject, i.diagnosis.cause])).toEqual([[{ type: 'image', name: 'team/app' }, 'blob-upload-invalid']]);
  });

  it('classifies read-only repositories, digest mismatches and interrupted uploads', () => {
    const cases: Array<[string, string]> = [
      [uploadError(0, 'a', 'u', ': 400 - Repository is read only: docker-hosted'), 'repository-read-only'],
      [uploadError(0, 'a', 'u', `?digest=${digest('x')}: 400 - DIGEST_INVALID: provided digest did not match uploaded content`), 'digest-mismatch'],
      [uploadError(0, 'a', 'u', ': 404 - BLOB_UPLOAD_UNKNOWN'), 'upload-session-unknown'],
      [
        `${uploadError(0, 'eas/reposync', '482388ec')}\norg.sonatype.nexus.blobstore.api.BlobStoreException: Error uploading blob to bucket:eas-containers key:content/directpath/x.bytes, Cause: Early EOF\n\tat org.sonatype.nexus.blobstore.s3.internal.ProducerConsumerUploader.upload(ProducerConsumerUploader.java:184)`,
        'upload-interrupted',
      ],
      [`${uploadError(0, 'a', 'u')}\norg.sonatype.nexus.blobstore.api.BlobStoreException: BlobId: tmp$1, java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content/tmp`, 'blob-store-failure'],
    ];
    for (const [text, cause] of cases) expect([text.slice(0, 60), run([text])[0]?.diagnosis.cause]).toEqual([text.slice(0, 60), cause]);
  });

  it('registry error texts on a V2Handlers line outside /blobs/uploads count too (BLOB_UPLOAD_INVALID on a manifest PUT)', () => {
    const text = line(0, 'WARN', V2, 'Error: PUT /v2/app/manifests/1.0: 400 - BLOB_UPLOAD_INVALID: blob upload invalid: Repository is read only: docker-hosted');
    expect(isBlobUploadFailure('Error: PUT /v2/app/manifests/1.0: 400 - BLOB_UPLOAD_INVALID')).toBe(true);
    expect(run([text]).map((i) => [i.subject?.name, i.diagnosis.cause])).toEqual([['docker-hosted', 'repository-read-only']]);
  });
});

describe('docker-blob-upload-rejected: request.log', () => {
  const req = (ms: number, method: string, status: number, user: string | null = 'ci', repo = '/repository/docker-hosted') =>
    requestLine(ms, method, `${repo}/v2/test-image/blobs/uploads/c130bc9a?digest=sha256%3A${digest('q').slice(7)}`, status, { user, agent: 'buildkit/v0.29' });

  it('404 on PATCH/PUT of an upload: the upload session is unknown; the client and statuses are kept', () => {
    const [incident] = requestIncidents(dockerBlobUploadRejected, [req(0, 'PATCH', 404), req(1000, 'PUT', 404)]);
    expect(incident).toMatchObject({ subject: { type: 'repository', name: 'docker-hosted' }, count: 2 });
    expect(incident?.diagnosis.cause).toBe('upload-session-unknown');
    expect(incident?.facts.statuses).toEqual(['404 ×2']);
    expect(incident?.distinct.client?.values).toEqual(['10.0.0.1']);
    expect(incident?.distinct.digest?.values).toEqual([digest('q')]);
    expect(incident?.summary).toContain('(request.log)');
  });

  it('400 without nexus.log: cause unknown, low confidence; 403 is a missing privilege (warning)', () => {
    expect(requestIncidents(dockerBlobUploadRejected, [req(0, 'PUT', 400)]).map((i) => [i.diagnosis.cause, i.diagnosis.confidence])).toEqual([['blob-upload-invalid', 'low']]);
    expect(requestIncidents(dockerBlobUploadRejected, [req(0, 'POST', 403)]).map((i) => [i.diagnosis.cause, i.severity])).toEqual([['push-not-permitted', 'warning']]);
  });

  it('leaves out 401 (the anonymous challenge; with a user: authentication-failures), successes, server errors and other paths', () => {
    expect(requestIncidents(dockerBlobUploadRejected, [req(0, 'POST', 401, null), req(1, 'POST', 401, 'ci'), req(2, 'PUT', 201), req(3, 'PUT', 500), requestLine(4, 'HEAD', '/v2/app/blobs/sha256:ab', 404)])).toEqual([]);
  });
});

describe('docker-blob-upload-rejected: storms and windows', () => {
  it('1,000 rejected uploads to one repository are one incident with the distinct blobs', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(uploadError(i * 100, `img-${i % 4}`, `u${i}`, `: 400 - docker-hosted/v2/-/blobs/${digest(`b${i}`)} cannot be updated`, { thread: `qtp1-${i % 7}` }));
    const found = run(lines);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ count: 1000, subject: { name: 'docker-hosted' } });
    expect(found[0]?.distinct.digest?.total).toBe(1000);
    expect(found[0]?.distinct.image?.total).toBe(4);
  });

  it('an hour without a rejection ends the incident; a second cause is a second incident', () => {
    const redeploy = (ms: number) => uploadError(ms, 'a', 'u', `: 400 - docker-hosted/v2/-/blobs/${digest('z')} cannot be updated`);
    const found = run([redeploy(0), redeploy(10 * MINUTE), redeploy(10 * MINUTE + HOUR + 1000), line(10 * MINUTE + HOUR + 2000, 'WARN', V2, 'Error: PUT /repository/docker-hosted/v2/a/blobs/uploads/u: 400 - Repository is read only: docker-hosted')]);
    expect(found.map((i) => [i.diagnosis.cause, i.count, i.closeReason]).sort()).toEqual([
      ['blob-exists-redeploy-disabled', 1, 'end-of-input'],
      ['blob-exists-redeploy-disabled', 2, 'window'],
      ['repository-read-only', 1, 'end-of-input'],
    ]);
  });
});

describe('docker-blob-upload-rejected: near misses', () => {
  it('manifest errors, other loggers, INFO lines are nothing', () => {
    expect(run([line(0, 'WARN', V2, 'Error: PUT /v2/app/manifests/1.0: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest')])).toEqual([]);
    expect(run([line(0, 'WARN', 'org.example.Other', 'Error: PUT /v2/app/blobs/uploads/u: 400 - x cannot be updated')])).toEqual([]);
    expect(run([line(0, 'INFO', V2, 'Error: PUT /v2/app/blobs/uploads/u: 400 - x cannot be updated')])).toEqual([]);
    expect(run([line(0, 'WARN', V2, 'Uploading /v2/app/blobs/uploads/u')])).toEqual([]);
  });

  it('reads a 300 KB adversarial message without trouble', () => {
    const long = `Error: PUT /v2/${adversarial('a/blobs/uploads/sha256:', 300_000)}: 400 - ${adversarial('/v2/-/blobs/ sha256%3A', 300_000)}`;
    expect(run([line(0, 'WARN', V2, long)]).length).toBeLessThanOrEqual(1);
  });
});

describe('docker-blob-upload-rejected on the real excerpts', () => {
  it('np-967: docker-hosted refuses to overwrite the BuildKit cache blobs (cannot be updated)', () => {
    const file = 'np-967-blob-upload-400-cannot-be-updated.log';
    const label = corpusEntry(file).expected.find((e) => e.class === 'docker-blob-upload-rejected');
    expect(label?.subject).toBe('docker-hosted');
    expect(realLog(file)).toContain(label?.proof);
    const found = realIncidents(dockerBlobUploadRejected, file);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ subject: { type: 'repository', name: 'docker-hosted' }, count: 2, user: 'admin' });
    expect(found[0]?.diagnosis.cause).toBe('blob-exists-redeploy-disabled');
    expect(found[0]?.distinct.digest?.total).toBe(2);
    expect(found[0]?.evidence[0]?.text).toContain(label?.proof);
  });

  it('the np-967 request.log burst (GET /badMessage 400, no upload line) makes no incident', () => {
    expect(corpusEntry('np-967-request-log-badmessage-400-burst.log').notConclusive).toContain('docker-blob-upload-rejected');
    expect(realIncidents(dockerBlobUploadRejected, 'np-967-request-log-badmessage-400-burst.log')).toEqual([]);
  });

  it('stays silent on every excerpt not labelled with it', () => {
    for (const file of filesWithout('docker-blob-upload-rejected')) expect([file, realIncidents(dockerBlobUploadRejected, file).length]).toEqual([file, 0]);
  });
});

describe('docker-blob-upload-rejected: a PATCH cut by a closed channel (docker-nexus3#67)', () => {
  it('is an interrupted upload, not a refusal by Nexus', () => {
    const found = incidents(dockerBlobUploadRejected, realLog('docker-nexus3-67-v2handlers-patch-closed-channel-inline.log'));
    expect(found.map((i) => i.diagnosis.cause)).toEqual(['upload-interrupted']);
  });
});

