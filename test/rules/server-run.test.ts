/** server-run: runs split at start markers; clean stops, crashes, failed starts, runs still open. */
import { serverRun } from '../../src/rules/builtin/server-run';
import { parseUptime, nexusVersion, parseEditionFeature } from '../../src/rules/builtin/server-lifecycle';
import { taskFailed } from '../../src/rules/builtin/task-failed';
import { SummaryCollector } from '../../src/outputs/summary';
import type { AnalyzerStats } from '../../src/analyzer';
import { adversarial, corpusEntry, HOUR, incidents, line, MINUTE, realLog, SECOND } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const P = 'org.sonatype.nexus';
const run = (text: string | string[]) => incidents(serverRun, text);
/** With task-failed too: its lines move the clock, as the other rules' lines do in a real log. */
const runWithOthers = (text: string[]) => incidents([serverRun, taskFailed], text, 'server-run');

function start(ms: number, o: { node?: string; version?: string } = {}): string[] {
  const v = o.version ?? '3.77.1-01';
  const feature = v.replace('-', '.');
  const opts = { thread: 'FelixStartLevel', ...(o.node === undefined ? {} : { node: o.node }) };
  return [
    line(ms, 'INFO', `${P}.pax.logging.NexusLogActivator`, 'start', opts),
    line(ms + 100, 'INFO', `${P}.bootstrap.Launcher`, 'Java: 17.0.13, OpenJDK 64-Bit Server VM, Eclipse Adoptium, 17.0.13+11', opts),
    line(ms + 200, 'INFO', `${P}.bootstrap.osgi.BootstrapListener`, 'Initializing', opts),
    line(ms + 300, 'INFO', `${P}.bootstrap.osgi.OssNexusEdition`, 'Loading OSS Edition', opts),
    line(ms + 400, 'INFO', `${P}.bootstrap.osgi.BootstrapListener`, `Installing: nexus-oss-edition/${feature} (nexus-datastore-mybatis/${feature})`, opts),
    line(ms + 500, 'INFO', `${P}.bootstrap.jetty.JettyServer`, 'Starting', { ...opts, thread: 'jetty-main-1' }),
    line(ms + 600, 'INFO', `${P}.extender.NexusContextListener`, 'Running lifecycle phases [KERNEL, STORAGE, RESTORE, UPGRADE, SCHEMAS, EVENTS, SECURITY, SERVICES, REPOSITORIES, CAPABILITIES, TASKS]', opts),
  ];
}

function banner(ms: number, o: { node?: string; version?: string } = {}): string[] {
  return [
    line(ms, 'INFO', `${P}.bootstrap.jetty.JettyServer`, '', { thread: 'jetty-main-1', ...(o.node === undefined ? {} : { node: o.node }) }),
    '-------------------------------------------------',
    '',
    `Started Sonatype Nexus OSS ${o.version ?? '3.77.1-01'}`,
    '',
    '-------------------------------------------------',
  ];
}

function stop(ms: number, uptime = '2 hours, 42 minutes, 5 seconds and 12 milliseconds', o: { node?: string } = {}): string[] {
  const opts = { thread: 'SIGTERM handler', ...(o.node === undefined ? {} : { node: o.node }) };
  return [
    line(ms, 'INFO', `${P}.bootstrap.jetty.JettyServer`, 'Stopping', opts),
    line(ms + 100, 'INFO', `${P}.extender.NexusContextListener`, `Uptime: ${uptime} (nexus-oss-edition/3.77.1.01)`, opts),
    line(ms + 200, 'INFO', `${P}.extender.NexusLifecycleManager`, 'Shutting down', opts),
    line(ms + 300, 'INFO', `${P}.extender.NexusLifecycleManager`, 'Stop TASKS', opts),
    line(ms + 900, 'INFO', `${P}.bootstrap.jetty.JettyServer`, 'Stopped', opts),
  ];
}

// 2025-03-03 09:00 UTC is 0 in these tests.
const T0 = 2 * MINUTE; // 09:02

