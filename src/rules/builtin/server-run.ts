/**
 * Rule `server-run`: splits the log into runs of Nexus, one incident per run (shared reference
 * nexus-catalogue.md, LC-1 to LC-6). A run begins at a start marker, learns its version and
 * edition, and ends in one of four ways:
 *
 * - a clean stop (`Uptime: ...`, `Shutting down`, JettyServer `Stopping` / `Stopped`): info;
 * - a **crash**: a new start marker with no stop line before it (the JVM was killed, crashed or
 *   OOM-killed): error, with the time of the last line before the restart;
 * - a **failed start**: a start that never logged `Started Sonatype Nexus` before it stopped or
 *   was started again (the cause is the `server-start-failed` incident): error;
 * - still running (or still starting) at the end of the input: info.
 *
 * Start markers (each seen once per start, in an order that varies by version):
 *
 *   NexusLogActivator - start                                     (LC-1)
 *   Launcher - Java: 1.8.0_292, OpenJDK 64-Bit Server VM, ...     (LC-2)
 *   ConfigurationBuilder - Properties:  /  nexus-edition='nexus-oss-edition'
 *   BootstrapListener | OssNexusEdition - Loading OSS Edition  /  Installing: nexus-oss-edition/3.38.1.01 (nexus-orient/3.38.1.01)
 *   JettyServer - Starting                                         (LC-3)
 *   NexusBundleTracker - ACTIVATING org.sonatype.nexus.oss-edition [3.74.0.05]  (and the httpbridge plugin)
 *   NexusContextListener - Running lifecycle phases [KERNEL, ...]  (LC-4)
 *   Starting SonatypeNexusRepositoryApplication v3.86.2-01 ...     (LC-6, 3.78+)
 *
 * Ready: the JettyServer banner (an event whose continuation lines hold `Started Sonatype Nexus
 * OSS 3.13.0-01`), or `Started SonatypeNexusRepositoryApplication in ...`.
 */
import type { AnyEvent, NexusEvent } from '../../events/log-event';
import type { Finding, GroupView, Rule, Severity } from '../rule';
import { clockTime, coreBundleActivationFailure, editionOfFeature, fullTime, nexusLabel, nexusVersion, parseEditionFeature, parseUptime } from './server-lifecycle';
import { duration } from './wording';

type Marker = 'application' | 'activator' | 'launcher' | 'properties' | 'edition' | 'installing' | 'jetty' | 'bundle-edition' | 'bundle-httpbridge' | 'lifecycle';

interface Signal {
  kind: 'start' | 'ready' | 'failed' | 'stopping' | 'stopped';
  marker: Marker | null;
  version: string | null;
  edition: string | null;
  database: string | null;
  java: string | null;
  uptimeMs: number | null;
  exitCode: number | null;
  /** For `failed`: the message, e.g. `Failed to start nexus`. */
  failure: string | null;
}

interface State {
  node: string | null;
  markers: Marker[];
  /** Time of the first start marker; null when the run began before the input. */
  startedAt: number | null;
  readyAt: number | null;
  version: string | null;
  edition: string | null;
  database: string | null;
  java: string | null;
  failure: string | null;
  failedAt: number | null;
  stoppingAt: number | null;
  /** Time of the line that logged the uptime. */
  uptimeAt: number | null;
  uptimeMs: number | null;
  exitCode: number | null;
}

export type RunOutcome = 'clean-stop' | 'crash' | 'failed-start' | 'short-run' | 'running' | 'starting';

const EDITION_LOGGERS = ['BootstrapListener', 'NexusEdition', 'OssNexusEdition', 'ProNexusEdition', 'ProStarterNexusEdition', 'CommunityNexusEdition', 'OpenCoreNexusEdition'];
const BANNER = 'Started Sonatype Nexus';
const APP_STARTING = 'Starting SonatypeNexusRepositoryApplication';
const APP_STARTED = 'Started SonatypeNexusRepositoryApplication';

function signal(kind: Signal['kind'], fields: Partial<Signal> = {}): Signal {
  return { kind, marker: null, version: null, edition: null, database: null, java: null, uptimeMs: null, exitCode: null, failure: null, ...fields };
}

