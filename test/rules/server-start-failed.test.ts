/** server-start-failed: the start failure lines, classified by cause; restart loops as one incident. */
import { jvmOutOfMemory } from '../../src/rules/builtin/jvm-out-of-memory';
import { classifyStartFailure, serverStartFailed } from '../../src/rules/builtin/server-start-failed';
import { adversarial, corpusEntry, HOUR, incidents, line, MINUTE, realLog, SECOND } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const P = 'org.sonatype.nexus';
const LISTENER = `${P}.extender.NexusContextListener`;
const JETTY = `${P}.bootstrap.entrypoint.jetty.JettyServer`;
const MYBATIS = `${P}.datastore.mybatis.MyBatisDataStore`;
const run = (text: string | string[]) => incidents(serverStartFailed, text);

const failedToStart = (ms: number, ...exception: string[]): string[] => [line(ms, 'ERROR', LISTENER, 'Failed to start nexus', { thread: 'FelixStartLevel' }), ...exception, '\tat org.sonatype.nexus.extender.NexusLifecycleManager.to(NexusLifecycleManager.java:111)'];
const jettyFailed = (ms: number, ...exception: string[]): string[] => [line(ms, 'ERROR', JETTY, 'Failed to start', { thread: 'jetty-main-1' }), ...exception, '\tat org.sonatype.nexus.extender.internal.NexusServletContextListener.contextInitialized(NexusServletContextListener.java:73)'];