describe('server-run', () => {
  it('a clean run: version and edition from the start lines and the banner, ended by the stop lines', () => {
    const incidentsOf = run([...start(T0), ...banner(T0 + 60 * SECOND), ...stop(T0 + 2 * HOUR + 42 * MINUTE)]);
    expect(incidentsOf).toHaveLength(1);
    const [incident] = incidentsOf;
    expect(incident).toMatchObject({
      rule: 'server-run',
      category: 'server',
      severity: 'info',
      closeReason: 'matched',
      subject: { type: 'server', name: 'nexus' },
      facts: { outcome: 'clean-stop', version: '3.77.1-01', edition: 'OSS', database: 'datastore (H2 or PostgreSQL)', java: '17.0.13', 'startup time': '1 min', uptime: '2 h 42 min' },
      diagnosis: { cause: 'clean-shutdown', confidence: 'high' },
    });
    expect(incident?.summary).toBe('Nexus 3.77.1-01 OSS ran from 09:02 to 11:44 (2 h 42 min), stopped cleanly.');
  });

  it('a crash: a new start with no stop line before it; the last line before the restart is when it died', () => {
    const lines = [
      ...start(T0),
      ...banner(T0 + 60 * SECOND),
      // Other rules' lines move the clock: the last one is 11:41.
      line(2 * HOUR + 41 * MINUTE, 'INFO', `${P}.quartz.internal.task.QuartzTaskInfo`, "Task 'Cleanup service' [repository.cleanup] state change WAITING -> RUNNING", { thread: 'quartz-12-thread-3' }),
      ...start(2 * HOUR + 52 * MINUTE),
    ];
    const [crash, second, ...rest] = runWithOthers(lines);
    expect(rest).toEqual([]);
    expect(crash).toMatchObject({ severity: 'error', closeReason: 'superseded', facts: { outcome: 'crash', 'last line': '2025-03-03 11:41:00 UTC', restarted: '2025-03-03 11:52:00 UTC' }, diagnosis: { cause: 'unclean-shutdown' } });
    expect(crash?.summary).toBe('Nexus 3.77.1-01 OSS ran from 09:02 and stopped without a clean shutdown at 11:41 (last line), restarted at 11:52: killed, crashed or OOM-killed.');
    expect(crash?.diagnosis.remediation[0]).toContain('OOMKilled');
    expect(second).toMatchObject({ severity: 'info', closeReason: 'end-of-input', facts: { outcome: 'starting' } });
    expect(second?.summary).toBe("Nexus 3.77.1-01 OSS was starting from 11:52 and had not logged 'Started Sonatype Nexus' by the end of this log.");
  });

  it('a run still up at the end of the log', () => {
    const [incident] = run([...start(T0), ...banner(T0 + 45 * SECOND)]);
    expect(incident).toMatchObject({ severity: 'info', closeReason: 'end-of-input', facts: { outcome: 'running', ready: '2025-03-03 09:02:45 UTC' } });
    expect(incident?.summary).toBe('Nexus 3.77.1-01 OSS started at 09:02 (ready at 09:02, after 45 s) and was still running at the end of this log.');
  });

  it('a failed start that shuts itself down (Failed to start nexus, then Uptime)', () => {
    const [incident, ...rest] = run([
      ...start(T0),
      line(T0 + 20 * SECOND, 'ERROR', `${P}.extender.NexusContextListener`, 'Failed to start nexus', { thread: 'FelixStartLevel' }),
      'com.orientechnologies.orient.core.exception.OStorageException: File with name \'realm.cpm\' does not exist in storage \'security\'',
      ...stop(T0 + 21 * SECOND, '30 seconds and 163 milliseconds'),
    ]);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'error', facts: { outcome: 'failed-start', failure: 'Failed to start nexus' }, diagnosis: { cause: 'start-failed', confidence: 'high' } });
    expect(incident?.summary).toBe('Nexus 3.77.1-01 OSS failed to start at 09:02 (Failed to start nexus at 09:02) and shut down at 09:02 after 30 s.');
  });

  it('a start that never reached Started before the next start is a failed start, not a crash', () => {
    const [first] = run([...start(T0), ...start(T0 + 5 * MINUTE)]);
    expect(first).toMatchObject({ severity: 'error', closeReason: 'superseded', facts: { outcome: 'failed-start' } });
    expect(first?.summary).toBe("Nexus 3.77.1-01 OSS failed to start at 09:02: it never logged 'Started Sonatype Nexus' before it was started again at 09:07.");
  });

  it('start markers in any order are one start; a marker this start already logged is the next run', () => {
    const shuffled = start(T0).reverse();
    expect(run([...shuffled, ...banner(T0 + MINUTE)])).toHaveLength(1);
    const twice = run([...start(T0), ...banner(T0 + MINUTE), ...banner(T0 + 2 * MINUTE)]);
    expect(twice.map((i) => i.facts.outcome)).toEqual(['crash', 'running']);
  });

  it('stop lines after a run ended cleanly do not open a run of their own, and a restart after a clean stop is a new run', () => {
    const list = run([...start(T0), ...banner(T0 + MINUTE), ...stop(HOUR), ...start(2 * HOUR), ...banner(2 * HOUR + MINUTE), ...stop(3 * HOUR)]);
    expect(list.map((i) => [i.facts.outcome, i.closeReason])).toEqual([
      ['clean-stop', 'matched'],
      ['clean-stop', 'matched'],
    ]);
  });

  it('a clean stop without JettyServer Stopped still reads as clean when the next start comes', () => {
    const list = run([...start(T0), ...banner(T0 + MINUTE), ...stop(HOUR).slice(0, 3), ...start(2 * HOUR)]);
    expect(list[0]).toMatchObject({ closeReason: 'superseded', severity: 'info', facts: { outcome: 'clean-stop' } });
  });

  it('keeps HA nodes apart (key: the node)', () => {
    const list = run([...start(T0, { node: 'node-a' }), ...start(T0 + SECOND, { node: 'node-b' }), ...banner(T0 + MINUTE, { node: 'node-a' }), ...banner(T0 + MINUTE, { node: 'node-b' })]);
    expect(list.map((i) => i.subject?.name).sort()).toEqual(['node-a', 'node-b']);
    expect(list.every((i) => i.facts.outcome === 'running')).toBe(true);
  });

  it('3.78+: Starting / Started SonatypeNexusRepositoryApplication', () => {
    const [incident] = run([
      line(T0, 'INFO', `${P}.bootstrap.entrypoint.SonatypeNexusRepositoryApplication`, 'Starting SonatypeNexusRepositoryApplication v3.86.2-01 using Java 21.0.8 with PID 1 (/opt/sonatype/nexus/bin/sonatype-nexus-repository-3.86.2-01.jar started by nexus in /opt/sonatype/nexus)', { thread: 'main' }),
      line(T0 + 70 * SECOND, 'INFO', `${P}.bootstrap.entrypoint.SonatypeNexusRepositoryApplication`, 'Started SonatypeNexusRepositoryApplication in 68.2 seconds (process running for 70.1)', { thread: 'main' }),
    ]);
    expect(incident).toMatchObject({ facts: { outcome: 'running', version: '3.86.2-01', java: '21.0.8' } });
  });

  it('reads the version and edition in every spelling', () => {
    expect(parseUptime('30 seconds and 163 milliseconds')).toBe(30_163);
    expect(parseUptime('1 day, 2 hours, 1 minute and 1 second')).toBe(86_400_000 + 2 * 3_600_000 + 60_000 + 1000);
    expect(parseUptime('100 hours')).toBe(360_000_000);
    expect(parseUptime('soon')).toBeNull();
    expect(nexusVersion('3.38.1.01')).toBe('3.38.1-01');
    expect(nexusVersion('3.38.1-01')).toBe('3.38.1-01');
    expect(nexusVersion('OSS')).toBeNull();
    expect(parseEditionFeature('nexus-pro-starter-edition/3.70.1.02')).toEqual({ edition: 'PRO STARTER', version: '3.70.1-02' });
    const bundle = run([line(T0, 'INFO', `${P}.extender.NexusBundleTracker`, 'ACTIVATING org.sonatype.nexus.pro-edition [3.70.1.02]')]);
    expect(bundle[0]?.facts).toMatchObject({ version: '3.70.1-02', edition: 'PRO' });
    const plain = run([...banner(T0, { version: '3.13.0-01' })]);
    expect(plain[0]?.facts).toMatchObject({ version: '3.13.0-01', edition: 'OSS' });
  });

  it('near misses: other JettyServer, NexusLogActivator and lifecycle lines are not run markers', () => {
    expect(
      run([
        line(T0, 'INFO', `${P}.bootstrap.jetty.JettyServer`, 'Starting: Server@5e3d1a1f{STOPPED}[9.4.53]'),
        line(T0, 'INFO', `${P}.pax.logging.NexusLogActivator`, 'started'),
        line(T0, 'INFO', `${P}.extender.NexusLifecycleManager`, 'Start KERNEL'),
        line(T0, 'INFO', `${P}.extender.NexusBundleTracker`, 'ACTIVATING org.sonatype.nexus.plugins.nexus-coreui-plugin [3.61.0.02]'),
        line(T0, 'WARN', `${P}.extender.NexusContextListener`, 'Uptime: 3 seconds (x)'),
        line(T0, 'INFO', 'com.example.Other', 'start'),
      ]),
    ).toEqual([]);
  });

  it('a long adversarial message costs its length, not more', async () => {
    const long = adversarial('1 second, 2 minutes and ', 200_000);
    const list = await incidentsOffThread([serverRun.id], [line(T0, 'INFO', `${P}.extender.NexusContextListener`, `Uptime: ${long} (nexus-oss-edition/3.77.1.01)`), ...banner(T0 + 1, { version: adversarial('OSS ', 100_000) })]);
    expect(list.length).toBeGreaterThan(0);
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout

  it('the triage view lists the runs, the crash marked', () => {
    const collector = new SummaryCollector();
    const lines = [...start(T0), ...banner(T0 + MINUTE), line(HOUR, 'INFO', `${P}.quartz.internal.task.QuartzTaskInfo`, "Task 'x' [t] state change WAITING -> RUNNING", { thread: 'quartz-1-thread-1' }), ...start(2 * HOUR), ...banner(2 * HOUR + MINUTE)];
    for (const incident of runWithOthers(lines)) collector.add(incident);
    const stats = { lines: lines.length, events: 0, relevantEvents: 0, unparsedLines: 0 } as unknown as AnalyzerStats;
    const text = collector.format({ stats, inputs: 1, width: 200 });
    expect(text).toContain('Server runs');
    expect(text).toContain('x 2025-03-03 09:02:00 .. ');
    expect(text).toContain('stopped without a clean shutdown at 10:00 (last line), restarted at 11:00');
  });
});