function lastSegment(logger: string): string {
  return logger.slice(logger.lastIndexOf('.') + 1);
}

/** `Started Sonatype Nexus OSS 3.13.0-01` (or without edition, or `Started Sonatype Nexus` alone) in the banner's lines. */
function bannerOf(event: NexusEvent): Signal | undefined {
  for (const line of [event.message, ...event.continuation]) {
    const at = line.indexOf(BANNER);
    if (at === -1) continue;
    const words = line.slice(at + BANNER.length).trim().split(/\s+/).filter((w) => w !== '');
    let version: string | null = null;
    let edition: string | null = null;
    for (const word of words) {
      const asVersion = nexusVersion(word);
      if (asVersion !== null) version ??= asVersion;
      else if (/^[A-Za-z][A-Za-z_-]*$/.test(word) && edition === null && version === null) edition = word.toUpperCase();
    }
    return signal('ready', { version, edition });
  }
  return undefined;
}

/** `Loading OSS Edition` -> `OSS`; `Loading Sonatype Nexus Repository Core` -> `CORE`. */
function editionOfLoading(message: string): string | null {
  const rest = message.slice('Loading '.length).trim();
  if (rest.endsWith(' Edition')) return rest.slice(0, -' Edition'.length).toUpperCase() || null;
  if (rest === 'Sonatype Nexus Repository Core') return 'CORE';
  return null;
}

/** `Installing: nexus-oss-edition/3.38.1.01 (nexus-orient/3.38.1.01)` -> edition, version, database. */
function parseInstalling(message: string): Signal | undefined {
  const rest = message.slice('Installing: '.length);
  const open = rest.indexOf(' (');
  const feature = parseEditionFeature(open === -1 ? rest : rest.slice(0, open));
  if (feature.edition === null && feature.version === null) return undefined;
  let database: string | null = null;
  if (open !== -1) {
    const db = rest.slice(open + 2);
    if (db.startsWith('nexus-orient')) database = 'OrientDB';
    else if (db.startsWith('nexus-datastore')) database = 'datastore (H2 or PostgreSQL)';
  }
  return signal('start', { marker: 'installing', ...feature, database });
}

function matchInfo(event: NexusEvent, logger: string): Signal | undefined {
  const message = event.message;
  switch (logger) {
    case 'NexusLogActivator':
      return message.trim() === 'start' ? signal('start', { marker: 'activator' }) : undefined;
    case 'Launcher':
      return message.startsWith('Java: ') ? signal('start', { marker: 'launcher', java: message.slice(6, message.indexOf(',') === -1 ? undefined : message.indexOf(',')).trim() }) : undefined;
    case 'ConfigurationBuilder': {
      if (message.startsWith('Properties:')) return signal('start', { marker: 'properties' });
      const value = /nexus-edition='([^']*)'/.exec(message);
      return value === null ? undefined : signal('start', { marker: 'edition', edition: editionOfFeature(value[1] as string) });
    }
    case 'JettyServer': {
      const banner = bannerOf(event);
      if (banner !== undefined) return banner;
      const text = message.trim();
      if (text === 'Starting') return signal('start', { marker: 'jetty' });
      if (text === 'Stopping') return signal('stopping');
      if (text === 'Stopped') return signal('stopped');
      return undefined;
    }
    case 'NexusBundleTracker': {
      // ACTIVATING org.sonatype.nexus.oss-edition [3.74.0.05]
      const open = message.indexOf(' [');
      if (!message.startsWith('ACTIVATING ') || open === -1) return undefined;
      const bundle = message.slice('ACTIVATING '.length, open);
      const version = nexusVersion(message.slice(open + 2, message.indexOf(']', open) === -1 ? undefined : message.indexOf(']', open)));
      if (!bundle.includes('sonatype.nexus')) return undefined;
      if (bundle.endsWith('-edition')) return signal('start', { marker: 'bundle-edition', edition: editionOfFeature(bundle), version });
      if (bundle.endsWith('.nexus-repository-httpbridge')) return signal('start', { marker: 'bundle-httpbridge', version });
      return undefined;
    }
    case 'NexusContextListener': {
      if (message.startsWith('Running lifecycle phases')) return signal('start', { marker: 'lifecycle' });
      if (!message.startsWith('Uptime: ')) return undefined;
      const open = message.lastIndexOf(' (');
      const uptimeMs = parseUptime(message.slice(8, open === -1 ? undefined : open));
      const feature = open === -1 ? { edition: null, version: null } : parseEditionFeature(message.slice(open + 2, message.lastIndexOf(')') > open ? message.lastIndexOf(')') : undefined));
      return signal('stopping', { uptimeMs, ...feature });
    }
    case 'NexusLifecycleManager':
    case 'ManagedLifecycleManager': {
      if (message.trim() === 'Shutting down') return signal('stopping');
      const prefix = 'Shutdown requested with an exit code of ';
      if (message.startsWith(prefix)) return signal('stopping', { exitCode: Number.parseInt(message.slice(prefix.length), 10) });
      return undefined;
    }
    default:
      if (EDITION_LOGGERS.includes(logger)) {
        if (message.startsWith('Loading ')) {
          const edition = editionOfLoading(message);
          return edition === null ? undefined : signal('start', { marker: 'edition', edition });
        }
        if (message.startsWith('Installing: ') && logger === 'BootstrapListener') return parseInstalling(message);
      }
      if (message.startsWith(APP_STARTING)) {
        const version = /^Starting SonatypeNexusRepositoryApplication v(\S+)/.exec(message);
        const java = / using Java (\S+)/.exec(message);
        return signal('start', { marker: 'application', version: version === null ? null : nexusVersion(version[1] as string), java: java === null ? null : (java[1] as string) });
      }
      if (message.startsWith(APP_STARTED)) return signal('ready');
      return undefined;
  }
}

