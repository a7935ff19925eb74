/** jvm-heap-pressure: the memory monitor and Elasticsearch's old-generation GC lines. */
import { jvmHeapPressure, parseGcOld, parseMemoryMonitor } from '../../src/rules/builtin/jvm-heap-pressure';
import { adversarial, corpusEntry, incidents, line, MINUTE, realLog } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const MONITOR = 'org.sonatype.nexus.selfhosted.internal.jvm.MemoryMonitor';
const ES_JVM = 'org.elasticsearch.monitor.jvm';
const ES_THREAD = 'elasticsearch[97173A06-2A9ED772-BD75FF73-431D2AA4-1B07B29F][scheduler][T#1]';
const run = (text: string | string[]) => incidents(jvmHeapPressure, text);

const monitor = (ms: number, pct: number, used = '1.8gb', max = '2.0gb', sustained = 30000): string =>
  line(ms, 'ERROR', MONITOR, `*SYSTEM [jvm monitor] [memory] CRITICAL heap usage: ${pct}% (${used}/${max}), sustained=${sustained}ms, pools={G1 Old Gen=${used}/${max}, G1 Eden Space=10.0mb/unknown}`, { thread: 'periodic-9-thread-2' });
const gcOld = (ms: number, pause: string, level = 'INFO'): string =>
  line(ms, level, ES_JVM, `[97173A06] [gc][old][2320][7] duration [${pause}], collections [1]/[8.6s], total [7.3s]/[14s], memory [1.4gb]->[1.5gb]/[2.3gb], all_pools {[young] [560.5mb]->[7.2mb]/[559.5mb]}{[survivor] [0b]->[0b]/[41.5mb]}{[old] [899.8mb]->[1.5gb]/[1.7gb]}`, { thread: ES_THREAD });

describe('jvm-heap-pressure', () => {
  it('parses the memory monitor line (JVM-2)', () => {
    expect(parseMemoryMonitor('[jvm monitor] [memory] CRITICAL heap usage: 90% (1.8gb/2.0gb), sustained=30000ms, pools={G1 Old Gen=1.8gb/2.0gb}')).toEqual({
      source: 'memory-monitor',
      level: 'CRITICAL',
      used: 1.8 * 1024 ** 3,
      max: 2 * 1024 ** 3,
      percent: 90,
      sustainedMs: 30000,
      pauseMs: null,
    });
  });

  it('parses an Elasticsearch old-generation GC line: the pause and the old generation after it', () => {
    const parsed = parseGcOld('[x] [gc][old][2320][7] duration [7.3s], collections [1]/[8.6s], total [7.3s]/[14s], memory [1.4gb]->[1.5gb]/[2.3gb], all_pools {[young] [560.5mb]->[7.2mb]/[559.5mb]}{[old] [899.8mb]->[1.5gb]/[1.7gb]}');
    expect(parsed).toMatchObject({ source: 'gc-old', pauseMs: 7300, used: 1.5 * 1024 ** 3, max: 1.7 * 1024 ** 3, percent: 88 });
    // Without the pools: the whole heap.
    expect(parseGcOld('[gc][old][1][1] duration [12s], collections [1]/[12s], total [12s]/[12s], memory [1.9gb]->[1.8gb]/[2gb]')).toMatchObject({ pauseMs: 12000, percent: 90 });
  });

  it('one incident per server while warnings come, with the peak', () => {
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(monitor(i * 30_000, 85 + (i % 10)));
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 1000, severity: 'warning', subject: { type: 'jvm', name: 'nexus' }, facts: { 'peak usage': '94%', 'heap max': '2.0 GB', sustained: '30 s' }, diagnosis: { cause: 'heap-nearly-full' } });
    expect(incident?.summary).toMatch(/^The JVM heap was at 94% \(1\.8 GB of 2\.0 GB\) for 30 s: 1,000 memory monitor CRITICAL warnings \(1,000 times in 8 h 20 min/);
  });

  it('30 quiet minutes end an episode', () => {
    expect(run([monitor(0, 90), monitor(31 * MINUTE, 91)]).map((i) => i.count)).toEqual([1, 1]);
  });

  it('GC pauses alone: long old-generation GC', () => {
    const [incident] = run([gcOld(0, '7.3s'), gcOld(MINUTE, '11.2s', 'WARN')]);
    expect(incident).toMatchObject({ count: 2, diagnosis: { cause: 'long-old-generation-gc' }, facts: { 'longest GC pause': '11.2 s', 'old generation max': '1.7 GB' } });
  });

  it('near misses: other loggers, young GC, other monitor lines', () => {
    expect(
      run([
        line(0, 'ERROR', 'org.x.Other', '[jvm monitor] [memory] CRITICAL heap usage: 90% (1.8gb/2.0gb), sustained=30000ms'),
        line(1, 'INFO', ES_JVM, '[x] [gc][young][1][1] duration [1.1s], collections [1]/[1.2s]'),
        line(2, 'INFO', MONITOR, '[jvm monitor] [threads] count 400'),
      ]),
    ).toEqual([]);
  });

  it('a long adversarial message is read in linear time', async () => {
    await incidentsOffThread([jvmHeapPressure.id], line(0, 'INFO', ES_JVM, `[gc][old]${adversarial('duration [memory [->[/[{[old] ')}`));
    await incidentsOffThread([jvmHeapPressure.id], line(0, 'ERROR', MONITOR, `[jvm monitor] [memory] X heap usage: ${adversarial('(1gb/2gb sustained=')}`));
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  describe('real excerpts', () => {
    it('nexus-public#1054: CRITICAL heap usage 90% of 2 GB', () => {
      const name = 'np-1054-conda-group-oom-memory-monitor.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toContain('jvm-heap-pressure');
      const [incident] = run(realLog(name));
      expect(incident).toMatchObject({ facts: { 'peak usage': '90%', 'heap max': '2.0 GB', sustained: '30 s' }, diagnosis: { cause: 'heap-nearly-full' } });
    });

    it('nexus-public#211: a 7.3 s old-generation GC with the old generation at 1.5gb of 1.7gb', () => {
      const name = 'np-211-es-gc-old-heap-growth-quoted.log';
      expect(corpusEntry(name).expected.map((e) => e.class)).toEqual(['jvm-heap-pressure']);
      const [incident] = run(realLog(name));
      expect(incident).toMatchObject({ facts: { 'peak usage': '88%', 'longest GC pause': '7.3 s' }, diagnosis: { cause: 'long-old-generation-gc' } });
    });
  });
});