describe('server-run on the real excerpts', () => {
  it('docker-for-linux-841: an ordered stop 30 s after start, with no banner: a likely failed start', () => {
    const name = 'docker-for-linux-841-uptime-shutdown-after-failed-start.log';
    const [incident, ...rest] = run(realLog(name));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ severity: 'warning', facts: { outcome: 'short-run', version: '3.38.1-01', edition: 'OSS', uptime: '30 s' }, diagnosis: { cause: 'stopped-soon-after-start' } });
    expect(incident?.evidence.map((e) => e.text).join('\n')).toContain(corpusEntry(name).expected[0]?.proof);
  });

  it('the start of a run: NexusLogActivator start (gcloud-62, websoft9-1059), lifecycle phases (websoft9-970), bundles (nexus-sso-20)', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['gcloud-62-nexus-run-console-start.log', { outcome: 'starting' }],
      ['websoft9-1059-docker-logs-nexuslogactivator-start.log', { outcome: 'starting' }],
      ['websoft9-970-startup-lifecycle-phases-3-74.log', { outcome: 'starting', version: '3.74.0-05', edition: 'OSS' }],
      ['nexus-sso-20-compose-v2-prefix-bundle-activation.log', { outcome: 'starting', version: '3.61.0-02' }],
    ];
    for (const [name, facts] of cases) {
      const list = run(realLog(name));
      expect([name, list.length]).toEqual([name, 1]);
      expect(list[0]).toMatchObject({ severity: 'info', subject: { type: 'server', name: 'nexus' }, facts });
      const proof = corpusEntry(name).expected.find((e) => e.class === 'server-run')?.proof as string;
      expect(list[0]?.evidence.map((e) => e.text).join('\n')).toContain(proof);
    }
  });

  it('the failed starts of the corpus are runs that failed to start', () => {
    for (const name of ['docker-for-linux-841-failed-to-start-realm-cpm.log', 'docker-nexus-73-docker-logs-bad-temp-directory.log', 'np-824-k8s-jetty-failed-to-start-datastore-not-found.log']) {
      const list = run(realLog(name));
      expect([name, list.map((i) => i.facts.outcome)]).toEqual([name, ['failed-start']]);
    }
  });

  it('a banner pasted alone (no record at all): a run at no known time, never the epoch', () => {
    const runs = run(['-------------------------------------------------', '', 'Started Sonatype Nexus OSS 3.13.0-01', '', '-------------------------------------------------']);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ firstSeen: null, facts: { outcome: 'running', ready: 'unknown (the lines carry no time)' } });
    expect(JSON.stringify(runs[0])).not.toContain('1970');
  });

  it('nexus-blobstore-s3-2: the banner without its header line is read from the loose text, ready at the next record', () => {
    const runs = run(realLog('nexus-blobstore-s3-2-started-banner-and-tasks.log'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ diagnosis: { cause: 'running' }, facts: { version: '3.13.0-01' }, firstSeen: '2018-07-24T09:40:00.025Z' });
  });
});
