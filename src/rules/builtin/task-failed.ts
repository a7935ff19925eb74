/**
 * Rule `task-failed`: a scheduled task failed (shared reference nexus-catalogue.md, section 3).
 * One run of a task is correlated on its thread (the quartz worker, or the task's own pool) from
 * its start to its end state; runs that fail the same way (same task, same repository) within a
 * day of each other are one incident with the run count, so a task that fails every night is
 * one line, not thirty.
 *
 *   QuartzTaskInfo INFO Task '{name}' [{typeId}] state change WAITING -> RUNNING                         (TK-1, run starts)
 *   <task class> INFO Task log: /nexus-data/log/tasks/{typeId}-{yyyyMMddHHmmssSSS}.log                  (TK-5, the run's task log)
 *   <task class> ERROR Failed to run task '{message}' on repository '{repo}' + stack                   (TK-7)
 *   <task class> WARN Repository '{repo}' was not found while running task '{message}'                 (TK-7)
 *   <task class> ERROR Failed to run task '{message}' + stack                                          (TK-4, task logs and some nexus.log)
 *   BlobStoreTaskSupport ERROR Failure processing blobstore '{name}' + stack                           (TK-8)
 *   RetryController WARN Exceeded retry limit: 8/8 (...MissingBlobException: ...)                      (BS-1, on the task's thread)
 *   QuartzTaskJob WARN Task {taskId} : '{name}' [{typeId}] execution failure + stack (root cause)        (TK-2)
 *   QuartzTaskJob WARN Task {jobKey} instantiation failure + stack                                     (TK-3)
 *   QuartzTaskInfo INFO Task '{name}' [{typeId}] state change RUNNING -> WAITING (FAILED)              (TK-1, run ends; with DEBUG on: Task {jobKey} : '{name}' ...)
 *   org.quartz.core.ErrorLogger ERROR Unable to notify JobListener(s) of Job that was executed: ...   (Quartz; the run's end state may be lost)
 *   task logs: Task information: / ID: / Type: / Name: / Description: ... Task complete               (TK-6)
 *
 * Diagnoses: the Docker clean-up task failing with `V2Exception$ManifestInvalid` (the 3.3-3.6.0
 * bug, fixed in 3.6.1), or on a manifest with no digest; a task stopped by missing blobs (linked to
 * blobstore-missing-blob); a task failing after an OutOfMemoryError (linked to jvm-out-of-memory);
 * a repository that no longer exists; a task type whose plugin is gone; the disk full.
 */
import type { AnyEvent, NexusEvent } from '../../events/log-event';
import type { Finding, Rule } from '../rule';
import { exceptionsOf, quotedAfter, rootCause, shortException } from './exception-lines';
import { listOf, plural } from './wording';

type Signal =
  | { k: 'start'; name: string; type: string; jobKey: string | null }
  | { k: 'end'; name: string; type: string; end: string | null; jobKey: string | null }
  | { k: 'execution-failure'; name: string; type: string; taskId: string; exceptions: string[]; root: string | null }
  | { k: 'instantiation-failure'; jobKey: string; exceptions: string[]; root: string | null }
  | { k: 'repository-failure'; message: string | null; repository: string; exceptions: string[]; root: string | null }
  | { k: 'repository-missing'; message: string | null; repository: string }
  | { k: 'run-failure'; message: string | null; exceptions: string[]; root: string | null }
  | { k: 'blobstore-failure'; blobstore: string; exceptions: string[]; root: string | null }
  | { k: 'retry-limit'; exception: string }
  | { k: 'log'; path: string }
  | { k: 'header' }
  | { k: 'info'; field: 'id' | 'type' | 'name' | 'description'; value: string }
  | { k: 'complete' }
  | { k: 'listener'; jobKey: string }
  | { k: 'mail'; name: string; exceptions: string[]; root: string | null };

