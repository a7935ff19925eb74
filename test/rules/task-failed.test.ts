/** task-failed: one run per thread from start to end state; runs failing the same way fold into one incident. */
import { blobstoreMissingBlob } from '../../src/rules/builtin/blobstore-missing-blob';
import { jvmOutOfMemory } from '../../src/rules/builtin/jvm-out-of-memory';
import { parseStateChange, taskFailed } from '../../src/rules/builtin/task-failed';
import { analyze } from '../support/helpers';
import { adversarial, corpusEntry, HOUR, incidents, line, MINUTE, realLog, SECOND } from '../support/rule-lines';
import { incidentsOffThread } from '../support/off-thread';

const P = 'org.sonatype.nexus';
const INFO = `${P}.quartz.internal.task.QuartzTaskInfo`;
const JOB = `${P}.quartz.internal.task.QuartzTaskJob`;
const GC = `${P}.repository.docker.internal.DockerGCTask`;
const run = (text: string | string[]) => incidents(taskFailed, text);
const DAY = 24 * HOUR;

const GC_NAME = 'Docker - Delete unused manifests and images';
const GC_TYPE = 'repository.docker.gc';

/** One run of a task on a thread: start, task log, what happens in it, end. */
function taskRun(ms: number, o: { name?: string; type?: string; thread?: string; end?: string; body?: (at: number, thread: string) => string[] } = {}): string[] {
  const name = o.name ?? GC_NAME;
  const type = o.type ?? GC_TYPE;
  const thread = o.thread ?? 'quartz-12-thread-3';
  const stamp = new Date(Date.UTC(2025, 2, 3, 9) + ms).toISOString().replace(/\D/g, '').slice(0, 17);
  return [
    line(ms, 'INFO', INFO, `Task '${name}' [${type}] state change WAITING -> RUNNING`, { thread }),
    line(ms + 10, 'INFO', GC, `Task log: /nexus-data/log/tasks/${type}-${stamp}.log`, { thread }),
    ...(o.body?.(ms + 1000, thread) ?? []),
    line(ms + 5 * SECOND, 'INFO', INFO, `Task '${name}' [${type}] state change RUNNING -> WAITING (${o.end ?? 'FAILED'})`, { thread }),
  ];
}

const manifestInvalid = (repository: string) => (at: number, thread: string): string[] => [
  line(at, 'ERROR', GC, `Failed to run task 'Purge unused docker manifests and images' on repository '${repository}'`, { thread }),
  'org.sonatype.nexus.repository.docker.internal.V2Exception$ManifestInvalid: manifest invalid',
  '\tat org.sonatype.nexus.repository.docker.internal.DockerGCFacetImpl.deleteUnusedManifestsAndImages(DockerGCFacetImpl.java:103)',
  line(at + 100, 'WARN', JOB, `Task 6f1c6f1e-5f2a-4a0e-9c5d-2f1e8f6a7b10 : '${GC_NAME}' [${GC_TYPE}] execution failure`, { thread }),
  "org.sonatype.goodies.common.MultipleFailures$MultipleFailuresException: Failed to run task 'Purge unused docker manifests and images'; 1 failure",
  '\tat org.sonatype.goodies.common.MultipleFailures.maybePropagate(MultipleFailures.java:95)',
  '\tSuppressed: org.sonatype.nexus.repository.docker.internal.V2Exception$ManifestInvalid: manifest invalid',
];

