/**
 * Rule `jvm-heap-pressure`: the heap is nearly full for a sustained time, the early warning of
 * an OutOfMemoryError (rule `jvm-out-of-memory` names this one as its cause). One incident per
 * server while the warnings go on (30 minutes without one ends it), with the peak usage.
 *
 *   MemoryMonitor ERROR [jvm monitor] [memory] CRITICAL heap usage: 90% (1.8gb/2.0gb), sustained=30000ms, pools={G1 Old Gen=1.8gb/2.0gb, ...}   (JVM-2, 3.77+)
 *   org.elasticsearch.monitor.jvm INFO/WARN [<es node>] [gc][old][2320][7] duration [7.3s], collections [1]/[8.6s], total [7.3s]/[14s],
 *       memory [1.4gb]->[1.5gb]/[2.3gb], all_pools {[young] ...}{[survivor] ...}{[old] [899.8mb]->[1.5gb]/[1.7gb]}
 *
 * Elasticsearch (embedded in Nexus up to 3.x with Orient, same JVM) logs an old-generation
 * collection only when it took more than 5 s (INFO) or 10 s (WARN): each such line is a long
 * pause with the old generation still nearly full after it.
 */
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { cut, formatBytes, nexusEventOf, onServer, parseDuration, parseSize, serverOf } from './storage-texts';
import { between, duration, howOften, plural } from './wording';

const MONITOR = '[jvm monitor] [memory] ';
const HEAP_USAGE = ' heap usage: ';
const GC_OLD = '[gc][old]';

export interface HeapSignal {
  server: string;
  source: 'memory-monitor' | 'gc-old';
  /** The monitor's level word (CRITICAL...), or null for GC lines. */
  level: string | null;
  /** Heap (or old generation) used after the fact, and its maximum, in bytes; null when not printed. */
  used: number | null;
  max: number | null;
  /** Percent of the maximum used. */
  percent: number | null;
  /** For how long the monitor saw it, or how long the GC pause took. */
  sustainedMs: number | null;
  pauseMs: number | null;
  line: string;
}

/** `CRITICAL heap usage: 90% (1.8gb/2.0gb), sustained=30000ms, pools={...}`. */
export function parseMemoryMonitor(message: string): Omit<HeapSignal, 'server' | 'line'> | undefined {
  const at = message.indexOf(MONITOR);
  if (at === -1) return undefined;
  const usage = message.indexOf(HEAP_USAGE, at);
  if (usage === -1) return undefined;
  const level = message.slice(at + MONITOR.length, usage).trim() || null;
  const rest = message.slice(usage + HEAP_USAGE.length, usage + HEAP_USAGE.length + 200);
  const percentEnd = rest.indexOf('%');
  const percent = percentEnd === -1 ? null : Number(rest.slice(0, percentEnd));
  const sizes = between(rest, '(', ')');
  const slash = sizes === null ? -1 : sizes.indexOf('/');
  const used = sizes === null || slash === -1 ? null : parseSize(sizes.slice(0, slash));
  const max = sizes === null || slash === -1 ? null : parseSize(sizes.slice(slash + 1));
  const sustained = between(rest, 'sustained=', ',') ?? between(`${rest},`, 'sustained=', ',');
  return {
    source: 'memory-monitor',
    level,
    used,
    max,
    percent: percent !== null && Number.isFinite(percent) ? percent : used !== null && max !== null && max > 0 ? Math.round((used / max) * 100) : null,
    sustainedMs: sustained === null ? null : parseDuration(sustained),
    pauseMs: null,
  };
}

/** An Elasticsearch `[gc][old]` line: the pause, and the old generation after it (else the whole heap). */
export function parseGcOld(message: string): Omit<HeapSignal, 'server' | 'line'> | undefined {
  const at = message.indexOf(GC_OLD);
  if (at === -1) return undefined;
  const pause = between(message, 'duration [', ']', at);
  // `{[old] [899.8mb]->[1.5gb]/[1.7gb]}` when the pools are printed, else `memory [1.4gb]->[1.5gb]/[2.3gb]`.
  const oldPool = message.indexOf('{[old] ', at);
  const memory = message.indexOf('memory [', at);
  const from = oldPool !== -1 ? oldPool + 7 : memory !== -1 ? memory + 7 : -1;
  const sizes = from === -1 ? '' : message.slice(from, from + 100);
  const arrow = sizes.indexOf('->');
  const after = arrow === -1 ? null : between(sizes, '[', ']', arrow);
  const slash = arrow === -1 ? -1 : sizes.indexOf('/[', arrow);
  const maxText = slash === -1 ? null : between(sizes, '[', ']', slash);
  const used = after === null ? null : parseSize(after);
  const max = maxText === null ? null : parseSize(maxText);
  return {
    source: 'gc-old',
    level: null,
    used,
    max,
    percent: used !== null && max !== null && max > 0 ? Math.round((used / max) * 100) : null,
    sustainedMs: null,
    pauseMs: pause === null ? null : parseDuration(pause),
  };
}