interface State {
  kind: 'nexus' | 'task';
  name: string | null;
  type: string | null;
  taskId: string | null;
  jobKey: string | null;
  /** The task's message (`Failed to run task '{message}'`), e.g. `Purge unused docker manifests and images`. */
  message: string | null;
  /** Simple name of the task class that logged a failure, e.g. `DockerGCTask`. */
  taskClass: string | null;
  startedAt: number | null;
  end: string | null;
  taskLog: string | null;
  repositories: string[];
  missingRepositories: string[];
  blobstores: string[];
  failures: number;
  root: string | null;
  /** Exception lines seen (bounded), for the diagnosis. */
  exceptions: string[];
  instantiation: boolean;
  listener: boolean;
}

export type TaskFailureCause =
  | 'docker-gc-manifest-invalid'
  | 'docker-gc-null-digest'
  | 'task-out-of-memory'
  | 'task-missing-blob'
  | 'task-disk-full'
  | 'task-repository-not-found'
  | 'task-type-missing'
  | 'quartz-job-listener-error'
  | 'task-blobstore-failure'
  | 'task-exception';

/** Display names of task classes, for runs whose name the log does not give (`Failed to run task 'null'`). */
const KNOWN_TASKS: Record<string, { name: string; type: string }> = {
  OrientRestoreMetadataTask: { name: 'Repair - Reconcile component database from blob store', type: 'blobstore.rebuildComponentDB' },
  RestoreMetadataTask: { name: 'Repair - Reconcile component database from blob store', type: 'blobstore.rebuildComponentDB' },
  DockerGCTask: { name: 'Docker - Delete unused manifests and images', type: 'repository.docker.gc' },
  CompactBlobStoreTask: { name: 'Admin - Compact blob store', type: 'blobstore.compact' },
  RebuildIndexTask: { name: 'Repair - Rebuild repository search', type: 'repository.rebuild-index' },
};

const MAX_LISTED = 20;
const MAX_EXCEPTIONS = 12;

function lastSegment(logger: string): string {
  return logger.slice(logger.lastIndexOf('.') + 1);
}

function isTaskThread(thread: string): boolean {
  return thread.startsWith('quartz-') || thread.includes('Task');
}

/**
 * `Task 'X' [t] state change A -> B (END)` or `Task <jobKey> : 'X' [t] state change ...` ->
 * name, type, jobKey, new state and end; undefined when it is not one.
 */
export function parseStateChange(message: string): { name: string; type: string; jobKey: string | null; to: string; end: string | null } | undefined {
  const change = message.lastIndexOf(' state change ');
  if (!message.startsWith('Task ') || change === -1 || message.charCodeAt(change - 1) !== 0x5d) return undefined;
  const typeStart = message.lastIndexOf(' [', change);
  if (typeStart === -1 || message.charCodeAt(typeStart - 1) !== 0x27) return undefined;
  let nameStart: number;
  let jobKey: string | null = null;
  if (message.startsWith("Task '")) nameStart = 6;
  else {
    const sep = message.indexOf(" : '");
    if (sep === -1 || sep > typeStart) return undefined;
    jobKey = message.slice(5, sep);
    nameStart = sep + 4;
  }
  if (nameStart > typeStart - 1) return undefined;
  const rest = message.slice(change + ' state change '.length);
  const arrow = rest.indexOf(' -> ');
  if (arrow === -1) return undefined;
  const target = rest.slice(arrow + 4).trim();
  const open = target.indexOf(' (');
  const to = open === -1 ? target : target.slice(0, open);
  const end = open === -1 ? null : target.slice(open + 2, target.endsWith(')') ? -1 : undefined);
  return { name: message.slice(nameStart, typeStart - 1), type: message.slice(typeStart + 2, change - 1), jobKey, to, end };
}

/** `Task <id> : 'X' [t] execution failure` -> id, name, type. */
function parseExecutionFailure(message: string): { taskId: string; name: string; type: string } | undefined {
  if (!message.startsWith('Task ') || !message.endsWith('] execution failure')) return undefined;
  const sep = message.indexOf(" : '");
  const typeStart = message.lastIndexOf("' [");
  if (sep === -1 || typeStart === -1 || typeStart < sep + 4) return undefined;
  return { taskId: message.slice(5, sep), name: message.slice(sep + 4, typeStart), type: message.slice(typeStart + 3, -'] execution failure'.length) };
}