function matchError(event: NexusEvent, logger: string): Signal | undefined {
  const text = event.message.trim();
  if (logger === 'NexusContextListener' && (text === 'Failed to start nexus' || text === 'Failed to initialize context')) return signal('failed', { failure: text });
  if (logger === 'JettyServer' && (text === 'Start failed' || text === 'Failed to start')) return signal('failed', { failure: `JettyServer: ${text}` });
  if (logger === 'BootstrapListener' && text === 'Failed to initialize') return signal('failed', { failure: `BootstrapListener: ${text}` });
  if (logger === 'BootFeaturesInstaller' && text.startsWith('Error installing boot features')) return signal('failed', { failure: 'Karaf: Error installing boot features' });
  // A core bundle's activator failed: the Nexus bootstrap, or Karaf's features service.
  if (coreBundleActivationFailure(text, event.continuation) !== null) return signal('failed', { failure: 'a core bundle failed to activate' });
  return undefined;
}

function merge(state: State, s: Signal): void {
  state.version = s.version ?? state.version;
  state.edition = s.edition ?? state.edition;
  state.database = s.database ?? state.database;
  state.java = s.java ?? state.java;
}

/** What became of a run, from its state and how its group closed. */
export function outcomeOf(state: Readonly<State>, group: GroupView): RunOutcome {
  const stopped = state.stoppingAt !== null || group.reason === 'matched';
  const startSeen = state.markers.length > 0;
  const neverReady = state.readyAt === null;
  if (state.failure !== null && neverReady) return 'failed-start';
  if (stopped) {
    if (neverReady && startSeen) return 'failed-start';
    if (neverReady && !startSeen && state.uptimeMs !== null && state.uptimeMs < 2 * 60_000) return 'short-run';
    return 'clean-stop';
  }
  if (group.reason === 'superseded') return neverReady && startSeen ? 'failed-start' : 'crash';
  return neverReady && startSeen ? 'starting' : 'running';
}

const SEVERITY: Record<RunOutcome, Severity> = {
  'clean-stop': 'info',
  running: 'info',
  starting: 'info',
  'short-run': 'warning',
  crash: 'error',
  'failed-start': 'error',
};

