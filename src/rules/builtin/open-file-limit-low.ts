/**
 * Rule `open-file-limit-low`: the open-file limit of the Nexus process is below what Nexus needs
 * (warned once at start), or the process ran out of file descriptors (`Too many open files`,
 * an error then). One incident per server while it goes on.
 *
 *   FileDescriptorServiceImpl WARN WARNING: ****************************************     (banner, part of the warning)
 *   FileDescriptorServiceImpl WARN WARNING: The open file descriptor limit is 4096 which is below the minimum recommended value of 65536.
 *   FileDescriptorServiceImpl WARN WARNING: Please see: http://links.sonatype.com/products/nexus/system-reqs#filehandles
 *   <any> WARN/ERROR ... java.io.IOException: Too many open files | java.net.SocketException: Too many open files
 *                        | java.io.FileNotFoundException: /nexus-data/... (Too many open files)      (JVM-5, message or exception line)
 */
import { thousands } from '../../format-number';
import type { NexusEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { textsOf } from './exception-lines';
import { cut, exceptionClassOf, looksLikePath, nexusEventOf, onServer, remember, serverOf } from './storage-texts';
import { howOften, listOf, plural } from './wording';

const WARNING = 'WARNING: ';
const LIMIT = 'The open file descriptor limit is ';
const BELOW = ' which is below the minimum recommended value of ';
const TOO_MANY = 'Too many open files';

export type FileLimitSignal =
  | { type: 'banner'; server: string }
  | { type: 'limit'; server: string; limit: number; minimum: number; line: string }
  | { type: 'exhausted'; server: string; exception: string | null; path: string | null; line: string };

/** `WARNING: The open file descriptor limit is 4096 which is below the minimum recommended value of 65536.` */
export function parseLimitWarning(message: string): { limit: number; minimum: number } | undefined {
  const at = message.indexOf(LIMIT);
  if (at === -1) return undefined;
  const below = message.indexOf(BELOW, at);
  if (below === -1) return undefined;
  const limit = Number(message.slice(at + LIMIT.length, below));
  let end = below + BELOW.length;
  while (end < message.length && message.charCodeAt(end) >= 0x30 && message.charCodeAt(end) <= 0x39) end++;
  const minimum = Number(message.slice(below + BELOW.length, end));
  return Number.isFinite(limit) && end > below + BELOW.length ? { limit, minimum } : undefined;
}

/** A `Too many open files` line: the exception and the file it could not open, if named. */
export function parseTooManyOpenFiles(line: string): { exception: string | null; path: string | null } | undefined {
  const at = line.indexOf(TOO_MANY);
  if (at === -1) return undefined;
  const exception = exceptionClassOf(line);
  let path: string | null = null;
  // `FileNotFoundException: /nexus-data/x (Too many open files)`
  if (line.charCodeAt(at - 1) === 0x28) {
    const colon = line.lastIndexOf(': ', at);
    const candidate = colon === -1 ? '' : line.slice(colon + 2, at - 1).trim();
    if (looksLikePath(candidate)) path = candidate;
  }
  return { exception, path };
}

export function parseFileLimit(event: NexusEvent): FileLimitSignal | undefined {
  const server = serverOf(event);
  if (event.logger.endsWith('FileDescriptorServiceImpl') && event.message.startsWith(WARNING)) {
    const limit = parseLimitWarning(event.message);
    if (limit !== undefined) return { type: 'limit', server, ...limit, line: cut(event.message) };
    // The `****` lines around it and `Please see: <link>` are part of the same warning.
    return { type: 'banner', server };
  }
  for (const text of textsOf(event)) {
    const found = text.includes(TOO_MANY) ? parseTooManyOpenFiles(text) : undefined;
    if (found !== undefined) return { type: 'exhausted', server, ...found, line: cut(text) };
  }
  return undefined;
}

interface State {
  server: string;
  limit: number | null;
  minimum: number | null;
  exhausted: number;
  /** Event times of the first and last `Too many open files`. */
  exhaustedFrom: number | null;
  exhaustedTo: number | null;
  exceptions: string[];
  firstError: string | null;
}

export const openFileLimitLow: Rule<FileLimitSignal, State> = {
  id: 'open-file-limit-low',
  title: 'Open-file limit of the Nexus process too low, or file descriptors exhausted',
  severity: 'warning',
  category: 'server',
  reads: [
    { levels: ['WARN'], loggers: ['FileDescriptorServiceImpl'], literals: [{ text: WARNING, at: 'start' }] },
    { levels: ['WARN', 'ERROR'], literals: [TOO_MANY], continuation: true },
  ],
  windowMs: 30 * 60_000,
  distinctLimit: 10,

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseFileLimit(nexus);
  },

  key(signal) {
    return signal.server;
  },

  open(signal) {
    return { server: signal.server, limit: null, minimum: null, exhausted: 0, exhaustedFrom: null, exhaustedTo: null, exceptions: [], firstError: null };
  },

  distinct(signal) {
    return signal.type === 'exhausted' && signal.path !== null ? { path: signal.path } : undefined;
  },

  add(state, signal, event) {
    if (signal.type === 'limit') {
      state.limit = signal.limit;
      state.minimum = signal.minimum;
    } else if (signal.type === 'exhausted') {
      state.exhausted++;
      state.exhaustedFrom ??= event.time;
      state.exhaustedTo = event.time;
      state.firstError ??= signal.line;
      remember(state.exceptions, signal.exception);
    }
  },

  describe(state, group) {
    // The banner lines alone (an excerpt cut after them) say nothing.
    if (state.limit === null && state.exhausted === 0) return null;
    const exhausted = state.exhausted > 0;
    const limitText = state.limit === null ? null : `${thousands(state.limit)}`;
    const minimum = state.minimum ?? 65536;
    const paths = group.distinct.path ?? { values: [], total: 0 };
    const summary = exhausted
      ? `Nexus${onServer(state.server)} ran out of file descriptors ("Too many open files"): ${howOften(state.exhausted, state.exhaustedFrom ?? group.firstTime, state.exhaustedTo ?? group.lastTime)}` +
        `${paths.total > 0 ? `, ${plural(paths.total, 'file')} (${listOf(paths.values, paths.total, 2)})` : ''}` +
        `${limitText === null ? '' : `; its limit is ${limitText}, below the ${thousands(minimum)} Nexus needs`}.`
      : `Nexus${onServer(state.server)} started with an open-file limit of ${limitText as string}, below the ${thousands(minimum)} it needs: under load it will fail with "Too many open files".`;
    return {
      subject: { type: 'jvm', name: state.server }, // the Nexus process's limit: not a server run in the triage view
      fingerprint: [state.server, exhausted ? 'exhausted' : 'limit'],
      summary,
      severity: exhausted ? 'error' : 'warning',
      facts: {
        ...(state.limit === null ? {} : { 'open-file limit': state.limit }),
        'recommended minimum': minimum,
        ...(exhausted ? { 'too many open files': state.exhausted, exceptions: state.exceptions } : {}),
      },
      diagnosis: {
        cause: exhausted ? 'file-descriptors-exhausted' : 'nofile-limit-below-minimum',
        explanation: exhausted
          ? `The Nexus process reached its limit of open files (sockets count too), so opening blobs, database files or connections fails. ` +
            `${state.limit === null ? 'Either the limit is too low (Nexus needs at least 65536) or descriptors leak (e.g. connections not closed).' : `Its limit is ${limitText as string}: far below the 65536 Nexus needs.`} First error: ${state.firstError as string}`
          : `The operating system lets the Nexus process open only ${limitText as string} files (ulimit -n / nofile); Nexus needs at least ${thousands(minimum)} (blob store files, database files, sockets). Under load requests will fail with "Too many open files".`,
        confidence: 'high',
        remediation: [
          'Raise the nofile limit of the user or service running Nexus to at least 65536: LimitNOFILE=65536 in the [Service] section of the systemd unit (then systemctl daemon-reload and restart); ' +
            '`nexus - nofile 65536` in /etc/security/limits.conf for an init script; `--ulimit nofile=65536:65536` for docker run (ulimits in compose, the runtime default on Kubernetes).',
          'Restart Nexus and check the limit it got: cat /proc/<nexus pid>/limits ("Max open files"); the warning is gone from nexus.log at start.',
          ...(exhausted ? ['If the limit is already high, count the open descriptors (ls /proc/<pid>/fd | wc -l) over time: a steady rise means a leak (e.g. connections to a remote or a blob store not closed).'] : []),
        ],
        references: [{ title: 'Sonatype: adequate file handle limits (system requirements)', url: 'http://links.sonatype.com/products/nexus/system-reqs#filehandles' }],
      },
    };
  },
};