/** The task's name in the failure e-mail. */
const MAIL_TASK_NAME = 'Task Name: ';

/** A wrapper that says only that something failed: the exceptions it carries say what. */
function isWrapper(exception: string): boolean {
  return exception.includes('MultipleFailuresException') || exception.includes('TaskInterruptedException');
}

function failureParts(event: NexusEvent): { exceptions: string[]; root: string | null } {
  const exceptions = exceptionsOf(event.continuation).slice(0, MAX_EXCEPTIONS);
  let root = rootCause(event.continuation);
  if (root !== null && isWrapper(root)) {
    // MultipleFailures: the failures are its Suppressed lines.
    const suppressed = event.continuation.find((line) => line.trimStart().startsWith('Suppressed: '));
    if (suppressed !== undefined) root = exceptionsOf([suppressed])[0] ?? root;
  }
  return { exceptions, root };
}

function matchTaskEvent(event: NexusEvent): Signal | undefined {
  const logger = lastSegment(event.logger);
  const message = event.message;
  switch (event.level) {
    case 'INFO': {
      if (logger === 'QuartzTaskInfo') {
        const change = parseStateChange(message);
        if (change === undefined) return undefined;
        if (change.end !== null) return { k: 'end', name: change.name, type: change.type, end: change.end, jobKey: change.jobKey };
        if (change.to === 'RUNNING' || change.to === 'RUNNING_STARTING') return { k: 'start', name: change.name, type: change.type, jobKey: change.jobKey };
        return undefined;
      }
      if (message.startsWith('Task log: ')) return { k: 'log', path: message.slice('Task log: '.length).trim() };
      if (event.kind !== 'task') return undefined;
      if (message.trim() === 'Task information:') return { k: 'header' };
      if (message.trim() === 'Task complete') return { k: 'complete' };
      for (const field of ['ID', 'Type', 'Name', 'Description'] as const) {
        if (message.startsWith(` ${field}: `)) return { k: 'info', field: field.toLowerCase() as 'id' | 'type' | 'name' | 'description', value: message.slice(field.length + 3).trim() };
      }
      return undefined;
    }
    case 'WARN': {
      if (logger === 'QuartzTaskJob') {
        const failure = parseExecutionFailure(message.trim());
        if (failure !== undefined) return { k: 'execution-failure', ...failure, ...failureParts(event) };
        if (message.startsWith('Task ') && message.trimEnd().endsWith(' instantiation failure')) {
          return { k: 'instantiation-failure', jobKey: message.slice(5, message.trimEnd().length - ' instantiation failure'.length), ...failureParts(event) };
        }
        return undefined;
      }
      if (logger === 'RetryController' && message.startsWith('Exceeded retry limit: ') && isTaskThread(event.thread)) {
        const open = message.indexOf('(');
        return { k: 'retry-limit', exception: open === -1 ? message : message.slice(open + 1, message.endsWith(')') ? -1 : undefined) };
      }
      if (message.startsWith("Repository '") && message.includes("' was not found while running task '")) {
        return { k: 'repository-missing', repository: quotedAfter(message, "Repository '") ?? '?', message: quotedAfter(message, "while running task '") };
      }
      return undefined;
    }
    case 'ERROR': {
      // The e-mail Nexus sends when a task fails (`Task ID:`, `Task Name:`, `Stack-trace:`), pasted as
      // loose text: no logger, no time; the stack trace is in the lines after the name.
      if (event.logger === '' && event.timestampText === '' && message.startsWith(MAIL_TASK_NAME)) {
        const parts = failureParts(event);
        if (parts.exceptions.length === 0) return undefined;
        return { k: 'mail', name: message.slice(MAIL_TASK_NAME.length).trim(), ...parts };
      }
      if (logger === 'ErrorLogger' && message.startsWith('Unable to notify JobListener')) {
        const job = message.indexOf(' job= ');
        return { k: 'listener', jobKey: job === -1 ? '?' : message.slice(job + 6).trim() };
      }
      if (message.startsWith("Failed to run task '")) {
        const onRepo = message.lastIndexOf("' on repository '");
        if (onRepo !== -1) {
          const repository = quotedAfter(message, "' on repository '", onRepo) ?? '?';
          return { k: 'repository-failure', message: message.slice("Failed to run task '".length, onRepo), repository, ...failureParts(event) };
        }
        const end = message.lastIndexOf("'");
        return { k: 'run-failure', message: end > 20 ? message.slice(20, end) : null, ...failureParts(event) };
      }
      if (message.startsWith("Failure processing blobstore '")) return { k: 'blobstore-failure', blobstore: quotedAfter(message, "blobstore '") ?? '?', ...failureParts(event) };
      return undefined;
    }
    default:
      return undefined;
  }
}