describe('server-start-failed: causes', () => {
  const cases: Array<[string, string[], string, Record<string, unknown>]> = [
    [
      'database from a later version (rollback)',
      [
        line(0, 'ERROR', `${P}.upgrade.datastore.internal.UpgradeManagerImpl`, 'Missing migrations: [3.86.0.1 - ContentMigrationStep]', { thread: 'jetty-main-1' }),
        ...jettyFailed(SECOND, 'java.lang.RuntimeException: org.sonatype.nexus.upgrade.datastore.UpgradeException: The database appears to be from a later version of Nexus Repository'),
      ],
      'database-from-later-version',
      { subject: { type: 'database', name: 'nexus' } },
    ],
    [
      'HA nodes at mixed versions',
      jettyFailed(
        0,
        'java.lang.IllegalStateException: unable to perform clustered deployment for node 918cbdc0-4908-4064-8da9-ac480d579eb3 , found inconsistencies :',
        'There are other Nexus Repository instance(s) that are currently running in this HA cluster with a different version. Please stop these instances.',
      ),
      'ha-nodes-mixed-versions',
      { facts: { detail: '918cbdc0-4908-4064-8da9-ac480d579eb3' } },
    ],
    [
      'legacy OrientDB must be migrated first (DB-6 banner)',
      [
        line(0, 'ERROR', MYBATIS, '', { thread: 'FelixStartLevel' }),
        '-----------------------------------------------------------------------------',
        '',
        'This instance is using a legacy Orient database. ',
        'You must migrate to H2 or PostgreSQL before upgrading to this version. See our database migration help documentation at: ',
        'https://links.sonatype.com/products/nxrm3/docs/unsupported-db.',
      ],
      'legacy-orient-must-migrate',
      {},
    ],
    [
      'PostgreSQL refusing connections at start',
      [
        line(0, 'ERROR', 'com.zaxxer.hikari.pool.HikariPool', 'nexus - Exception during pool initialization.', { thread: 'FelixStartLevel' }),
        'org.postgresql.util.PSQLException: Connection to db:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.',
        'Caused by: java.net.ConnectException: Connection refused',
        ...jettyFailed(2 * SECOND, "java.lang.RuntimeException: org.sonatype.nexus.datastore.api.DataStoreNotFoundException: Data store not found: 'nexus'"),
      ],
      'postgresql-refused',
      { facts: { detail: 'db:5432' }, subject: { type: 'database' } },
    ],
    [
      'no JDBC driver for the URL',
      [
        line(0, 'ERROR', MYBATIS, 'Failed transition: NEW -> STARTED', { thread: 'jetty-main-1' }),
        'java.lang.RuntimeException: Failed to get driver instance for jdbcUrl="jdbc:postgresql://postgres:5432/nexus"',
        'Caused by: java.sql.SQLException: No suitable driver',
      ],
      'jdbc-driver-missing',
      {},
    ],
    ['a missing Jetty keystore', [line(0, 'ERROR', `${P}.bootstrap.jetty.JettyServer`, 'Start failed', { thread: 'main' }), 'java.io.FileNotFoundException: /nexus-data/etc/ssl/keystore.jks (No such file or directory)'], 'jetty-keystore-missing', { subject: { type: 'path', name: '/nexus-data/etc/ssl/keystore.jks' } }],
    ['a Jetty keystore password', [line(0, 'ERROR', `${P}.bootstrap.jetty.JettyServer`, 'Start failed', { thread: 'main' }), 'java.io.IOException: Keystore was tampered with, or password was incorrect'], 'jetty-keystore-password', {}],
    [
      'OrientDB recovery after an unclean shutdown',
      [
        line(0, 'WARN', 'com.orientechnologies.orient.core.storage.impl.local.paginated.OLocalPaginatedStorage', "Storage 'plocal:/nexus-data/db/component' was not closed properly. Will try to recover from write ahead log", { thread: 'FelixStartLevel' }),
        ...failedToStart(MINUTE, "com.orientechnologies.orient.core.exception.OStorageException: File with name 'asset.pcl' does not exist in storage 'component'"),
      ],
      'orient-recovery-failed',
      { subject: { type: 'database', name: 'component' } },
    ],
    ['a damaged OrientDB', failedToStart(0, "com.orientechnologies.orient.core.exception.OStorageException: File with name 'realm.cpm' does not exist in storage 'security'"), 'orient-database-damaged', { subject: { type: 'database', name: 'security' } }],
    ['permissions on the data directory', failedToStart(0, 'java.lang.RuntimeException: boom', 'Caused by: java.nio.file.AccessDeniedException: /nexus-data/etc/logback/logback-overrides.xml'), 'data-directory-permissions', { subject: { type: 'directory', name: '/nexus-data' } }],
    ['the port in use', jettyFailed(0, 'java.io.IOException: Failed to bind to 0.0.0.0/0.0.0.0:8081', 'Caused by: java.net.BindException: Address already in use'), 'port-in-use', {}],
    ['a disk full at start', failedToStart(0, 'java.io.IOException: No space left on device'), 'disk-full', {}],
    ['an unclassified exception', failedToStart(0, 'java.lang.IllegalStateException: something new', 'Caused by: com.example.WeirdException: odd'), 'start-exception', { facts: { 'root cause': 'WeirdException: odd' } }],
  ];
  for (const [title, lines, cause, more] of cases) {
    it(title, () => {
      const list = run(lines);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ rule: 'server-start-failed', severity: 'critical', category: 'server', diagnosis: { cause }, ...more });
      expect(list[0]?.summary).toMatch(/^Nexus failed to start( \(Failed to start nexus\))?: /);
      expect(list[0]?.diagnosis.remediation.length).toBeGreaterThan(0);
      // Never a "server" subject: the triage view would list it among the runs, not the problems.
      expect(list[0]?.subject?.type).not.toBe('server');
    });
  }

  it('summaries say what failed', () => {
    expect(run(failedToStart(0, "x.OStorageException: File with name 'realm.cpm' does not exist in storage 'security'"))[0]?.summary).toBe('Nexus failed to start: OrientDB database security is damaged.');
    expect(run(jettyFailed(0, "java.lang.RuntimeException: org.sonatype.nexus.datastore.api.DataStoreNotFoundException: Data store not found: 'nexus'"))[0]?.summary).toBe("Nexus failed to start: the data store 'nexus' did not start.");
  });
});

