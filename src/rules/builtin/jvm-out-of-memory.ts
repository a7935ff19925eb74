/**
 * Rule `jvm-out-of-memory`: the JVM ran out of a kind of memory. One incident per episode on a
 * server (30 minutes without a new one ends it), with the count, the threads hit and the kind,
 * which decides the fix: heap and GC overhead (-Xmx per the sizing profile, find the hog),
 * metaspace, direct memory (MaxDirectMemorySize), native threads (the process/pids limit).
 *
 *   ErrorPageServlet ERROR Unexpected exception
 *     java.lang.OutOfMemoryError: Java heap space                                     (JVM-1, a web request)
 *   java.lang.Throwable ERROR Exception in thread "x" java.lang.OutOfMemoryError: unable to create new native thread
 *   Felix ERROR Bundle org.sonatype.nexus.plugins.nexus-audit-plugin [232] Error starting ... (java.lang.OutOfMemoryError: Java heap space)
 *   <any> ERROR/WARN ... java.lang.OutOfMemoryError: GC overhead limit exceeded | Metaspace | Direct buffer memory   (JVM-3)
 *
 * After an OutOfMemoryError the JVM is in an undefined state: what fails after it is a
 * consequence (other rules name this one as their cause).
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { textsOf } from './exception-lines';
import { cut, mostCounted, nexusEventOf, onServer, serverOf } from './storage-texts';
import { howOften, listOf, plural } from './wording';

const OOM = 'OutOfMemoryError';

export type OomKind = 'heap' | 'gc-overhead' | 'metaspace' | 'direct-memory' | 'native-threads' | 'array-size' | 'unknown';

/** The kind of OutOfMemoryError a line names (the text after `OutOfMemoryError: `), or null when it names none. */
export function oomKindOf(line: string): OomKind | null {
  for (let at = line.indexOf(OOM); at !== -1; at = line.indexOf(OOM, at + OOM.length)) {
    // The class name stands alone (`java.lang.OutOfMemoryError`, `(OutOfMemoryError`); in
    // `-XX:+HeapDumpOnOutOfMemoryError` or `ExitOnOutOfMemoryError` it is part of an option.
    const before = at === 0 ? 0x20 : line.charCodeAt(at - 1);
    if (!(before === 0x2e || before === 0x20 || before === 0x09 || before === 0x28 || before === 0x5b || before === 0x22 || before === 0x3a)) continue;
    const rest = line.slice(at + OOM.length, at + OOM.length + 80);
    if (rest.includes('Java heap space')) return 'heap';
    if (rest.includes('GC overhead limit exceeded')) return 'gc-overhead';
    if (rest.includes('Metaspace') || rest.includes('Compressed class space') || rest.includes('PermGen space')) return 'metaspace';
    if (rest.includes('Direct buffer memory')) return 'direct-memory';
    if (rest.includes('native thread')) return 'native-threads';
    if (rest.includes('Requested array size exceeds VM limit')) return 'array-size';
    return 'unknown';
  }
  return null;
}

/** `Bundle org.sonatype.nexus.plugins.nexus-audit-plugin [232] Error starting ...` -> the bundle. */
function bundleOf(message: string): string | null {
  if (!message.startsWith('Bundle ')) return null;
  const end = message.indexOf(' ', 7);
  return end === -1 ? null : message.slice(7, end);
}

/** `Exception in thread "x" java.lang.OutOfMemoryError...` -> x. */
function namedThreadOf(text: string): string | null {
  const at = text.indexOf('Exception in thread "');
  if (at === -1) return null;
  const end = text.indexOf('" ', at + 21);
  return end === -1 ? null : text.slice(at + 21, end);
}

export interface OomSignal {
  kind: OomKind;
  server: string;
  /** The thread that hit it: the one named in `Exception in thread "..."`, else the event's. */
  thread: string;
  /** At start (OSGi start level, Jetty start), serving a web request, or elsewhere. */
  phase: 'start' | 'request' | 'other';
  bundle: string | null;
  line: string;
}