describe('task-failed: one run', () => {
  it('a failed run: the task, its repository, the root cause, the task log, complete at (FAILED)', () => {
    const [incident, ...rest] = run(taskRun(0, { body: manifestInvalid('docker-hosted') }));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({
      rule: 'task-failed',
      category: 'task',
      severity: 'error',
      subject: { type: 'task', name: GC_NAME },
      thread: 'quartz-12-thread-3',
      facts: {
        type: GC_TYPE,
        'task id': '6f1c6f1e-5f2a-4a0e-9c5d-2f1e8f6a7b10',
        repositories: ['docker-hosted'],
        'root cause': 'V2Exception$ManifestInvalid: manifest invalid',
        'end state': 'FAILED',
        'task log': '/nexus-data/log/tasks/repository.docker.gc-20250303090000000.log',
        runs: 1,
      },
      diagnosis: { cause: 'docker-gc-manifest-invalid', confidence: 'high' },
    });
    expect(incident?.summary).toBe(`Task '${GC_NAME}' [${GC_TYPE}] failed on repository 'docker-hosted': V2Exception$ManifestInvalid: manifest invalid.`);
    expect(incident?.diagnosis.remediation[0]).toContain('3.6.1');
    expect(incident?.diagnosis.references[0]?.url).toContain('support.sonatype.com');
    expect(incident?.evidence).toHaveLength(5);
  });

  it('runs that end OK, or canceled without a failure, are not incidents', () => {
    expect(run([...taskRun(0, { end: 'OK' }), ...taskRun(MINUTE, { end: 'CANCELED' })])).toEqual([]);
  });

  it('the state change lines in both forms (with DEBUG on, the job key comes first)', () => {
    expect(parseStateChange("Task 'Cleanup service' [repository.cleanup] state change RUNNING -> WAITING (FAILED)")).toEqual({ name: 'Cleanup service', type: 'repository.cleanup', jobKey: null, to: 'WAITING', end: 'FAILED' });
    expect(parseStateChange("Task nexus.5f1a : 'It's a [name]' [script] state change WAITING -> RUNNING")).toEqual({ name: "It's a [name]", type: 'script', jobKey: 'nexus.5f1a', to: 'RUNNING', end: null });
    expect(parseStateChange("Task 'x' [t] : state=WAITING")).toBeUndefined();
    const [incident] = run([
      line(0, 'INFO', INFO, "Task nexus.b51451e5 : 'Rebuild index' [repository.rebuild-index] state change WAITING -> RUNNING", { thread: 'quartz-3-thread-1' }),
      line(SECOND, 'INFO', INFO, "Task nexus.b51451e5 : 'Rebuild index' [repository.rebuild-index] state change RUNNING -> WAITING (FAILED)", { thread: 'quartz-3-thread-1' }),
    ]);
    expect(incident).toMatchObject({ subject: { name: 'Rebuild index' }, facts: { job: 'nexus.b51451e5', 'end state': 'FAILED' }, diagnosis: { cause: 'task-exception', confidence: 'low' } });
    expect(incident?.summary).toBe("Task 'Rebuild index' [repository.rebuild-index] failed.");
  });

  it('keeps threads apart, and a new task on a pooled thread starts a new run', () => {
    const lines = [
      line(0, 'INFO', INFO, `Task 'A' [script] state change WAITING -> RUNNING`, { thread: 'quartz-1-thread-1' }),
      line(10, 'INFO', INFO, `Task 'B' [script] state change WAITING -> RUNNING`, { thread: 'quartz-1-thread-2' }),
      line(20, 'ERROR', `${P}.script.plugin.internal.task.ScriptTask`, "Failed to run task 'Execute script'", { thread: 'quartz-1-thread-1' }),
      'java.lang.IllegalStateException: script A broke',
      // thread-1's end line never came (log cut): the next task on it supersedes.
      line(MINUTE, 'INFO', INFO, `Task 'C' [script] state change WAITING -> RUNNING`, { thread: 'quartz-1-thread-1' }),
      line(MINUTE + 10, 'INFO', INFO, `Task 'C' [script] state change RUNNING -> WAITING (OK)`, { thread: 'quartz-1-thread-1' }),
      line(MINUTE + 20, 'INFO', INFO, `Task 'B' [script] state change RUNNING -> WAITING (FAILED)`, { thread: 'quartz-1-thread-2' }),
    ];
    const list = run(lines);
    expect(list.map((i) => [i.subject?.name, i.facts['root cause'] ?? null])).toEqual([
      ['A', 'IllegalStateException: script A broke'],
      ['B', null],
    ]);
  });

  it('a task type whose plugin is gone (instantiation failure)', () => {
    const [incident] = run([line(0, 'WARN', JOB, 'Task nexus.7d2e instantiation failure', { thread: 'quartz-2-thread-1' }), 'org.quartz.SchedulerException: Job class not found: com.example.GoneTask', 'Caused by: java.lang.ClassNotFoundException: com.example.GoneTask']);
    expect(incident).toMatchObject({ subject: { name: 'job nexus.7d2e' }, diagnosis: { cause: 'task-type-missing' }, facts: { 'root cause': 'ClassNotFoundException: com.example.GoneTask' } });
  });

  it('a repository that no longer exists (the run ends CANCELED): warning', () => {
    const [incident] = run(
      taskRun(0, {
        name: 'Cleanup old-maven',
        type: 'repository.maven.remove-snapshots',
        end: 'CANCELED',
        body: (at, thread) => [line(at, 'WARN', `${P}.repository.maven.tasks.RemoveSnapshotsTask`, "Repository 'old-maven' was not found while running task 'Remove Maven snapshots'", { thread })],
      }),
    );
    expect(incident).toMatchObject({ severity: 'warning', facts: { 'missing repositories': ['old-maven'], 'end state': 'CANCELED' }, diagnosis: { cause: 'task-repository-not-found' } });
    expect(incident?.summary).toBe("Task 'Cleanup old-maven' [repository.maven.remove-snapshots] failed on missing repository 'old-maven'.");
  });

  it('a blob store task (Failure processing blobstore), and a disk full', () => {
    const [blob] = run(
      taskRun(0, {
        name: 'Compact default',
        type: 'blobstore.compact',
        body: (at, thread) => [line(at, 'ERROR', `${P}.blobstore.common.BlobStoreTaskSupport`, "Failure processing blobstore 'default'", { thread }), 'java.io.UncheckedIOException: java.nio.file.AccessDeniedException: /nexus-data/blobs/default/content'],
      }),
    );
    expect(blob).toMatchObject({ facts: { 'blob stores': ['default'] }, diagnosis: { cause: 'task-blobstore-failure' } });
    const [disk] = run(taskRun(0, { name: 'Compact default', type: 'blobstore.compact', body: (at, thread) => [line(at, 'ERROR', `${P}.blobstore.common.BlobStoreTaskSupport`, "Failure processing blobstore 'default'", { thread }), 'java.io.IOException: No space left on device'] }));
    expect(disk?.diagnosis.cause).toBe('task-disk-full');
  });

  it('the Docker clean-up task failing on a manifest with no digest (np-165 texts)', () => {
    const [incident] = run(
      taskRun(0, {
        name: 'Docker DEV clean unused stuff',
        body: (at, thread) => [
          line(at, 'WARN', JOB, `Task 27e5b0f1-a642-4177-8204-a422407911b6 : 'Docker DEV clean unused stuff' [${GC_TYPE}] execution failure`, { thread }),
          "org.sonatype.goodies.common.MultipleFailures$MultipleFailuresException: Failed to run task 'Docker - Delete unused manifests and images'; 1 failure",
          "\tSuppressed: java.lang.NullPointerException: Cannot get property 'digest' on null object",
        ],
      }),
    );
    expect(incident).toMatchObject({ subject: { name: 'Docker DEV clean unused stuff' }, facts: { message: GC_NAME }, diagnosis: { cause: 'docker-gc-null-digest' } });
  });
});