function pushBounded(list: string[], value: string, max = MAX_LISTED): void {
  if (!list.includes(value) && list.length < max) list.push(value);
}

/** The message of a `MultipleFailuresException: Failed to run task '<message>'; 1 failure` exception line. */
function messageOfExceptions(exceptions: readonly string[]): string | null {
  for (const line of exceptions) {
    const message = quotedAfter(line, "Failed to run task '");
    if (message !== null) return message;
  }
  return null;
}

function usable(message: string | null): string | null {
  return message === null || message === 'null' || message === '' ? null : message;
}

export function classifyTaskFailure(state: Readonly<State>): TaskFailureCause {
  const texts = [...state.exceptions, ...(state.root === null ? [] : [state.root])];
  const has = (needle: string): boolean => texts.some((t) => t.includes(needle));
  const docker =
    state.type === 'repository.docker.gc' ||
    state.taskClass === 'DockerGCTask' ||
    /docker manifests|unused manifests and images/i.test(`${state.name ?? ''} ${state.message ?? ''}`);
  if (state.failures === 0 && !state.instantiation && state.end !== 'FAILED' && state.listener) return 'quartz-job-listener-error';
  if (state.instantiation) return 'task-type-missing';
  if (docker && (has('ManifestInvalid') || has('manifest invalid'))) return 'docker-gc-manifest-invalid';
  if (docker && has("Cannot get property 'digest' on null")) return 'docker-gc-null-digest';
  if (has('OutOfMemoryError')) return 'task-out-of-memory';
  if (has('MissingBlobException') || has('is missing from the blobstore')) return 'task-missing-blob';
  if (has('No space left on device')) return 'task-disk-full';
  if (state.missingRepositories.length > 0 && state.repositories.length === 0) return 'task-repository-not-found';
  if (state.blobstores.length > 0) return 'task-blobstore-failure';
  return 'task-exception';
}

function displayName(state: Readonly<State>): string {
  const known = state.taskClass === null ? undefined : KNOWN_TASKS[state.taskClass];
  return state.name ?? usable(state.message) ?? known?.name ?? (state.jobKey === null ? 'a task' : `job ${state.jobKey}`);
}

function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

const KB_MANIFEST_INVALID =
  'https://support.sonatype.com/hc/en-us/articles/115010234688-How-to-resolve-manifest-invalid-error-when-running-task-Purge-unused-docker-manifests-and-images';