/** The OutOfMemoryError an event reports, if any. */
export function parseOutOfMemory(event: NexusEvent): OomSignal | undefined {
  let line: string | null = null;
  let kind: OomKind | null = null;
  for (const text of textsOf(event)) {
    const found = text.includes(OOM) ? oomKindOf(text) : null;
    if (found === null) continue;
    if (kind === null || kind === 'unknown') {
      line = text;
      kind = found;
    }
    if (kind !== 'unknown') break;
  }
  if (line === null || kind === null) return undefined;
  const thread = namedThreadOf(line) ?? event.thread;
  const start = thread === 'FelixStartLevel' || thread === 'jetty-main-1' || event.logger === 'Felix' || event.logger.endsWith('.Felix') || event.logger.endsWith('NexusContextListener');
  const request = event.logger.endsWith('ErrorPageServlet') || thread.startsWith('qtp');
  return { kind, server: serverOf(event), thread, phase: start ? 'start' : request ? 'request' : 'other', bundle: bundleOf(event.message), line: cut(line, 300) };
}

interface State {
  server: string;
  byKind: Partial<Record<OomKind, number>>;
  phases: Partial<Record<OomSignal['phase'], number>>;
  bundle: string | null;
  firstLine: string;
}

const KIND_PHRASE: Record<OomKind, string> = {
  heap: 'Java heap space',
  'gc-overhead': 'GC overhead limit exceeded',
  metaspace: 'Metaspace',
  'direct-memory': 'Direct buffer memory',
  'native-threads': 'unable to create new native thread',
  'array-size': 'Requested array size exceeds VM limit',
  unknown: 'OutOfMemoryError',
};

const VMOPTIONS = 'bin/nexus.vmoptions (or INSTALL4J_ADD_VM_PARAMS in a container)';
const SIZING: { title: string; url: string } = {
  title: 'Sonatype Nexus Repository: system requirements, memory and sizing profiles',
  url: 'https://help.sonatype.com/en/sonatype-nexus-repository-system-requirements.html',
};

function adviceFor(kind: OomKind, server: string): { cause: string; meaning: string; remediation: string[] } {
  const restart = `Restart Nexus on ${server}: after an OutOfMemoryError the JVM is in an undefined state, and what failed after it may fail again until then.`;
  switch (kind) {
    case 'heap':
    case 'array-size':
    case 'unknown':
      return {
        cause: 'heap-exhausted',
        meaning:
          'The Java heap is full: live objects no longer fit in -Xmx. Either the heap is smaller than the load needs (the default 2703 MB suits only the smallest sizing profile) ' +
          'or something holds far more memory than it should (huge group repository metadata merges, large uploads or searches, a leak).',
        remediation: [
          `Give the JVM the heap of the sizing profile that matches your load: -Xms and -Xmx (same value) in ${VMOPTIONS}, with the host or container memory raised to match (heap + direct memory + about 1 GB).`,
          'Find the hog: add -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=<data-dir>/log, analyze the dump (Eclipse MAT), and look at the requests and tasks running when it happened (request.log, task logs).',
          restart,
        ],
      };
    case 'gc-overhead':
      return {
        cause: 'gc-overhead-limit',
        meaning:
          'The JVM spent more than 98% of its time collecting garbage while recovering less than 2% of the heap: the heap is effectively full, and Nexus crawls before it fails.',
        remediation: [
          `Raise the heap to the sizing profile that matches your load: -Xms and -Xmx in ${VMOPTIONS}, with host or container memory to match.`,
          'Find what fills it: a heap dump (-XX:+HeapDumpOnOutOfMemoryError) and the requests and tasks running at the time (large group repositories, metadata rebuilds, searches).',
          restart,
        ],
      };
    case 'metaspace':
      return {
        cause: 'metaspace-exhausted',
        meaning: 'The JVM ran out of metaspace (class metadata), not heap: a -XX:MaxMetaspaceSize set too low, or classes generated without end (scripts compiled over and over, a plugin leaking class loaders).',
        remediation: [
          `Remove or raise -XX:MaxMetaspaceSize in ${VMOPTIONS} (Nexus does not need a limit there); raising -Xmx does not help.`,
          'If it comes back after some uptime, look for scripts run repeatedly (the script API, Groovy tasks) and third-party plugins.',
          restart,
        ],
      };
    case 'direct-memory':
      return {
        cause: 'direct-memory-exhausted',
        meaning: 'The JVM ran out of direct (off-heap) buffer memory: -XX:MaxDirectMemorySize is too small for the I/O load (large blobs, many concurrent transfers), or the container limit leaves no room for it.',
        remediation: [
          `Raise -XX:MaxDirectMemorySize in ${VMOPTIONS} (Sonatype's profiles set it next to -Xmx, e.g. 2703m), and make sure heap + direct memory + about 1 GB fit in the host or container memory limit.`,
          'Check the number of concurrent large transfers at the time (request.log) and any proxy in front that buffers slowly.',
          restart,
        ],
      };
    case 'native-threads':
      return {
        cause: 'native-thread-limit',
        meaning:
          'The JVM could not start a new thread: the process hit its limit of processes/threads (ulimit -u / nproc for the user running Nexus, systemd TasksMax, a container pids limit) ' +
          'or the host ran out of memory for thread stacks. This is not a heap problem: more -Xmx does not help.',
        remediation: [
          'Raise the thread limit of the Nexus process: LimitNPROC and TasksMax (e.g. 4096 or infinity) in the systemd unit, `nexus - nproc 65536` in /etc/security/limits.conf, or the container pids limit (docker --pids-limit, the pod/runtime pids limit); check with cat /proc/<pid>/limits and the cgroup pids.max.',
          'Check free memory on the host (thread stacks are native memory outside the heap) and count the threads of the Nexus process (ls /proc/<pid>/task | wc -l) to spot a thread leak.',
          restart,
        ],
      };
  }
}