function describeRun(state: Readonly<State>, viewed: GroupView): Finding {
  // Loose text with no time: its times are unknown, not the epoch.
  const group = viewed.timeless ? { ...viewed, firstTime: Number.NaN, lastTime: Number.NaN, lastTimeBefore: null, closedAt: null } : viewed;
  const outcome = outcomeOf(state, group);
  const label = nexusLabel(state.version, state.edition);
  const uptimeStart = state.uptimeMs !== null && state.uptimeAt !== null ? state.uptimeAt - state.uptimeMs : null;
  const start = state.startedAt ?? uptimeStart ?? group.firstTime;
  const at = (ms: number): string => clockTime(ms, start);
  const from = state.startedAt !== null ? `from ${at(start)}` : uptimeStart !== null ? `from ${at(start)} (by its uptime)` : `from before this log`;
  const lastLine = Math.max(group.lastTime, group.lastTimeBefore ?? group.lastTime);
  const end = group.lastTime;
  const failure = state.failure === null ? '' : ` (${state.failure} at ${at(state.failedAt ?? group.lastTime)})`;
  let summary: string;
  switch (outcome) {
    case 'clean-stop':
      summary =
        state.startedAt === null && uptimeStart === null
          ? `${label} (started before this log) stopped cleanly at ${at(end)}.`
          : `${label} ran ${from} to ${at(end)} (${duration(end - start)}), stopped cleanly.`;
      break;
    case 'short-run':
      summary = `${label} stopped in order at ${at(end)} only ${duration(state.uptimeMs ?? 0)} after it started, with no 'Started Sonatype Nexus' in this log: a stop this soon is usually a failed start (look at the errors just before it).`;
      break;
    case 'crash':
      summary =
        `${label} ran ${from} and stopped without a clean shutdown at ${at(lastLine)} (last line), ` +
        `restarted at ${at(group.closedAt ?? lastLine)}: killed, crashed or OOM-killed.`;
      break;
    case 'failed-start':
      summary =
        group.reason === 'superseded' && state.stoppingAt === null
          ? `${label} failed to start at ${at(start)}${failure}: it never logged 'Started Sonatype Nexus' before it was started again at ${at(group.closedAt ?? lastLine)}.`
          : state.stoppingAt !== null
            ? `${label} failed to start at ${at(start)}${failure} and shut down at ${at(state.stoppingAt)}${state.uptimeMs === null ? '' : ` after ${duration(state.uptimeMs)}`}.`
            : `${label} failed to start at ${at(start)}${failure}; nothing after it in this log.`;
      break;
    case 'starting':
      summary = `${label} was starting ${from} and had not logged 'Started Sonatype Nexus' by the end of this log.`;
      break;
    default:
      summary =
        state.readyAt !== null && state.startedAt !== null
          ? `${label} started at ${at(start)} (ready at ${at(state.readyAt)}, after ${duration(state.readyAt - start)}) and was still running at the end of this log.`
          : state.readyAt !== null
            ? `${label} was ready at ${at(state.readyAt)} and still running at the end of this log.`
            : `${label} (started before this log) was still running at the end of this log.`;
  }
  const facts: Record<string, string | number | null> = {
    outcome,
    version: state.version,
    edition: state.edition,
    node: state.node,
  };
  if (state.database !== null) facts.database = state.database;
  if (state.java !== null) facts.java = state.java;
  facts.started = state.startedAt !== null ? fullTime(state.startedAt) : uptimeStart !== null ? `${fullTime(uptimeStart)} (from its uptime)` : 'before this log';
  if (state.readyAt !== null) facts.ready = fullTime(state.readyAt);
  if (state.readyAt !== null && state.startedAt !== null) facts['startup time'] = duration(state.readyAt - state.startedAt);
  if (state.failure !== null) facts.failure = state.failure;
  if (state.stoppingAt !== null) facts.stopped = fullTime(group.lastTime);
  if (state.uptimeMs !== null) facts.uptime = duration(state.uptimeMs);
  if (state.exitCode !== null) facts['exit code'] = state.exitCode;
  if (outcome === 'crash' || (outcome === 'failed-start' && group.reason === 'superseded')) {
    facts['last line'] = fullTime(lastLine);
    if (group.closedAt !== null) facts.restarted = fullTime(group.closedAt);
  }
  return {
    subject: { type: 'server', name: state.node ?? 'nexus' },
    fingerprint: [outcome, state.node],
    summary,
    severity: SEVERITY[outcome],
    facts,
    diagnosis: diagnosisOf(outcome, state, label),
  };
}