function diagnosisOf(cause: TaskFailureCause, state: Readonly<State>, task: string): Finding['diagnosis'] {
  const root = state.root === null ? null : shortException(state.root, 300);
  const where = state.repositories.length > 0 ? ` on ${listOf(state.repositories)}` : '';
  const log = state.taskLog === null ? 'its task log (log/tasks/ in the data directory)' : `its task log ${state.taskLog}`;
  switch (cause) {
    case 'docker-gc-manifest-invalid':
      return {
        cause,
        explanation:
          `The Docker clean-up task fails${where} with V2Exception$ManifestInvalid ("manifest invalid"): in Nexus 3.3.0 to 3.6.0 some Docker layers were recorded as manifests, ` +
          'and the task fails on them, so nothing more is purged and the blob store keeps growing. The bug is fixed in 3.6.1; the records already written stay wrong until they are corrected.',
        confidence: 'high',
        remediation: [
          'Upgrade Nexus Repository to 3.6.1 or later.',
          "Correct the wrongly recorded assets as Sonatype's article describes: with Nexus stopped and db/component backed up, set asset_kind back to BLOB in the OrientDB console for the Docker assets under /blobs/, then start Nexus.",
          "Run the task again: it should end with 'RUNNING -> WAITING (OK)'.",
        ],
        references: [{ title: "Sonatype: How to resolve 'manifest invalid' when running task Purge unused docker manifests and images", url: KB_MANIFEST_INVALID }],
      };
    case 'docker-gc-null-digest':
      return {
        cause,
        explanation: `The Docker clean-up task fails${where} on a manifest list entry with no digest ("Cannot get property 'digest' on null object"), as image indexes pushed with attestations (docker buildx) or BuildKit caches have; the task stops there.`,
        confidence: 'medium',
        remediation: [
          'Upgrade Nexus Repository to a version that reads image indexes with attestations.',
          'Push images without attestations (docker buildx build --provenance=false) and delete the offending image index, then run the task again.',
        ],
        references: [{ title: 'sonatype/nexus-public issue 165: Cannot get property digest on null object in Docker - Delete unused manifests and images', url: 'https://github.com/sonatype/nexus-public/issues/165' }],
      };
    case 'task-out-of-memory':
      return {
        cause,
        explanation: `The task ${task} failed with an OutOfMemoryError${root === null ? '' : ` (${root})`}: the JVM ran out of memory while it ran (it may be the task itself that used it up, such as a large reconcile, compact or cleanup).`,
        confidence: 'high',
        remediation: [
          'Treat the out-of-memory first (the jvm-out-of-memory incident): raise -Xmx per the sizing profile and the container memory with it.',
          'Run the task again at a quiet time, and for very large repositories or blob stores narrow it (per repository, per blob store).',
        ],
      };
    case 'task-missing-blob':
      return {
        cause,
        explanation:
          `The task ${task} stopped because a blob the database refers to is missing from its blob store (MissingBlobException${root === null ? '' : `; ${root}`}). ` +
          'The reconcile task aborts as a whole on the first such blob instead of skipping it.',
        confidence: 'high',
        remediation: [
          'Find the missing blobs (the blobstore-missing-blob incident names them and the blob store) and why they went missing: storage, mounts, restores.',
          'Remove the records of the lost blobs (delete the affected components or assets, or restore the blob store from backup), then run the task again.',
        ],
        references: [{ title: 'sonatype/nexus-public issue 273: Reconcile task fails if blobs are non existent', url: 'https://github.com/sonatype/nexus-public/issues/273' }],
      };
    case 'task-disk-full':
      return {
        cause,
        explanation: `The task ${task} failed because the disk is full (No space left on device).`,
        confidence: 'high',
        remediation: ['Free space on the volume (the disk-full incident names it), then run the task again.'],
      };
    case 'task-repository-not-found':
      return {
        cause,
        explanation: `The task ${task} is set for repository ${listOf(state.missingRepositories)}, which no longer exists, so each run is stopped.`,
        confidence: 'high',
        remediation: ['Edit the task (Administration > System > Tasks) to point at an existing repository, or delete the task.'],
      };
    case 'task-type-missing':
      return {
        cause,
        explanation: `Quartz could not create the task ${state.jobKey ?? ''} ("instantiation failure"): its task type no longer exists, usually because the plugin or format that provided it was removed or is disabled after an upgrade.`.replace('  ', ' '),
        confidence: 'medium',
        remediation: ['Delete the task and create it again (or delete it if its plugin is gone for good); the root cause line names the missing class.'],
      };
    case 'quartz-job-listener-error':
      return {
        cause,
        explanation: `Quartz could not notify Nexus's task listener after job ${state.jobKey ?? ''} ran; Quartz ignores the error, but the task's state and last result may not have been recorded. On its own it does not stop Nexus or the task.`.replace('  ', ' '),
        confidence: 'low',
        remediation: ['Check the task in Administration > System > Tasks (last result, next run); if it keeps happening, read the exception after this line and the database health.'],
        references: [{ title: 'jenkins-x/jx issue 3451: Unable to notify JobListener(s)', url: 'https://github.com/jenkins-x/jx/issues/3451' }],
      };
    case 'task-blobstore-failure':
      return {
        cause,
        explanation: `The task ${task} failed on blob store ${listOf(state.blobstores)}${root === null ? '' : `: ${root}`}.`,
        confidence: 'medium',
        remediation: [`Read the root cause in ${log}; check the blob store's storage (mount, permissions, bucket) and run the task again.`],
      };
    default:
      return {
        cause: 'task-exception',
        explanation: `The task ${task} failed${where}${root === null ? ` (end state ${state.end ?? 'FAILED'}); the exception is in ${log}` : ` with ${root}`}.`,
        confidence: root === null ? 'low' : 'medium',
        remediation: [`Read the root cause (the last "Caused by:" of the stack in the evidence, or ${log}), fix it, and run the task again (Administration > System > Tasks > Run).`],
      };
  }
}