export const jvmOutOfMemory: Rule<OomSignal, State> = {
  id: 'jvm-out-of-memory',
  title: 'The JVM ran out of memory (heap, GC overhead, metaspace, direct memory or native threads)',
  severity: 'critical',
  category: 'jvm',
  // Any logger: the error surfaces wherever it is caught (ErrorPageServlet, Felix, java.lang.Throwable...).
  reads: [{ levels: ['ERROR', 'WARN'], literals: [OOM], continuation: true }],
  windowMs: 30 * 60_000,
  distinctLimit: 10,
  causedBy: [{ rule: 'jvm-heap-pressure', withinMs: 30 * 60_000, sameSubject: true }],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseOutOfMemory(nexus);
  },

  key(signal) {
    return signal.server;
  },

  open(signal) {
    return { server: signal.server, byKind: {}, phases: {}, bundle: signal.bundle, firstLine: signal.line };
  },

  distinct(signal) {
    return { thread: signal.thread };
  },

  add(state, signal) {
    state.byKind[signal.kind] = (state.byKind[signal.kind] ?? 0) + 1;
    state.phases[signal.phase] = (state.phases[signal.phase] ?? 0) + 1;
    state.bundle ??= signal.bundle;
  },

  describe(state, group) {
    // A named kind beats `unknown` (a bare `OutOfMemoryError` line beside the real one).
    const named = { ...state.byKind };
    if (Object.keys(named).length > 1) delete named.unknown;
    const kind = mostCounted(named, 'unknown');
    const advice = adviceFor(kind, state.server);
    const threads = group.distinct.thread ?? { values: [], total: 0 };
    const kinds = Object.entries(state.byKind).map(([name, n]) => `${KIND_PHRASE[name as OomKind]} ${n}`);
    const where = state.phases.start !== undefined ? (state.bundle === null ? ' while Nexus was starting' : ` while starting bundle ${state.bundle}`) : state.phases.request !== undefined ? ' while serving requests' : '';
    return {
      subject: { type: 'jvm', name: state.server },
      fingerprint: [state.server, kind],
      summary:
        `The JVM${onServer(state.server)} ran out of memory (${KIND_PHRASE[kind]})${where}: ${howOften(group.count, group.firstTime, group.lastTime)}` +
        `${threads.total > 1 ? `, in ${plural(threads.total, 'thread')} (${listOf(threads.values, threads.total, 2)})` : ''}.`,
      facts: {
        kind: KIND_PHRASE[kind],
        errors: group.count,
        ...(kinds.length > 1 ? { 'by kind': kinds } : {}),
        threads: threads.values,
        ...(state.bundle === null ? {} : { bundle: state.bundle }),
        phase: state.phases.start !== undefined ? 'start' : state.phases.request !== undefined ? 'serving requests' : 'running',
      },
      fields: { oomKind: kind },
      diagnosis: {
        cause: advice.cause,
        explanation: `${advice.meaning} First error: ${state.firstLine}`,
        confidence: kind === 'unknown' ? 'medium' : 'high',
        remediation: advice.remediation,
        references: [SIZING],
      },
    };
  },
};
