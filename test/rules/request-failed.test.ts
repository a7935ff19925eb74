import { requestFailed } from '../../src/rules/builtin/request-failed';
import { digest } from '../support/helpers';
import { filesWithout, realIncidents } from '../support/request-lines';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog } from '../support/rule-lines';

const VIEW = 'org.sonatype.nexus.repository.httpbridge.internal.ViewServlet';
const HANDLER = 'org.sonatype.nexus.repository.view.handlers.ExceptionHandler';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
const MANIFEST_UTIL = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const REST = 'org.sonatype.nexus.siesta.internal.UnexpectedExceptionMapper';
const FRAME = '\tat org.sonatype.nexus.repository.view.handlers.ExceptionHandler.handle(ExceptionHandler.java:44)';

const run = (text: string[]) => incidents(requestFailed, text);

function servicing(ms: number, method: string, uri: string, stack: string[], thread = 'qtp1-1'): string {
  return [line(ms, 'WARN', VIEW, `Failure servicing: ${method} ${uri}`, { thread, user: 'alice' }), ...stack.flatMap((l) => [l, FRAME])].join('\n');
}

const cause = (stack: string[], method = 'GET', uri = '/repository/maven-central/org/x/1.0/x-1.0.jar') => run([servicing(0, method, uri, stack)])[0]?.diagnosis.cause;

describe('request-failed: ViewServlet failures, by root cause', () => {
  it('names the repository, the request and the root exception (the last Caused by)', () => {
    const [incident, ...rest] = run([
      servicing(0, 'GET', '/repository/npm-proxy/lodash?x=1', [
        'javax.servlet.ServletException: org.sonatype.nexus.repository.InvalidContentException: x',
        'Caused by: java.io.IOException: wrapped',
        'Caused by: java.io.FileNotFoundException: /nexus-data/blobs/default/content/vol-01/x.bytes (Too many open files)',
      ]),
    ]);
    expect(rest).toHaveLength(0);
    expect(incident).toMatchObject({ subject: { type: 'repository', name: 'npm-proxy' }, severity: 'error', user: 'alice' });
    expect(incident?.diagnosis.cause).toBe('too-many-open-files');
    expect(incident?.facts).toMatchObject({ repository: 'npm-proxy', 'failed requests': 1, 'last request': 'GET /repository/npm-proxy/lodash', 'root cause': 'java.io.FileNotFoundException: /nexus-data/blobs/default/content/vol-01/x.bytes (Too many open files)' });
    expect(incident?.summary).toBe('A request to repository npm-proxy failed (too many open files): once (GET /repository/npm-proxy/lodash).');
    expect(incident?.diagnosis.remediation[0]).toContain('65536');
  });

  it('tells the causes of the stack apart', () => {
    const cases: Array<[string[], string]> = [
      [['java.lang.OutOfMemoryError: Java heap space'], 'out-of-memory'],
      [['org.apache.ibatis.exceptions.PersistenceException: x', 'Caused by: java.sql.SQLTransientConnectionException: nexus - Connection is not available, request timed out after 30000ms.'], 'database-pool-exhausted'],
      [['org.sonatype.nexus.blobstore.api.BlobStoreException: BlobId: tmp$1, java.io.IOException: No space left on device, Cause: No space left on device'], 'disk-full'],
      [['org.sonatype.nexus.blobstore.api.BlobStoreException: BlobId: tmp$1, java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content/tmp'], 'blob-store-failure'],
      [['org.sonatype.nexus.repository.MissingBlobException: Blob default@1 exists in metadata, but is missing from the blobstore'], 'blob-missing'],
      [['org.eclipse.jetty.io.EofException: Early EOF'], 'upload-client-early-eof'],
      [['org.eclipse.jetty.http.BadMessageException: 400: Unable to parse form content'], 'jetty-bad-message-400'],
      [['java.util.concurrent.TimeoutException: Idle timeout expired: 30000/30000 ms'], 'client-idle-timeout'],
      [['org.eclipse.jetty.io.EofException', 'Caused by: java.io.IOException: Broken pipe'], 'client-aborted'],
      [['com.orientechnologies.common.concur.lock.OModificationOperationProhibitedException: Modification requests are prohibited'], 'database-read-only'],
      [['org.sonatype.nexus.repository.httpclient.RemoteBlockedIOException: Remote Manually Blocked'], 'remote-fetch-failed'],
      [['java.lang.NullPointerException: null'], 'nexus-npe'],
      [['java.lang.IllegalStateException: Unexpected state'], 'unhandled-exception'],
    ];
    for (const [stack, expected] of cases) expect([stack[0], cause(stack)]).toEqual([stack[0], expected]);
  });

  it('client-side causes are warnings; the root class names a generic failure', () => {
    const [eof] = run([servicing(0, 'PUT', '/repository/raw/big.iso', ['org.eclipse.jetty.io.EofException: Early EOF'])]);
    expect(eof?.severity).toBe('warning');
    const [generic] = run([servicing(0, 'GET', '/repository/raw/x', ['java.lang.IllegalStateException: Unexpected state'])]);
    expect(generic?.summary).toContain('(unexpected exception: java.lang.IllegalStateException)');
    expect(generic?.diagnosis.confidence).toBe('low');
  });

  it('a context path before /repository/ is read too', () => {
    expect(run([servicing(0, 'GET', '/nexus/repository/releases/a.jar', ['java.lang.OutOfMemoryError: Java heap space'])]).map((i) => i.subject?.name)).toEqual(['releases']);
  });

  it('Bad request. Reason: {} is a client error with no repository', () => {
    const [incident] = run([line(0, 'WARN', VIEW, 'Bad request. Reason: Repository path contains invalid segment')]);
    expect(incident).toMatchObject({ subject: null, severity: 'warning' });
    expect(incident?.diagnosis.cause).toBe('bad-request');
    expect(incident?.facts['root cause']).toBe('Repository path contains invalid segment');
  });
});