export function parseHeapPressure(event: NexusEvent): HeapSignal | undefined {
  const found = event.message.includes(MONITOR) ? parseMemoryMonitor(event.message) : parseGcOld(event.message);
  return found === undefined ? undefined : { ...found, server: serverOf(event), line: cut(event.message, 300) };
}

interface State {
  server: string;
  monitor: number;
  gc: number;
  peakPercent: number | null;
  peakUsed: number | null;
  max: number | null;
  longestSustainedMs: number | null;
  longestPauseMs: number | null;
  level: string | null;
  peakLine: string;
}

export const jvmHeapPressure: Rule<HeapSignal, State> = {
  id: 'jvm-heap-pressure',
  title: 'JVM heap nearly full for a sustained time (memory monitor, long old-generation GC pauses)',
  severity: 'warning',
  category: 'jvm',
  reads: [
    { levels: ['ERROR', 'WARN', 'INFO'], loggers: ['MemoryMonitor'], literals: [MONITOR] },
    // Elasticsearch 2.x `monitor.jvm`, 5+ `JvmGcMonitorService`.
    { levels: ['WARN', 'INFO'], loggers: ['org.elasticsearch.monitor.jvm', 'JvmGcMonitorService'], literals: [GC_OLD] },
  ],
  windowMs: 30 * 60_000,

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseHeapPressure(nexus);
  },

  key(signal) {
    return signal.server;
  },

  open(signal) {
    return { server: signal.server, monitor: 0, gc: 0, peakPercent: null, peakUsed: null, max: null, longestSustainedMs: null, longestPauseMs: null, level: null, peakLine: signal.line };
  },

  add(state, signal) {
    if (signal.source === 'memory-monitor') state.monitor++;
    else state.gc++;
    if (signal.percent !== null && (state.peakPercent === null || signal.percent > state.peakPercent)) {
      state.peakPercent = signal.percent;
      state.peakUsed = signal.used;
      state.max = signal.max;
      state.peakLine = signal.line;
    }
    state.max ??= signal.max;
    if (signal.sustainedMs !== null) state.longestSustainedMs = Math.max(state.longestSustainedMs ?? 0, signal.sustainedMs);
    if (signal.pauseMs !== null) state.longestPauseMs = Math.max(state.longestPauseMs ?? 0, signal.pauseMs);
    state.level ??= signal.level;
  },

  describe(state, group) {
    const usage =
      state.peakPercent === null
        ? 'nearly full'
        : `at ${state.peakPercent}%${state.peakUsed !== null && state.max !== null ? ` (${formatBytes(state.peakUsed)} of ${formatBytes(state.max)})` : ''}`;
    const what: string[] = [];
    if (state.monitor > 0) what.push(plural(state.monitor, `memory monitor ${state.level === null ? '' : `${state.level} `}warning`));
    if (state.gc > 0) what.push(`${plural(state.gc, 'old-generation GC pause')}${state.longestPauseMs === null ? '' : ` up to ${(state.longestPauseMs / 1000).toFixed(1)} s`}`);
    const gcOnly = state.monitor === 0;
    return {
      subject: { type: 'jvm', name: state.server },
      fingerprint: [state.server],
      summary: `The JVM heap${onServer(state.server)} was ${usage}${state.longestSustainedMs === null ? '' : ` for ${duration(state.longestSustainedMs)}`}: ${what.join(' and ')} (${howOften(group.count, group.firstTime, group.lastTime)}).`,
      facts: {
        'peak usage': state.peakPercent === null ? 'not printed' : `${state.peakPercent}%`,
        ...(state.max === null ? {} : { [gcOnly ? 'old generation max' : 'heap max']: formatBytes(state.max) }),
        ...(state.longestSustainedMs === null ? {} : { sustained: duration(state.longestSustainedMs) }),
        ...(state.longestPauseMs === null ? {} : { 'longest GC pause': `${(state.longestPauseMs / 1000).toFixed(1)} s` }),
        warnings: group.count,
      },
      diagnosis: {
        cause: gcOnly ? 'long-old-generation-gc' : 'heap-nearly-full',
        explanation:
          (gcOnly
            ? 'Full (old-generation) garbage collections take seconds and leave the old generation nearly full: the heap is too small for what Nexus holds, and every pause stops all requests. '
            : 'The memory monitor saw the heap nearly full for a sustained time: collections no longer free enough. ') +
          `An OutOfMemoryError (rule jvm-out-of-memory) usually follows if the load goes on. Peak: ${state.peakLine}`,
        confidence: 'high',
        remediation: [
          'Raise the heap to the Sonatype sizing profile that matches your load: -Xms and -Xmx (same value) in bin/nexus.vmoptions (or INSTALL4J_ADD_VM_PARAMS in a container), with host or container memory to match; a 2 GB heap is below every profile.',
          'Find what uses the memory at these times: the requests and tasks running (request.log, task logs; large group repositories and metadata merges are usual suspects), and a heap histogram (jcmd <pid> GC.class_histogram) while it is high.',
          'Until then, spread heavy tasks away from busy hours; a restart only buys time.',
        ],
        references: [{ title: 'Sonatype Nexus Repository: system requirements, memory and sizing profiles', url: 'https://help.sonatype.com/en/sonatype-nexus-repository-system-requirements.html' }],
      },
    };
  },
};