function describeTask(state: Readonly<State>, runs: number, firstTime: number, lastTime: number): Finding | null {
  const failed = state.end === 'FAILED' || state.failures > 0 || state.instantiation || state.listener;
  if (!failed) return null;
  const cause = classifyTaskFailure(state);
  const known = state.taskClass === null ? undefined : KNOWN_TASKS[state.taskClass];
  const task = displayName(state);
  const type = state.type ?? known?.type ?? null;
  const label = `'${task}'${type === null ? '' : ` [${type}]`}`;
  const repositories = [...state.repositories].sort();
  const on =
    repositories.length > 0
      ? ` on ${repositories.length === 1 ? `repository '${repositories[0]}'` : `repositories ${listOf(repositories)}`}`
      : state.missingRepositories.length > 0
        ? ` on missing repository '${state.missingRepositories[0]}'`
        : state.blobstores.length > 0
          ? ` on blob store '${state.blobstores[0]}'`
          : '';
  const root = state.root === null ? null : shortException(state.root, 160);
  const missing = cause === 'task-missing-blob' && root !== null && !root.includes('MissingBlob') ? state.exceptions.find((e) => e.includes('MissingBlobException')) : undefined;
  const after = missing === undefined ? '' : ` (after ${shortException(missing, 160)})`;
  const why = root !== null ? `: ${root}${after}` : cause === 'quartz-job-listener-error' ? ': Quartz could not notify its job listener' : '';
  const times = runs > 1 ? ` (${plural(runs, 'run')} failed, ${dateTime(firstTime)} to ${dateTime(lastTime)} UTC)` : '';
  const fromLog = state.kind === 'task' ? ' (task log)' : '';
  const summary = cause === 'quartz-job-listener-error' && state.name === null
    ? `Quartz could not notify its job listener after job ${state.jobKey ?? '?'} ran${times}: the task's result may not have been recorded.`
    : `Task ${label} failed${on}${times}${why}${fromLog}.`;
  const facts: Record<string, string | number | readonly string[]> = { task };
  if (type !== null) facts.type = type;
  if (state.taskId !== null) facts['task id'] = state.taskId;
  if (state.jobKey !== null) facts.job = state.jobKey;
  if (usable(state.message) !== null && state.message !== task) facts.message = state.message as string;
  if (repositories.length > 0) facts.repositories = repositories;
  if (state.missingRepositories.length > 0) facts['missing repositories'] = state.missingRepositories;
  if (state.blobstores.length > 0) facts['blob stores'] = state.blobstores;
  if (state.root !== null) facts['root cause'] = shortException(state.root, 300);
  if (state.end !== null) facts['end state'] = state.end;
  if (state.taskLog !== null) facts['task log'] = state.taskLog;
  facts.runs = runs;
  const minor = cause === 'quartz-job-listener-error' || cause === 'task-repository-not-found';
  return {
    subject: { type: 'task', name: task },
    fingerprint: [state.kind === 'task' ? 'task-log' : 'nexus', task, repositories.join(',') || state.missingRepositories.join(',') || state.blobstores.join(',') || null],
    summary,
    ...(minor ? { severity: 'warning' as const } : {}),
    facts,
    diagnosis: diagnosisOf(cause, state, label),
  };
}