describe('server-start-failed: what is and is not a failed start', () => {
  it('a container restarting in a loop is one incident with the attempts', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) lines.push(...failedToStart(i * 40 * SECOND, "x.OStorageException: File with name 'realm.cpm' does not exist in storage 'security'"));
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 5, facts: { attempts: 5 } });
    expect(incident?.summary).toBe('Nexus failed to start (5 attempts): OrientDB database security is damaged.');
  });

  it('lines of one attempt count once; failures hours apart are two incidents', () => {
    const one = run([...failedToStart(0, 'x.Boom: a'), ...jettyFailed(SECOND, 'x.Boom: a')]);
    expect(one[0]?.facts.attempts).toBe(1);
    expect(run([...failedToStart(0, 'x.Boom: a'), ...failedToStart(2 * HOUR, 'x.Boom: a')])).toHaveLength(2);
  });

  it('supporting lines alone are not a failed start: a blob store, a TASKS problem, a third-party bundle, an Orient recovery that worked', () => {
    expect(
      run([
        line(0, 'ERROR', `${P}.repository.internal.blobstore.BlobStoreManagerImpl`, 'Failed transition: NEW -> STARTED', { thread: 'FelixStartLevel' }),
        'com.amazonaws.services.s3.model.AmazonS3Exception: The AWS Access Key Id you provided does not exist in our records.',
        line(SECOND, 'WARN', `${P}.extender.NexusLifecycleManager`, 'Problem starting TASKS: org.sonatype.nexus.quartz.internal.QuartzSchedulerSPI', { thread: 'FelixStartLevel' }),
        line(2 * SECOND, 'ERROR', 'Felix', 'Bundle com.example.nexus-plugin [301] Error starting mvn:com.example/nexus-plugin/1.0 (org.osgi.framework.BundleException: Unable to resolve)'),
        line(3 * SECOND, 'WARN', 'com.orientechnologies.orient.core.storage.impl.local.paginated.OLocalPaginatedStorage', "Storage 'plocal:/nexus-data/db/config' was not closed properly. Will try to recover from write ahead log"),
      ]),
    ).toEqual([]);
  });

  it('Problem starting a phase other than TASKS is a failed start, with the phase', () => {
    const [incident] = run([line(0, 'WARN', `${P}.extender.NexusLifecycleManager`, 'Problem starting STORAGE: org.sonatype.nexus.datastore.internal.DataStoreManagerImpl', { thread: 'FelixStartLevel' }), 'java.lang.IllegalStateException: boom']);
    expect(incident?.facts).toMatchObject({ phase: 'STORAGE', 'root cause': 'IllegalStateException: boom' });
  });

  it('HA nodes are kept apart', () => {
    const list = run([line(0, 'ERROR', LISTENER, 'Failed to start nexus', { node: 'node-a' }), 'x.BoomException: a', line(0, 'ERROR', LISTENER, 'Failed to start nexus', { node: 'node-b' }), 'x.BoomException: a']);
    expect(list.map((i) => i.summary).sort()).toEqual(['Nexus failed to start on node node-a (Failed to start nexus): BoomException: a.', 'Nexus failed to start on node node-b (Failed to start nexus): BoomException: a.']);
  });

  it('a long adversarial exception line costs its length', async () => {
    const list = await incidentsOffThread([serverStartFailed.id], failedToStart(0, `java.lang.IllegalStateException: ${adversarial("Connection to  refused jdbcUrl= .jks Permission denied 'x' ", 200_000)}`));
    expect(list).toHaveLength(1);
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout
});

