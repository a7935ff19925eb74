/** open-file-limit-low: the start-up warning (with its banner) and `Too many open files`. */
import { openFileLimitLow, parseLimitWarning, parseTooManyOpenFiles } from '../../src/rules/builtin/open-file-limit-low';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const FD = 'org.sonatype.nexus.internal.system.FileDescriptorServiceImpl';
const run = (text: string | string[]) => incidents(openFileLimitLow, text);
const BANNER = 'WARNING: ****************************************************************************';

const warning = (ms: number, limit = 4096): string[] => [
  line(ms, 'WARN', FD, BANNER, { thread: 'FelixStartLevel' }),
  line(ms, 'WARN', FD, `WARNING: The open file descriptor limit is ${limit} which is below the minimum recommended value of 65536.`, { thread: 'FelixStartLevel' }),
  line(ms + 1, 'WARN', FD, 'WARNING: Please see: http://links.sonatype.com/products/nexus/system-reqs#filehandles', { thread: 'FelixStartLevel' }),
  line(ms + 1, 'WARN', FD, BANNER, { thread: 'FelixStartLevel' }),
];

describe('open-file-limit-low', () => {
  it('parses the limit and the minimum', () => {
    expect(parseLimitWarning('WARNING: The open file descriptor limit is 4096 which is below the minimum recommended value of 65536.')).toEqual({ limit: 4096, minimum: 65536 });
    expect(parseLimitWarning('WARNING: Please see: http://links.sonatype.com/products/nexus/system-reqs#filehandles')).toBeUndefined();
  });

  it('the warning and its banner lines are one incident (a warning) with the limit', () => {
    const [incident, ...rest] = run(warning(0));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'warning', count: 4, subject: { type: 'jvm', name: 'nexus' }, facts: { 'open-file limit': 4096, 'recommended minimum': 65536 }, diagnosis: { cause: 'nofile-limit-below-minimum' } });
    expect(incident?.summary).toBe('Nexus started with an open-file limit of 4,096, below the 65,536 it needs: under load it will fail with "Too many open files".');
    expect(incident?.diagnosis.remediation[0]).toContain('LimitNOFILE=65536');
    expect(incident?.diagnosis.remediation[0]).toContain('--ulimit nofile=65536:65536');
    expect(incident?.diagnosis.remediation[0]).toContain('/etc/security/limits.conf');
  });

  it('banner lines alone are not an incident', () => {
    expect(run([line(0, 'WARN', FD, BANNER)])).toEqual([]);
  });

  it('parses `Too many open files` in every exception form', () => {
    expect(parseTooManyOpenFiles('java.io.FileNotFoundException: /nexus-data/blobs/default/content/vol-01/chap-02/x.bytes (Too many open files)')).toEqual({
      exception: 'java.io.FileNotFoundException',
      path: '/nexus-data/blobs/default/content/vol-01/chap-02/x.bytes',
    });
    expect(parseTooManyOpenFiles('Caused by: java.net.SocketException: Too many open files')).toEqual({ exception: 'java.net.SocketException', path: null });
    expect(parseTooManyOpenFiles('java.io.IOException: Too many open files')).toEqual({ exception: 'java.io.IOException', path: null });
  });

  it('a storm of `Too many open files` is one error with the files, and the limit when warned about in the same episode', () => {
    const lines = [...warning(0)];
    for (let i = 0; i < 1000; i++) {
      lines.push(line(MINUTE + i * 100, 'WARN', 'org.sonatype.nexus.repository.httpbridge.internal.ViewServlet', `Failure servicing: GET /repository/maven-central/a/${i}.jar`));
      lines.push(`java.io.FileNotFoundException: /nexus-data/blobs/default/content/vol-01/chap-${i % 50}/x.properties (Too many open files)`);
      lines.push('\tat java.io.FileInputStream.open0(Native Method)');
    }
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'error', count: 1004, facts: { 'open-file limit': 4096, 'too many open files': 1000, exceptions: ['java.io.FileNotFoundException'] }, diagnosis: { cause: 'file-descriptors-exhausted' } });
    expect(incident?.distinct.path?.total).toBe(50);
    expect(incident?.summary).toMatch(/^Nexus ran out of file descriptors \("Too many open files"\): 1,000 times in 2 min .*; its limit is 4,096, below the 65,536 Nexus needs\.$/);
  });

  it('30 quiet minutes end it; a restart with the warning again is a repeat', () => {
    const found = run([...warning(0), ...warning(40 * MINUTE)]);
    expect(found.map((i) => i.occurrences)).toEqual([1, 2]);
  });

  it('near misses: other loggers and levels', () => {
    expect(run([line(0, 'WARN', 'org.x.Other', 'WARNING: The open file descriptor limit is 4096 which is below the minimum recommended value of 65536.'), line(1, 'INFO', 'org.x.Y', 'java.io.IOException: Too many open files')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([openFileLimitLow.id], line(0, 'ERROR', 'org.x.Y', adversarial(': /a (Too many open files ')));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  it('real excerpt puppet-nexus#99: limit 4096, quoted with `> `', () => {
    const name = 'puppet-nexus-99-file-descriptor-limit-quoted.log';
    expect(corpusEntry(name).expected.map((e) => e.class)).toEqual(['open-file-limit-low']);
    const [incident] = run(realLog(name));
    expect(incident).toMatchObject({ count: 4, facts: { 'open-file limit': 4096 }, diagnosis: { cause: 'nofile-limit-below-minimum' } });
  });
});