const STATE_CHANGES_READ = ['-> RUNNING', '-> RUNNING_STARTING', ' (FAILED)', ' (CANCELED)', ' (INTERRUPTED)'].map((text) => ({ text, at: 'end' as const }));

export const taskFailed: Rule<Signal, State> = {
  id: 'task-failed',
  title: 'Scheduled task failed',
  severity: 'error',
  category: 'task',
  reads: [
    ...(['nexus', 'task'] as const).flatMap((input) => [
      // The "DEBUG form" (`Task <jobKey> : '<name>' ...`) is logged at INFO when DEBUG is on: no DEBUG line is read.
      // Starts and the ends that are not OK: `-> WAITING (OK)` is the most frequent line of many
      // healthy logs, and a run that ends OK is no incident (its group closes at the next start).
      { input, levels: ['INFO'] as const, loggers: ['QuartzTaskInfo'], literals: STATE_CHANGES_READ },
      { input, levels: ['INFO'] as const, literals: [{ text: 'Task log: ', at: 'start' as const }] },
      { input, levels: ['WARN'] as const, loggers: ['QuartzTaskJob'], literals: [{ text: 'Task ', at: 'start' as const }], continuation: true },
      { input, levels: ['WARN'] as const, loggers: ['RetryController'], literals: [{ text: 'Exceeded retry limit: ', at: 'start' as const }] },
      { input, levels: ['WARN'] as const, literals: [{ text: "Repository '", at: 'start' as const }] },
      { input, levels: ['ERROR'] as const, literals: [{ text: "Failed to run task '", at: 'start' as const }, { text: "Failure processing blobstore '", at: 'start' as const }], continuation: true },
      { input, levels: ['ERROR'] as const, loggers: ['ErrorLogger'], literals: [{ text: 'Unable to notify JobListener', at: 'start' as const }] },
      // The failure e-mail, read from loose text only (a line with no header is offered as ERROR of no logger).
      { input, levels: ['ERROR'] as const, literals: [{ text: MAIL_TASK_NAME, at: 'start' as const }], continuation: true },
    ]),
    {
      input: 'task',
      levels: ['INFO'],
      literals: [
        { text: 'Task information:', at: 'start' },
        { text: ' ID: ', at: 'start' },
        { text: ' Type: ', at: 'start' },
        { text: ' Name: ', at: 'start' },
        { text: ' Description: ', at: 'start' },
        { text: 'Task complete', at: 'start' },
      ],
    },
  ],
  windowMs: 6 * 60 * 60_000,
  aggregate: { windowMs: 26 * 60 * 60_000 },
  causedBy: [
    { rule: 'jvm-out-of-memory', withinMs: 30 * 60_000 },
    { rule: 'blobstore-missing-blob', withinMs: 60 * 60_000 },
    { rule: 'disk-full', withinMs: 6 * 60 * 60_000 },
  ],
  distinctLimit: 20,

  match(event: AnyEvent) {
    if (event.kind !== 'nexus' && event.kind !== 'task') return undefined;
    return matchTaskEvent(event);
  },

  key(_signal, event) {
    if (event.kind !== 'nexus' && event.kind !== 'task') return event.kind;
    return `${event.kind}\u0000${event.node ?? ''}\u0000${event.thread}`;
  },

  // A run that ended OK with no start seen (the log began mid-run) is nothing to report; these
  // lines are among the most frequent in a healthy log, so they open no group.
  opens(s) {
    return !(s.k === 'end' && s.end === 'OK');
  },

  open(_signal, event) {
    return {
      kind: event.kind === 'task' ? 'task' : 'nexus',
      name: null,
      type: null,
      taskId: null,
      jobKey: null,
      message: null,
      taskClass: null,
      startedAt: null,
      end: null,
      taskLog: null,
      repositories: [],
      missingRepositories: [],
      blobstores: [],
      failures: 0,
      root: null,
      exceptions: [],
      instantiation: false,
      listener: false,
    };
  },

  continues(state, s) {
    switch (s.k) {
      case 'start':
      case 'header':
        return false;
      case 'log':
        return state.taskLog === null;
      case 'end':
      case 'execution-failure':
        return state.name === null || state.name === s.name;
      case 'info':
        return s.field !== 'name' || state.name === null || state.name === s.value;
      default:
        return true;
    }
  },

  add(state, s, event) {
    const taskClass = event.kind === 'nexus' || event.kind === 'task' ? lastSegment(event.logger) : null;
    const failure = (root: string | null, exceptions: readonly string[]): void => {
      state.failures++;
      if (taskClass !== null && taskClass !== 'QuartzTaskJob' && taskClass !== 'RetryController') state.taskClass ??= taskClass;
      for (const line of exceptions) pushBounded(state.exceptions, line, MAX_EXCEPTIONS);
      if (root !== null && (state.root === null || !isWrapper(root))) state.root = root;
      state.message ??= usable(messageOfExceptions(exceptions));
    };
    switch (s.k) {
      case 'start':
        state.name = s.name;
        state.type = s.type;
        state.jobKey ??= s.jobKey;
        state.startedAt = event.time;
        return false;
      case 'end':
        state.name ??= s.name;
        state.type ??= s.type;
        state.jobKey ??= s.jobKey;
        state.end = s.end;
        return true;
      case 'execution-failure':
        state.name ??= s.name;
        state.type ??= s.type;
        state.taskId = s.taskId;
        failure(s.root, s.exceptions);
        return false;
      case 'instantiation-failure':
        state.instantiation = true;
        state.jobKey = s.jobKey;
        failure(s.root, s.exceptions);
        return false;
      case 'repository-failure':
        state.message ??= usable(s.message);
        pushBounded(state.repositories, s.repository);
        failure(s.root, s.exceptions);
        return false;
      case 'repository-missing':
        state.message ??= usable(s.message);
        pushBounded(state.missingRepositories, s.repository);
        failure(null, []);
        return false;
      case 'run-failure':
        state.message ??= usable(s.message);
        failure(s.root, s.exceptions);
        return false;
      case 'mail':
        // The e-mail is the whole story of one failed run.
        state.name ??= s.name;
        state.end = 'FAILED';
        failure(s.root, s.exceptions);
        return true;
      case 'blobstore-failure':
        pushBounded(state.blobstores, s.blobstore);
        failure(s.root, s.exceptions);
        return false;
      case 'retry-limit':
        pushBounded(state.exceptions, s.exception, MAX_EXCEPTIONS);
        return false;
      case 'log':
        state.taskLog = s.path;
        return false;
      case 'header':
        state.startedAt ??= event.time;
        return false;
      case 'info':
        if (s.field === 'id') state.taskId = s.value;
        else if (s.field === 'type') state.type = s.value;
        else if (s.field === 'name') state.name = s.value;
        else state.message ??= usable(s.value);
        return false;
      case 'complete':
        return true;
      case 'listener':
        state.listener = true;
        state.jobKey ??= s.jobKey;
        return false;
      default:
        return false;
    }
  },

  distinct(s) {
    if (s.k === 'repository-failure' || s.k === 'repository-missing') return { repository: s.repository };
    return undefined;
  },

  describe(state, group) {
    return describeTask(state, group.runs, group.firstTime, group.lastTime);
  },
};