describe('request-failed: ExceptionHandler (PX-9)', () => {
  it('Illegal operation: a redeploy refused, the repository from the exception', () => {
    const text = line(0, 'WARN', HANDLER, 'Illegal operation: PUT /com/acme/app/1.0/app-1.0.jar: org.sonatype.nexus.repository.IllegalOperationException: Repository does not allow updating assets: maven-releases');
    const [incident] = run([text]);
    expect(incident).toMatchObject({ subject: { type: 'repository', name: 'maven-releases' }, severity: 'warning', facts: { status: 400 } });
    expect(incident?.diagnosis.cause).toBe('redeploy-refused');
    expect(incident?.diagnosis.remediation.join(' ')).toContain('Allow redeploy');
  });

  it('Illegal operation on a read-only repository; Invalid content on GET is a 404', () => {
    const readOnly = line(0, 'WARN', HANDLER, 'Illegal operation: PUT /x/1.0/x.pom: org.sonatype.nexus.repository.IllegalOperationException: Repository is read only: frozen-releases');
    expect(run([readOnly]).map((i) => [i.subject?.name, i.diagnosis.cause])).toEqual([['frozen-releases', 'repository-read-only']]);
    const invalid = line(0, 'WARN', HANDLER, 'Invalid content: GET /org/x/maven-metadata.xml: org.sonatype.nexus.repository.InvalidContentException: Invalid XML');
    expect(run([invalid]).map((i) => [i.subject, i.diagnosis.cause, i.facts.status])).toEqual([[null, 'invalid-content', 404]]);
  });
});