describe('task-failed: runs of one failure are one incident', () => {
  it('a task failing every night for a week is one incident with the run count', () => {
    const lines: string[] = [];
    for (let night = 0; night < 7; night++) lines.push(...taskRun(night * DAY, { body: manifestInvalid('docker-hosted') }));
    lines.push(...taskRun(7 * DAY, { end: 'OK' }));
    const [incident, ...rest] = run(lines);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ count: 7 * 5, facts: { runs: 7 } });
    expect(incident?.summary).toBe(
      `Task '${GC_NAME}' [${GC_TYPE}] failed on repository 'docker-hosted' (7 runs failed, 2025-03-03 09:00 to 2025-03-09 09:00 UTC): V2Exception$ManifestInvalid: manifest invalid.`,
    );
    expect(incident?.facts['task log']).toBe('/nexus-data/log/tasks/repository.docker.gc-20250309090000000.log');
  });

  it('another repository, or runs more than 26 h apart, are other incidents', () => {
    const list = run([...taskRun(0, { body: manifestInvalid('a') }), ...taskRun(HOUR, { body: manifestInvalid('b') }), ...taskRun(3 * DAY, { body: manifestInvalid('a') })]);
    expect(list.map((i) => [i.facts.repositories, i.facts.runs])).toEqual([
      [['a'], 1],
      [['b'], 1],
      [['a'], 1],
    ]);
    expect(list[2]?.occurrences).toBe(2);
  });

  it('a storm: one run failing on a thousand repositories is one incident counting them', () => {
    const [incident, ...rest] = run(
      taskRun(0, {
        body: (at, thread) => {
          const out: string[] = [];
          for (let i = 0; i < 1000; i++) out.push(line(at + i, 'ERROR', GC, `Failed to run task 'Purge unused docker manifests and images' on repository 'docker-${i}'`, { thread }), 'java.lang.IllegalStateException: boom');
          return out;
        },
      }),
    );
    expect(rest).toEqual([]);
    expect(incident?.distinct.repository?.total).toBe(1000);
    expect((incident?.facts.repositories as string[]).length).toBe(20);
    expect(incident?.count).toBe(1003);
  });
});