function diagnosisOf(outcome: RunOutcome, state: Readonly<State>, label: string): Finding['diagnosis'] {
  switch (outcome) {
    case 'crash':
      return {
        cause: 'unclean-shutdown',
        explanation:
          `${label} logged no shutdown (no 'Uptime:', 'Shutting down' or 'Stopped') before it was started again: the JVM ended without running its shutdown hooks. ` +
          'That is a kill -9, the kernel OOM killer or a container memory limit, a pod eviction or failed liveness probe, a JVM crash (an hs_err_pid file), or the host going down.',
        confidence: 'medium',
        remediation: [
          "Find out what ended the process at the time of the last line: the kernel log (dmesg -T | grep -i -E 'killed process|out of memory'), docker inspect --format '{{.State.OOMKilled}}' <container>, kubectl describe pod (Last State: OOMKilled, Reason), or journalctl -u nexus.",
          'Look for hs_err_pid*.log files (a JVM crash) and for OutOfMemoryError in the lines before the last one.',
          'If memory was the cause, give the container or host room for the heap (-Xmx), the direct memory (-XX:MaxDirectMemorySize) and about 1 GB more, per the Nexus system requirements.',
          'After an unclean stop, check the start that followed for database recovery messages (OrientDB replays its write-ahead log; H2 may need a restore from backup).',
        ],
        references: [{ title: 'Sonatype Nexus Repository: system requirements (memory)', url: 'https://help.sonatype.com/en/sonatype-nexus-repository-system-requirements.html' }],
      };
    case 'failed-start':
      return {
        cause: 'start-failed',
        explanation:
          `${label} began to start but never logged 'Started Sonatype Nexus'${state.failure === null ? '' : ` (it logged '${state.failure}')`}. ` +
          'The error that stopped it is in the lines of this run; the server-start-failed incident names and classifies it.',
        confidence: state.failure === null ? 'medium' : 'high',
        remediation: ['Fix the cause named by the server-start-failed incident of this start (or the first ERROR of this run), then start Nexus again.'],
      };
    case 'short-run':
      return {
        cause: 'stopped-soon-after-start',
        explanation:
          `${label} shut itself down in order only ${duration(state.uptimeMs ?? 0)} after its JVM started, and no 'Started Sonatype Nexus' is in this log: ` +
          "Nexus stops itself this way when a start fails ('Failed to start nexus' shortly before).",
        confidence: 'low',
        remediation: ['Read the ERROR lines just before the shutdown: they say why the start failed (see server-start-failed).'],
      };
    case 'starting':
      return {
        cause: 'start-in-progress',
        explanation: `${label} was starting when this log ends; no 'Started Sonatype Nexus' yet, and no error that stopped it.`,
        confidence: 'high',
        remediation: ['If Nexus never finishes starting, read the log further: the first ERROR after these lines, or a thread dump if it hangs.'],
      };
    case 'running':
      return {
        cause: 'running',
        explanation: `${label} was running at the end of this log.`,
        confidence: 'high',
        remediation: ['Nothing to do for the run itself.'],
      };
    default:
      return {
        cause: 'clean-shutdown',
        explanation: `${label} stopped in order (its stop lines are in the log): a requested stop, such as a service or container stop, a restart or an upgrade.`,
        confidence: 'high',
        remediation: ['Nothing to do: the stop was orderly.'],
      };
  }
}