describe('server-start-failed on the real excerpts', () => {
  const readable: Array<[string, string, Record<string, unknown>]> = [
    ['docker-for-linux-841-failed-to-start-realm-cpm.log', 'orient-database-damaged', { subject: { type: 'database', name: 'security' } }],
    ['docker-nexus-73-docker-logs-bad-temp-directory.log', 'temp-directory-unusable', { subject: { type: 'directory', name: '/tmp/JettyContext5630915593536410496' } }],
    ['np-700-upgrade-failed-migration-validation.log', 'migration-validation-failed', { facts: { detail: 'ReconcileTaskMigrationStep' } }],
    ['np-824-k8s-jetty-failed-to-start-datastore-not-found.log', 'datastore-not-started', { subject: { type: 'database', name: 'nexus' } }],
    ['rhel-edge-184-felix-oom-heap-at-start.log', 'out-of-memory', { subject: { type: 'jvm' } }],
  ];
  for (const [name, cause, more] of readable) {
    it(`${name}: ${cause}`, () => {
      const list = run(realLog(name));
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ diagnosis: { cause }, ...more });
      const proof = corpusEntry(name).expected.find((e) => e.class === 'server-start-failed')?.proof as string;
      const evidence = list[0]?.evidence.map((e) => e.text).join('\n') ?? '';
      expect(evidence).toContain(proof.split('\n')[0] as string);
    });
  }

  it('rhel-edge-184: the out of memory at start is named as the cause', () => {
    const text = realLog('rhel-edge-184-felix-oom-heap-at-start.log');
    const oom = incidents(jvmOutOfMemory, text);
    const [failed] = incidents([jvmOutOfMemory, serverStartFailed], text, 'server-start-failed');
    expect(failed?.causes).toEqual(oom.map((i) => i.id));
  });

  it('a blob store that fails to start (s3-61) is not a failed start of Nexus', () => {
    expect(run(realLog('nexus-blobstore-s3-61-blobstore-start-invalid-access-key-quoted.log'))).toEqual([]);
  });

  it('launcher output with no nexus.log timestamp (journal, bin/nexus run, start script, Guice) is read as loose text: one failed start, by cause', () => {
    const launcher: Array<[string, string, string | null]> = [
      ['ansible-nexus3-oss-244-journal-no-suitable-jvm.log', 'unsupported-jvm', '1.8'],
      ['nexus-operator-228-bin-nexus-run-permission-denied.log', 'data-directory-permissions', '/opt/sonatype-work/nexus3'],
      ['openshift-jenkins-demo-94-openshift-console-table-permission-denied.log', 'data-directory-permissions', '/nexus-data'],
      ['operator-nxrm3-54-kubectl-logs-permission-denied.log', 'data-directory-permissions', '/nexus-data'],
      ['keycloak-plugin-46-compose-mkdir-permission-denied.log', 'data-directory-permissions', '../sonatype-work/nexus3'],
      ['chef-nexus-50-guice-access-denied-etc-logback.log', 'data-directory-permissions', '/nexus-data'],
      ['nexus-operator-223-openshift-guice-access-denied-inline.log', 'data-directory-permissions', '/nexus-data'],
    ];
    for (const [name, cause, detail] of launcher) {
      const text = realLog(name);
      const found = run(text);
      expect([name, found.map((i) => [i.diagnosis.cause, i.facts['detail'], i.facts['attempts'], i.firstSeen])]).toEqual([name, [[cause, detail, 1, null]]]);
      expect(text).toContain(found[0]?.evidence[0]?.text);
    }
  });

  it('a loose Guice error of unknown cause, a JDBC driver line alone, and launcher texts inside nexus.log events are not failed starts', () => {
    expect(run(['1) Error injecting constructor, java.lang.NullPointerException', '  at org.sonatype.nexus.Foo.<init>(Foo.java:1)'])).toEqual([]);
    expect(run(realLog('np-650-compose-prefix-no-suitable-jdbc-driver.log'))).toEqual([]);
    expect(classifyStartFailure(realLog('np-650-compose-prefix-no-suitable-jdbc-driver.log').split('\n'))).toEqual({ cause: 'jdbc-driver-missing', detail: '"jdbc:postgresql://postgres:5432/nexus"' });
    expect(run([line(0, 'ERROR', `${P}.blobstore.file.FileBlobStore`, "mkdir: cannot create directory '/nexus-data/blobs/x': Permission denied")])).toEqual([]);
    // Known log noise at start (docker-nexus3#38): a Karaf cfg file of the installation is not writable.
    expect(run(realLog('docker-nexus3-38-karaf-cfg-permission-denied-log-spam.log'))).toEqual([]);
  });

  it('texts of the second real corpus batch: a missing licence file, OrientDB on Java 17, a Flyway migration that failed', () => {
    expect(run(realLog('nxrm3-ha-125-license-file-missing-failed-to-start.log'))[0]).toMatchObject({
      subject: { type: 'path', name: '/var/nexus-repo-license/nexus-repo-license.lic' },
      diagnosis: { cause: 'license-missing' },
    });
    expect(run(realLog('nexus-oss-rpms-149-orient-max-java-11-webappcontext.log'))[0]).toMatchObject({ subject: { type: 'jvm' }, diagnosis: { cause: 'orient-java-too-new' } });
    expect(run(realLog('np-710-flyway-repeatable-migration-failed-backtick.log'))[0]).toMatchObject({
      subject: { type: 'database', name: 'nexus' },
      diagnosis: { cause: 'migration-failed' },
      summary: expect.stringContaining('ReconcileTaskMigrationStep'),
    });
  });

  it('a start script path in quotes names the data directory (`cannot create directory`, `Unable to create directory`)', () => {
    expect(classifyStartFailure(["mkdir: cannot create directory '/nexus-data/log': Permission denied"])).toEqual({ cause: 'data-directory-permissions', detail: '/nexus-data' });
    expect(classifyStartFailure(['Unable to update instance pid: Unable to create directory /opt/sonatype-work/nexus3/instances'])).toEqual({ cause: 'data-directory-permissions', detail: '/opt/sonatype-work/nexus3' });
  });
});