describe('request-failed: Docker V2Handlers', () => {
  const layer = (ms: number, name: string, image: string, tag: string, repo: string, thread = 'qtp9-7') =>
    line(ms, 'ERROR', MANIFEST_UTIL, `Manifest refers to missing layer: ${digest(name)} for: ${image}/${tag} in repository RepositoryImpl$$EnhancerByGuice$$1{type=hosted, format=docker, name='${repo}'}`, { thread });
  const invalid = (ms: number, image: string, tag: string, thread = 'qtp9-7') =>
    line(ms, 'WARN', V2, `Error: PUT /v2/${image}/manifests/${tag}: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`, { thread });

  it('a 400 Invalid Manifest after missing layers on the same thread is the push rule\'s incident, not repeated here', () => {
    expect(run([layer(0, 'l1', 'team/app', '1.0', 'docker-hosted'), layer(5, 'l2', 'team/app', '1.0', 'docker-hosted'), invalid(10, 'team/app', '1.0')])).toEqual([]);
  });

  it('blank lines after the 400 (logs joined by hand) are no stack: still the push rule\'s incident', () => {
    const push = [layer(0, 'l1', 'team/app', '1.0', 'docker-hosted'), invalid(10, 'team/app', '1.0')];
    expect(run([...push, '', '   ', line(3_600_000, 'INFO', 'org.x.Y', 'later')])).toEqual([]);
    expect(run([invalid(0, 'team/app', '1.0'), '', line(3_600_000, 'INFO', 'org.x.Y', 'later')])).toEqual([]);
  });

  it('a 400 Invalid Manifest alone is left to the push rule too, whatever the pooled thread did before', () => {
    expect(run([invalid(0, 'team/app', '1.0')])).toEqual([]);
    expect(run([layer(0, 'l1', 'other/img', '2', 'docker-hosted'), invalid(10, 'team/app', '1.0')])).toEqual([]);
  });

  it('missing layers whose 400 never comes are not a failed request here', () => {
    expect(run([layer(0, 'l1', 'team/app', '1.0', 'docker-hosted')])).toEqual([]);
  });

  it('a V2Handlers error with a stack is classified by its root cause', () => {
    const text = [line(0, 'WARN', V2, 'Error: GET /repository/docker-proxy/v2/library/alpine/manifests/latest'), "java.lang.IllegalArgumentException: Digest must be formed as 'alg:hex': b558e108"].join('\n');
    expect(run([text]).map((i) => [i.subject?.name, i.diagnosis.cause, i.facts.image])).toEqual([['docker-proxy', 'unhandled-exception', 'library/alpine']]);
  });

  it("leaves blob uploads to docker-blob-upload-rejected and the 'digest' NPE to docker-manifest-npe-provenance", () => {
    expect(run([line(0, 'WARN', V2, `Error: PUT /v2/cache/blobs/uploads/u1: 400 - docker-hosted/v2/-/blobs/${digest('x')} cannot be updated`)])).toEqual([]);
    expect(run([[line(0, 'WARN', V2, 'Error: PUT /v2/app/manifests/cache'), "java.lang.NullPointerException: Cannot get property 'digest' on null object"].join('\n')])).toEqual([]);
  });
});

describe('request-failed: REST API', () => {
  it('UnexpectedExceptionMapper: the REST API, classified by the exception', () => {
    const text = line(0, 'WARN', REST, '(ID 9f2c) Unexpected exception: org.sonatype.nexus.blobstore.api.BlobStoreException: BlobId: tmp$1, org.eclipse.jetty.io.EofException: Early EOF, Cause: Early EOF');
    const [incident] = run([text]);
    expect(incident).toMatchObject({ subject: null, severity: 'warning' });
    expect(incident?.diagnosis.cause).toBe('upload-client-early-eof');
    expect(incident?.summary).toContain('the REST API');
  });
});

describe('request-failed: storms and windows', () => {
  it('1,000 failed requests on 1,000 threads, one repository and cause: one incident with the request count and the paths', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(servicing(i * 100, 'GET', `/repository/maven-central/a/${i}/a-${i}.jar`, ['java.lang.OutOfMemoryError: Java heap space'], `qtp1-${i}`));
    const found = run(lines);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ count: 1000, subject: { name: 'maven-central' }, facts: { 'failed requests': 1000 } });
    expect(found[0]?.distinct.path?.total).toBe(1000);
    expect(found[0]?.summary).toMatch(/^1,000 requests to repository maven-central failed \(out of memory\): 1,000 times in 2 min .*1,000 paths/);
  });

  it('one incident per repository and root cause', () => {
    const found = run([
      servicing(0, 'GET', '/repository/a/x', ['java.lang.OutOfMemoryError: Java heap space'], 't1'),
      servicing(1, 'GET', '/repository/b/x', ['java.lang.OutOfMemoryError: Java heap space'], 't2'),
      servicing(2, 'GET', '/repository/a/y', ['org.eclipse.jetty.io.EofException: Early EOF'], 't3'),
      servicing(3, 'GET', '/repository/a/z', ['java.lang.OutOfMemoryError: Java heap space'], 't4'),
    ]);
    expect(found.map((i) => [i.subject?.name, i.diagnosis.cause, i.facts['failed requests']]).sort()).toEqual([
      ['a', 'out-of-memory', 2],
      ['a', 'upload-client-early-eof', 1],
      ['b', 'out-of-memory', 1],
    ]);
  });

  it('half an hour without the failure ends the incident: the next is a second one', () => {
    const oom = (ms: number, t: string) => servicing(ms, 'GET', '/repository/a/x', ['java.lang.OutOfMemoryError: Java heap space'], t);
    const found = run([oom(0, 't1'), oom(10 * MINUTE, 't2'), oom(41 * MINUTE, 't3')]);
    expect(found.map((i) => [i.facts['failed requests'], i.closeReason])).toEqual([
      [2, 'window'],
      [1, 'end-of-input'],
    ]);
  });
});