describe('task-failed: causes from other rules', () => {
  it('a task failing after an out of memory names it', () => {
    const text = [
      line(0, 'ERROR', `${P}.internal.web.ErrorPageServlet`, 'Unexpected exception', { thread: 'qtp1-7' }),
      'java.lang.OutOfMemoryError: Java heap space',
      ...taskRun(MINUTE, { name: 'Cleanup', type: 'repository.cleanup', body: (at, thread) => [line(at, 'WARN', JOB, "Task 1 : 'Cleanup' [repository.cleanup] execution failure", { thread }), 'java.lang.OutOfMemoryError: Java heap space'] }),
    ];
    const oom = incidents(jvmOutOfMemory, text);
    const [task] = incidents([jvmOutOfMemory, taskFailed], text, 'task-failed');
    expect(task).toMatchObject({ diagnosis: { cause: 'task-out-of-memory' } });
    expect(task?.causes).toEqual(oom.map((i) => i.id));
  });

  it('a task log read alone (tasks/*.log): its header names the task; it is its own incident', () => {
    const thread = 'quartz-12-thread-9';
    const L = `${P}.blobstore.restore.orient.OrientRestoreMetadataTask`;
    const text = [
      line(0, 'INFO', L, 'Task information:', { thread }),
      line(1, 'INFO', L, ' ID: 0c1d', { thread }),
      line(2, 'INFO', L, ' Type: blobstore.rebuildComponentDB', { thread }),
      line(3, 'INFO', L, ' Name: Reconcile default', { thread }),
      line(4, 'INFO', L, ' Description: Reconcile component database from blob store', { thread }),
      line(SECOND, 'ERROR', L, "Failed to run task 'Reconcile component database from blob store'", { thread }),
      'org.sonatype.nexus.repository.storage.RetryDeniedException: Exceeded retry limit',
      'Caused by: org.sonatype.nexus.repository.storage.MissingBlobException: Blob default@2651dcac exists in metadata, but is missing from the blobstore',
      line(2 * SECOND, 'INFO', L, 'Task complete', { thread }),
    ].join('\n');
    const list = analyze(text, { rules: [taskFailed], kind: 'task', source: 'tasks/blobstore.rebuildComponentDB-20231016092156137.log' }).filter((i) => i.rule === 'task-failed');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ closeReason: 'end-of-input', subject: { name: 'Reconcile default' }, facts: { 'task id': '0c1d', type: 'blobstore.rebuildComponentDB' }, diagnosis: { cause: 'task-missing-blob' } });
    expect(list[0]?.summary).toMatch(/\(task log\)\.$/);
  });
});