export const serverRun: Rule<Signal, State> = {
  id: 'server-run',
  title: 'Nexus server run: started, stopped, crashed or failed to start',
  severity: 'info',
  category: 'server',
  reads: [
    { levels: ['INFO'], loggers: ['NexusLogActivator'], literals: [{ text: 'start', at: 'start' }] },
    // The banner's own line in loose text (matched only there: a logged event never starts with it).
    { levels: ['ERROR'], literals: [{ text: BANNER, at: 'start' }] },
    { levels: ['INFO'], loggers: ['Launcher'], literals: [{ text: 'Java: ', at: 'start' }] },
    { levels: ['INFO'], loggers: ['ConfigurationBuilder'], literals: [{ text: 'Properties:', at: 'start' }, "nexus-edition='"] },
    { levels: ['INFO'], loggers: EDITION_LOGGERS, literals: [{ text: 'Loading ', at: 'start' }, { text: 'Installing: ', at: 'start' }] },
    { levels: ['INFO'], loggers: ['JettyServer'], literals: [{ text: 'Starting', at: 'start' }, { text: 'Stopp', at: 'start' }, BANNER], continuation: true },
    { levels: ['INFO'], loggers: ['NexusBundleTracker'], literals: [{ text: 'ACTIVATING ', at: 'start' }] },
    { levels: ['INFO'], loggers: ['NexusContextListener'], literals: [{ text: 'Running lifecycle phases', at: 'start' }, { text: 'Uptime: ', at: 'start' }] },
    { levels: ['INFO'], loggers: ['NexusLifecycleManager', 'ManagedLifecycleManager'], literals: [{ text: 'Shutting down', at: 'start' }, { text: 'Shutdown requested with an exit code of ', at: 'start' }] },
    { levels: ['INFO'], literals: [{ text: APP_STARTING, at: 'start' }, { text: APP_STARTED, at: 'start' }] },
    {
      levels: ['ERROR'],
      loggers: ['NexusContextListener', 'JettyServer', 'BootstrapListener'],
      literals: [{ text: 'Failed to start', at: 'start' }, { text: 'Start failed', at: 'start' }, { text: 'Failed to initialize', at: 'start' }],
    },
    { levels: ['ERROR'], loggers: ['BootFeaturesInstaller'], literals: [{ text: 'Error installing boot features', at: 'start' }] },
    { levels: ['ERROR'], literals: [{ text: 'FrameworkEvent ERROR', at: 'start' }], continuation: true },
  ],
  windowMs: Number.POSITIVE_INFINITY,

  match(event: AnyEvent) {
    if (event.kind !== 'nexus') return undefined;
    const logger = lastSegment(event.logger);
    // An excerpt that starts inside the banner (its JettyServer header not copied): loose text,
    // offered as ERROR of no logger, the banner's line first.
    if (event.logger === '' && event.timestampText === '' && event.message.startsWith(BANNER)) return bannerOf(event);
    if (event.level === 'ERROR') return matchError(event, logger);
    if (event.level === 'INFO') return matchInfo(event, logger);
    return undefined;
  },

  key(_signal, event) {
    return event.kind === 'nexus' ? (event.node ?? 'nexus') : 'nexus';
  },

  open(_signal, event) {
    return {
      node: event.kind === 'nexus' ? event.node : null,
      markers: [],
      startedAt: null,
      readyAt: null,
      version: null,
      edition: null,
      database: null,
      java: null,
      failure: null,
      failedAt: null,
      stoppingAt: null,
      uptimeAt: null,
      uptimeMs: null,
      exitCode: null,
    };
  },

  continues(state, s) {
    // A start marker or a banner after the run stopped, after it was ready, or that this start
    // already logged, is the next run.
    if (s.kind === 'start') return state.stoppingAt === null && state.readyAt === null && (s.marker === null || !state.markers.includes(s.marker));
    if (s.kind === 'ready') return state.stoppingAt === null && state.readyAt === null;
    return true;
  },

  add(state, s, event) {
    merge(state, s);
    // A line with no time (loose text, e.g. a banner pasted without its header) marks the step, at no time.
    const time = event.timeUnknown === true ? Number.NaN : event.time;
    switch (s.kind) {
      case 'start':
        state.startedAt ??= time;
        if (s.marker !== null && !state.markers.includes(s.marker)) state.markers.push(s.marker);
        return false;
      case 'ready':
        state.readyAt = time;
        return false;
      case 'failed':
        if (state.failure === null) {
          state.failure = s.failure;
          state.failedAt = time;
        }
        return false;
      case 'stopping':
        state.stoppingAt ??= time;
        if (s.uptimeMs !== null) {
          state.uptimeMs = s.uptimeMs;
          state.uptimeAt = time;
        }
        if (s.exitCode !== null && !Number.isNaN(s.exitCode)) state.exitCode = s.exitCode;
        return false;
      default:
        state.stoppingAt ??= time;
        return true;
    }
  },

  describe(state, group) {
    return describeRun(state, group);
  },
};
