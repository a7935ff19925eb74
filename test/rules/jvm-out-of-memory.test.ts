/** jvm-out-of-memory: every kind of OutOfMemoryError, one incident per episode, and the real excerpts. */
import { jvmHeapPressure } from '../../src/rules/builtin/jvm-heap-pressure';
import { jvmOutOfMemory, oomKindOf } from '../../src/rules/builtin/jvm-out-of-memory';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog, SECOND } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const ERROR_PAGE = 'org.sonatype.nexus.internal.web.ErrorPageServlet';
const run = (text: string | string[]) => incidents(jvmOutOfMemory, text);

function requestOom(ms: number, kind = 'Java heap space', thread = 'qtp468666864-23818'): string[] {
  return [line(ms, 'ERROR', ERROR_PAGE, 'Unexpected exception', { thread }), `java.lang.OutOfMemoryError: ${kind}`, '\tat java.util.Arrays.copyOf(Arrays.java:3236)'];
}

describe('jvm-out-of-memory', () => {
  it('reads the kind from the error, and gives each kind its own cause and fix', () => {
    const cases: Array<[string, string, string]> = [
      ['Java heap space', 'heap-exhausted', '-Xmx'],
      ['GC overhead limit exceeded', 'gc-overhead-limit', '-Xmx'],
      ['Metaspace', 'metaspace-exhausted', 'MaxMetaspaceSize'],
      ['Direct buffer memory', 'direct-memory-exhausted', 'MaxDirectMemorySize'],
      ['unable to create new native thread', 'native-thread-limit', 'TasksMax'],
    ];
    for (const [kind, cause, fix] of cases) {
      const [incident] = run(requestOom(0, kind));
      expect(incident).toMatchObject({ severity: 'critical', subject: { type: 'jvm', name: 'nexus' }, oomKind: expect.any(String), diagnosis: { cause, confidence: 'high' } });
      expect(incident?.diagnosis.remediation[0]).toContain(fix);
    }
  });

  it('an ErrorPageServlet OOM (JVM-1) says it happened serving requests', () => {
    const [incident] = run(requestOom(0));
    expect(incident?.summary).toBe('The JVM ran out of memory (Java heap space) while serving requests: once.');
    expect(incident?.facts).toMatchObject({ kind: 'Java heap space', phase: 'serving requests', threads: ['qtp468666864-23818'] });
  });

  it('reads the error in the message of any logger, and names the thread of `Exception in thread`', () => {
    const [incident] = run(line(0, 'ERROR', 'java.lang.Throwable', 'Exception in thread "nexus_QuartzSchedulerThread" java.lang.OutOfMemoryError: unable to create new native thread'));
    expect(incident?.diagnosis.cause).toBe('native-thread-limit');
    expect(incident?.distinct.thread?.values).toEqual(['nexus_QuartzSchedulerThread']);
  });

  it('one episode is one incident with the count and the threads; 30 quiet minutes end it', () => {
    const storm: string[] = [];
    for (let i = 0; i < 1000; i++) storm.push(...requestOom(i * 100, 'Java heap space', `qtp1-${i % 40}`));
    storm.push(...requestOom(1000 * 100 + 31 * MINUTE));
    const found = run(storm);
    expect(found.map((i) => i.count)).toEqual([1000, 1]);
    expect(found[0]?.distinct.thread?.total).toBe(40);
    expect(found[0]?.summary).toMatch(/^The JVM ran out of memory \(Java heap space\) while serving requests: 1,000 times in 2 min \(.*\/min\), in 40 threads \(qtp1-0, qtp1-1 and 38 more\)\.$/);
    expect(found[0]?.fingerprint).toBe(found[1]?.fingerprint);
    expect(found[1]?.occurrences).toBe(2);
  });

  it('HA nodes are separate JVMs', () => {
    const lines = [line(0, 'ERROR', ERROR_PAGE, 'Unexpected exception', { node: 'node-a' }), 'java.lang.OutOfMemoryError: Java heap space', line(SECOND, 'ERROR', ERROR_PAGE, 'Unexpected exception', { node: 'node-b' }), 'java.lang.OutOfMemoryError: Java heap space'];
    const found = run(lines);
    expect(found.map((i) => i.subject?.name)).toEqual(['node-a', 'node-b']);
    expect(found[0]?.summary).toBe('The JVM on node-a ran out of memory (Java heap space) while serving requests: once.');
  });

  it('a named kind beats a bare OutOfMemoryError in the same episode', () => {
    const lines = [line(0, 'ERROR', 'org.x.Y', 'Caught java.lang.OutOfMemoryError'), ...requestOom(SECOND, 'GC overhead limit exceeded')];
    const [incident] = run(lines);
    expect(incident?.diagnosis.cause).toBe('gc-overhead-limit');
    expect(incident?.count).toBe(2);
  });

  it('near misses: JVM options and INFO lines are not errors', () => {
    expect(oomKindOf('-XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=/nexus-data/log')).toBeNull();
    expect(oomKindOf('-XX:+ExitOnOutOfMemoryError')).toBeNull();
    expect(run([line(0, 'WARN', 'org.x.Launcher', 'JVM options: -XX:+HeapDumpOnOutOfMemoryError'), line(1, 'INFO', 'org.x.Y', 'java.lang.OutOfMemoryError: Java heap space')])).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    const message = adversarial('OutOfMemoryError OnOutOfMemoryError java.lang.OutOfMemoryErro ');
    const [incident] = await incidentsOffThread([jvmOutOfMemory.id], line(0, 'ERROR', 'org.x.Y', message));
    expect(incident?.diagnosis.cause).toBe('heap-exhausted'); // a bare OutOfMemoryError: the heap is the usual one
    expect(incident?.diagnosis.confidence).toBe('medium');
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  it('names the heap pressure that came before it as its cause', () => {
    const lines = [
      line(0, 'ERROR', 'org.sonatype.nexus.selfhosted.internal.jvm.MemoryMonitor', '[jvm monitor] [memory] CRITICAL heap usage: 95% (1.9gb/2.0gb), sustained=30000ms, pools={}'),
      ...requestOom(5 * MINUTE),
    ];
    const all = incidents([jvmOutOfMemory, jvmHeapPressure], lines, 'jvm-out-of-memory');
    const pressure = incidents([jvmOutOfMemory, jvmHeapPressure], lines, 'jvm-heap-pressure');
    expect(all[0]?.causes).toEqual([pressure[0]?.id]);
  });

  describe('real excerpts', () => {
    it('rhel-edge-automation-arch#184: heap space while Felix starts a bundle', () => {
      const name = 'rhel-edge-184-felix-oom-heap-at-start.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toContain('jvm-out-of-memory');
      const [incident] = run(realLog(name));
      expect(incident).toMatchObject({ subject: { type: 'jvm', name: 'nexus' }, oomKind: 'heap', diagnosis: { cause: 'heap-exhausted' }, facts: { phase: 'start', bundle: 'org.sonatype.nexus.plugins.nexus-audit-plugin' } });
      expect(incident?.summary).toContain('while starting bundle org.sonatype.nexus.plugins.nexus-audit-plugin');
    });

    it('nexus-public#1054: Java heap space in ErrorPageServlet', () => {
      const name = 'np-1054-conda-group-oom-memory-monitor.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toContain('jvm-out-of-memory');
      const [incident] = run(realLog(name));
      expect(incident).toMatchObject({ oomKind: 'heap', diagnosis: { cause: 'heap-exhausted' }, thread: 'qtp468666864-23818' });
    });

    it('nexus-repository-installer#18: native threads in the scheduler, Elasticsearch and start-up threads (timestamps cut off by the poster)', () => {
      const name = 'nexus-installer-18-oom-native-thread-trimmed.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toEqual(['jvm-out-of-memory']);
      const [incident, ...rest] = run(realLog(name));
      expect(rest).toEqual([]);
      expect(incident).toMatchObject({ count: 4, oomKind: 'native-threads', diagnosis: { cause: 'native-thread-limit' }, facts: { phase: 'start' } });
      expect(incident?.distinct.thread?.values).toEqual(['nexus_QuartzSchedulerThread', 'elasticsearch[70A57EA1-DC36B6F1-E2A35627-1B2E6D29-335B7F81][management][T#1]', 'jetty-main-1']);
    });
  });
});