describe('request-failed: near misses', () => {
  it('other levels, loggers and texts are nothing', () => {
    expect(run([line(0, 'INFO', VIEW, 'Failure servicing: GET /repository/a/x')])).toEqual([]);
    expect(run([line(0, 'DEBUG', VIEW, 'Servicing: GET /repository/a/x (http://h/repository/a/x)')])).toEqual([]);
    expect(run([line(0, 'WARN', 'org.sonatype.nexus.extdirect.internal.ExtDirectExceptionHandler', 'Illegal operation: PUT /x: y')])).toEqual([]);
    expect(run([line(0, 'WARN', HANDLER, 'Nexus Repository Manager is in read-only mode: PUT /x: FrozenException')])).toEqual([]);
    expect(run([line(0, 'WARN', V2, 'Is the remote url a valid docker endpoint?')])).toEqual([]);
  });

  it('reads a 300 KB adversarial message without trouble', () => {
    const exc = adversarial('xException', 300_000);
    const found = run([
      servicing(0, 'GET', `/repository/${adversarial('a/', 300_000)}`, [exc, `Caused by: ${exc}`], 't1'),
      line(1, 'WARN', HANDLER, `Illegal operation: PUT ${adversarial('/x: ', 300_000)}`, { thread: 't2' }),
      line(2, 'WARN', V2, `Error: PUT /v2/${adversarial('a/manifests/', 300_000)}: 400 - ${exc}`, { thread: 't3' }),
    ]);
    expect(found.length).toBeLessThanOrEqual(3);
  });
});

describe('request-failed on the real excerpts', () => {
  const cases: Array<[string, string, string]> = [
    ['nexus-blobstore-gcloud-49-viewservlet-put-storage-exception.log', 'p2-judong', 'blob-store-failure'],
    ['np-568-viewservlet-blobstore-tmp-file-already-exists.log', 'cache', 'blob-store-failure'],
  ];

  it.each(cases)('%s: the labelled repository, with the cause the log shows', (file, subject, expected) => {
    const label = corpusEntry(file).expected.find((e) => e.class === 'request-failed');
    expect(label?.subject).toBe(subject);
    expect(realLog(file)).toContain(label?.proof);
    const found = realIncidents(requestFailed, file);
    expect(found).toHaveLength(1);
    expect(found[0]?.subject).toEqual({ type: 'repository', name: subject });
    expect(found[0]?.diagnosis.cause).toBe(expected);
    expect(found[0]?.evidence.some((e) => e.text.includes(label?.proof ?? '-'))).toBe(true);
  });

  it('n3dr-439 (not conclusive for this class): a REST upload cut short by the client, the corpus class other:upload-client-early-eof', () => {
    expect(corpusEntry('n3dr-439-rest-upload-blobstore-early-eof.log').notConclusive).toContain('request-failed');
    expect(realIncidents(requestFailed, 'n3dr-439-rest-upload-blobstore-early-eof.log').map((i) => [i.subject, i.diagnosis.cause, i.severity])).toEqual([[null, 'upload-client-early-eof', 'warning']]);
  });

  it('stays silent on every excerpt not labelled with it (the NPE push of buildkit-2068, the blob uploads of np-967)', () => {
    for (const file of filesWithout('request-failed')) expect([file, realIncidents(requestFailed, file).length]).toEqual([file, 0]);
  });
});

describe('request-failed: npm package metadata Nexus cannot merge', () => {
  it("child 'versions' not a Map (np-338, np-644) is invalid npm metadata, with the cache to invalidate", () => {
    for (const name of ['np-338-details-npm-proxy-versions-not-a-map.log', 'np-644-npm-group-viewservlet-versions-not-a-map.log']) {
      const found = incidents(requestFailed, realLog(name));
      expect([name, found.map((i) => i.diagnosis.cause)]).toEqual([name, ['npm-metadata-invalid']]);
      expect(found[0]?.diagnosis.remediation[0]).toMatch(/Invalidate the cache/);
    }
  });
});