describe('task-failed: near misses and hostile input', () => {
  it('ignores lines that are not failures', () => {
    expect(
      run([
        line(0, 'INFO', INFO, "Task 'x' [t] : state=WAITING"),
        line(0, 'INFO', INFO, "Task 'x' [t] state change WAITING -> RUNNING_CANCELED"),
        line(0, 'WARN', `${P}.Other`, "Failed to run task 'x'"),
        line(0, 'INFO', `${P}.Other`, 'Task complete'),
        line(0, 'WARN', `${P}.Other`, "Repository 'x' changed"),
        line(0, 'WARN', `${P}.transaction.RetryController`, 'Exceeded retry limit: 8/8 (x.MissingBlobException: y)', { thread: 'qtp1-5' }),
      ]),
    ).toEqual([]);
    expect(run(realLog('np-1024-gcs-compact-task-progress-task-user.log'))).toEqual([]);
  });

  it('a long adversarial message costs its length', async () => {
    const list = await incidentsOffThread([taskFailed.id], [
      line(0, 'INFO', INFO, `Task '${adversarial("' [' state change ", 200_000)}' [x] state change RUNNING -> WAITING (FAILED)`, { thread: 'quartz-1-thread-1' }),
      line(SECOND, 'ERROR', GC, `Failed to run task '${adversarial("' on repository '", 200_000)}' on repository 'r'`, { thread: 'quartz-1-thread-2' }),
    ]);
    expect(list).toHaveLength(2);
  }, 30_000); // on a worker thread: a super-linear parse fails on this timeout
});

describe('task-failed on the real excerpts', () => {
  it('sonatype-kb: the Docker clean-up task and ManifestInvalid, the 3.3-3.6.0 bug', () => {
    const name = 'sonatype-kb-docker-gc-task-manifest-invalid.log';
    const [incident, ...rest] = run(realLog(name));
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ subject: { name: 'Purge unused docker manifests and images' }, facts: { repositories: ['Docker'], type: GC_TYPE }, diagnosis: { cause: 'docker-gc-manifest-invalid' } });
    expect(incident?.evidence[0]?.text).toContain(corpusEntry(name).expected[0]?.proof);
  });

  it('np-273: the reconcile task stopped by a missing blob, linked to blobstore-missing-blob', () => {
    const name = 'np-273-windows-reconcile-task-missing-blob.log';
    const text = realLog(name);
    const [task] = incidents([blobstoreMissingBlob, taskFailed], text, 'task-failed');
    const [blob] = incidents([blobstoreMissingBlob, taskFailed], text, 'blobstore-missing-blob');
    expect(task).toMatchObject({ subject: { name: 'Repair - Reconcile component database from blob store' }, diagnosis: { cause: 'task-missing-blob' } });
    expect(task?.summary).toContain('RetryDeniedException: Exceeded retry limit (after MissingBlobException: Blob default@2651dcac-6df6-45de-9a52-e11b1e3ef5cd exists in metadata');
    expect(task?.causes).toEqual([blob?.id]);
    expect(task?.evidence.map((e) => e.text).join('\n')).toContain(corpusEntry(name).expected.find((e) => e.class === 'task-failed')?.proof);
  });

  it('jx-3451: Quartz could not notify its job listener (other:quartz-job-listener-error): a warning', () => {
    const [incident] = run(realLog('jx-3451-quartz-joblistener-error.log'));
    expect(incident).toMatchObject({ severity: 'warning', facts: { job: 'nexus.b51451e5-a1ed-4e93-8228-23f28d210fa4' }, diagnosis: { cause: 'quartz-job-listener-error' } });
  });

  it('nexus-blobstore-s3-2: a task run that ended OK is not an incident', () => {
    expect(run(realLog('nexus-blobstore-s3-2-started-banner-and-tasks.log'))).toEqual([]);
  });

  it('np-165: the task-failure e-mail (no timestamps): one failed run, named by its Task Name line, with the exception of its stack trace', () => {
    const incidents = run(realLog('np-165-docker-gc-task-failed-email.log'));
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ subject: { type: 'task', name: 'Docker DEV clean unused stuff' }, facts: { message: GC_NAME, 'end state': 'FAILED' }, firstSeen: null });
  });
});
