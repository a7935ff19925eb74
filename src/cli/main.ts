/**
 * The CLI: options -> analyzeFiles -> formatted incidents on stdout, plus the optional
 * summary, HTML report, progress line and stats. Thin wiring; the analysis is the library's.
 */
import { thousands } from '../format-number';
import { once } from 'node:events';
import { accessSync, closeSync, constants, lstatSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import type { Analyzer } from '../analyzer';
import { analyzeFiles } from '../api/analyze-files';
import { atLeast, type Incident } from '../incidents/incident';
import type { HtmlReport } from '../outputs/html-report';
import { formatNdjson } from '../outputs/ndjson';
import { formatPretty, visible, visibleLine } from '../outputs/pretty';
import { ProgressLine } from '../outputs/progress';
import { SummaryCollector } from '../outputs/summary';
import { builtinRules } from '../rules/builtin/index';
import { installedPath, packageVersion, publishedAddress } from '../rules/docs-address';
import { loadRuleFile } from '../rules/load-rules';
import { RuleError, type AnyRule } from '../rules/rule';
import { InputError } from '../source/input-error';
import { STDIN } from '../source/resolve-inputs';
import { describeSupportZip } from '../source/support-zip';
import { checkFleetOptions } from '../fleet/cli-options';
import { findDefaultLogFolder } from './default-input';
import { createDiagnostics, type Diagnostics } from './diagnostics';
import { startMemoryRelief } from './memory-relief';
import { colorWanted, parseOptions, type CliOptions } from './options';

export const EXIT_OK = 0;
export const EXIT_FAIL_ON = 1;
export const EXIT_USAGE_OR_INPUT = 2;
export const EXIT_RULE_FAILED = 70;

/** After a stop signal, the time given to the reading loop to finish by itself before open groups are reported from here. */
const STOP_GRACE_MS = 600;
/** After a signal, how long what is left to write may wait for a reader of stdout. */
const STOP_DRAIN_MS = 300;

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // Fleet: `fleet` is a command of its own; --publish makes --follow the edge (src/fleet, loaded only then).
  if (argv[2] === 'fleet') return (require('../fleet/fleet-command') as typeof import('../fleet/fleet-command')).runFleetCommand([...argv.slice(0, 2), ...argv.slice(3)]);
  let options: CliOptions;
  try {
    options = parseOptions(argv, packageVersion());
  } catch (error) {
    if (error instanceof CommanderError) {
      const done = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      return done ? EXIT_OK : EXIT_USAGE_OR_INPUT;
    }
    throw error;
  }

  const log = createDiagnostics(options.logFormat, process.stderr, options.quiet ? 'warn' : 'info');
  startMemoryRelief();
  const stdout = process.stdout;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    // The reader went away (`| head`): nothing more to say, and not a failure.
    if (error.code === 'EPIPE') process.exit(EXIT_OK);
    log.error(`cannot write output: ${error.message}`);
    process.exit(EXIT_USAGE_OR_INPUT);
  });

  // Everything that can be checked is checked before any input is read.
  const problem = checkOptions(options);
  if (problem !== null) {
    log.error(problem);
    return EXIT_USAGE_OR_INPUT;
  }
  if (options.legacyRules.length > 0) log.warn(`--rule ${options.legacyRules.join(', ')}: every built-in rule is on by default now; --disable-rule <id> leaves one out`);

  let rules: AnyRule[];
  try {
    rules = [...builtinRules({ windowMs: options.windowMs, disabled: options.disabledRules }), ...options.rules.flatMap((file) => loadRuleFile(file))];
    const ids = new Set<string>();
    for (const rule of rules) {
      if (ids.has(rule.id)) throw new InputError(options.rules.join(', '), `rule id '${rule.id}' is used twice (a built-in rule has it, or two files): rule ids must be unique`);
      ids.add(rule.id);
    }
  } catch (error) {
    if (error instanceof RangeError) {
      log.error(`--disable-rule: ${error.message}`);
      return EXIT_USAGE_OR_INPUT;
    }
    if (!(error instanceof InputError)) throw error;
    log.error({ input: error.input }, error.message);
    return EXIT_USAGE_OR_INPUT;
  }
  if (options.listRules) {
    await writeOut(stdout, visible(formatRuleList(rules)));
    return EXIT_OK;
  }

  const paths = inputPaths(options, log);
  if (paths === undefined) return EXIT_USAGE_OR_INPUT;
  if (options.publish !== undefined) return (require('../fleet/edge-command') as typeof import('../fleet/edge-command')).runEdgeCommand(options, paths[0] as string, rules, log);
  // --metrics with --follow: Prometheus text of what is read and found (docs/metrics.md).
  const Metrics = options.metrics === undefined ? null : (require('../outputs/metrics') as typeof import('../outputs/metrics')).Metrics;
  const metrics = Metrics === null ? null : new Metrics('follow');
  const metricsServer = metrics === null ? null : await metrics.serve(options.metrics as string).catch((error: Error) => error);
  if (metricsServer instanceof Error) {
    log.error(`--metrics ${options.metrics}: ${metricsServer.message}`);
    return EXIT_USAGE_OR_INPUT;
  }
  if (metricsServer !== null) log.info(`metrics: ${metricsServer.url}`);

  const format = options.format ?? (stdout.isTTY ? 'pretty' : 'ndjson');
  const color = colorWanted(options.color, stdout.isTTY === true);
  // A terminal that reports no size (0 columns, e.g. a bare pty) gets the classic 80.
  const width = stdout.columns !== undefined && stdout.columns >= 40 ? Math.min(stdout.columns, 120) : 80;
  // Outputs not asked for are not loaded (start-up time on every run).
  const render =
    format === 'ndjson'
      ? formatNdjson
      : format === 'pino'
        ? (require('../outputs/pino-records') as typeof import('../outputs/pino-records')).createPinoRecords()
        : (incident: Incident): string => formatPretty(incident, { color, width });
  const summary = options.summary || format === 'pretty' ? new SummaryCollector() : null;
  // The class first, then `new`: TypeScript 7 emits `new (require(...) as T).C()` as `new require(...).C()`.
  const Report = options.report === undefined ? null : (require('../outputs/html-report') as typeof import('../outputs/html-report')).HtmlReport;
  const report: HtmlReport | null = Report === null ? null : new Report();

  let inputs: readonly string[] = [];
  const inputsRead: string[] = [];
  let failedInputs = 0;
  let analyzer: Analyzer | undefined;
  let count = 0;
  let failOnHit = false;
  let finished = false;
  const account = (incident: Incident): void => {
    if (incident.lifecycle !== 'closed') return; // counts and reports are about finished incidents
    count++;
    if (options.failOn !== undefined && atLeast(incident.severity, options.failOn)) failOnHit = true;
    summary?.add(incident);
    report?.add(incident);
  };

  // SIGINT/SIGTERM: stop reading and report every open group (closeReason "shutdown"), exit 0.
  // If the reading loop is stuck (a FIFO with no writer yet), the open groups are reported from
  // here after a short grace. Once the run has stopped its analyzer, it is writing what was open
  // and ends by itself: exiting then would lose those. A second signal ends the process at once.
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
    setTimeout(() => {
      if (finished || analyzer?.hasEnded === true) return;
      const code = options.failOn !== undefined && failOnHit ? EXIT_FAIL_ON : EXIT_OK;
      if (stdout.writableNeedDrain) {
        // stdout is full and its reader is not reading (that is why the run is stuck): what is open cannot be delivered.
        process.stderr.write(`nexus-log-analyzer: warning: stdout is not being read: ${analyzer?.stats.openGroups ?? 0} open problem(s) not written\n`);
        process.exit(code);
      }
      const open = analyzer !== undefined && !analyzer.hasEnded ? analyzer.shutdown() : [];
      // Through the stream, after what it still holds (a direct write could cut a queued line in two).
      for (const incident of open) {
        stdout.write(render(incident));
        account(incident);
      }
      progress?.stop();
      if (stdout.writableLength === 0) process.exit(code);
      // stdout full and not read (a stuck consumer): wait a little for it, then end anyway, saying so.
      const giveUp = setTimeout(() => {
        process.stderr.write(`nexus-log-analyzer: warning: stdout is not being read: ${stdout.writableLength} bytes of incidents could not be written\n`);
        process.exit(code);
      }, STOP_DRAIN_MS);
      stdout.once('drain', () => {
        clearTimeout(giveUp);
        process.exit(code);
      });
    }, STOP_GRACE_MS).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const progress = createProgress(options, paths, () => ({ analyzer, inputs, inputsRead: inputsRead.length, count }));
  try {
    const incidents = analyzeFiles(paths, {
      signal: stop.signal,
      windowMs: options.windowMs,
      maxOpenGroups: options.maxOpenGroups,
      maxOpenBytes: options.maxOpenBytes,
      maxLineBytes: options.maxLineBytes,
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.until === undefined ? {} : { until: options.until }),
      ...(options.follow ? { follow: true, fromStart: options.fromStart } : {}),
      lifecycle: options.lifecycle,
      rules,
      onInputs: (names) => (inputs = names),
      analyzer: (created) => {
        analyzer = created;
        metrics?.watchAnalyzer(() => analyzer);
        progress?.start();
      },
      onInput: (name) => {
        inputsRead.push(name);
        log.debug({ input: name }, `reading ${name}`);
        if (options.ready && !options.follow) process.stderr.write(`ready: reading ${visibleLine(name)}\n`);
      },
      // Following: ready once the file is open at its start position (or waited for), not before.
      onReady: ({ path: file, position }) => {
        if (options.ready) process.stderr.write(`ready: following ${visibleLine(file)} at ${position ?? 'start'}\n`);
      },
      onInputError: (error) => {
        failedInputs++;
        progress?.clear(); // the message gets its own line; the progress line comes back
        log.error({ input: error.input }, error.message);
      },
      onWarning: (warning) => {
        progress?.clear();
        log.warn({ input: warning.path }, warning.message);
      },
      onSupportZip: (zip) => {
        progress?.clear();
        log.info({ input: zip.path }, `support zip ${zip.path}: ${describeSupportZip(zip)}`);
      },
    });
    for await (const incident of incidents) {
      if (stdout.isTTY === true) progress?.clear(); // same terminal: keep the line out of the block
      await writeOut(stdout, render(incident));
      account(incident);
      metrics?.incident(incident);
    }
  } catch (error) {
    if (error instanceof InputError) {
      log.error({ input: error.input }, error.message);
      return EXIT_USAGE_OR_INPUT;
    }
    if (error instanceof RuleError) {
      log.error({ rule: error.rule }, `${error.message} (a bug in that rule: please report it with the line that caused it)`);
      return EXIT_RULE_FAILED;
    }
    if (error instanceof RangeError) {
      log.error(error.message);
      return EXIT_USAGE_OR_INPUT;
    }
    throw error;
  } finally {
    finished = true;
    progress?.stop();
    await metricsServer?.close();
    // The handlers stay to the end: a signal while the summary or the report is made must not kill
    // the process half-way (their default action); `finished` makes them leave it to end by itself.
    process.once('exit', () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    });
  }

  if (analyzer !== undefined) reportStats(analyzer, options, log);
  const stats = analyzer?.stats;
  if (format === 'pretty' && !options.summary) {
    const lines = stats?.lines ?? 0;
    await writeOut(stdout, `${count === 0 ? 'No incidents' : count === 1 ? '1 incident' : `${count} incidents`} in ${thousands(lines)} lines.\n`);
  }
  if (options.summary && summary !== null && stats !== undefined) {
    const text = summary.format({ stats, inputs: inputsRead.length, width, color: format === 'pretty' && color });
    // stdout stays one JSON object per line in ndjson and pino formats: the table goes to stderr then.
    if (format === 'pretty') await writeOut(stdout, `\n${text}`);
    else process.stderr.write(text);
  }
  if (report !== null && stats !== undefined && options.report !== undefined) {
    try {
      writeReport(options.report, (write) => report.renderTo({ stats, inputs: inputsRead, generatedAt: new Date() }, write));
      log.info(`report written to ${options.report}`);
    } catch (error) {
      log.error(`${options.report}: cannot write the report: ${(error as Error).message}`);
      return EXIT_USAGE_OR_INPUT;
    }
  }
  if (failOnHit) return EXIT_FAIL_ON;
  if (failedInputs > 0) return EXIT_USAGE_OR_INPUT;
  return EXIT_OK;
}

/**
 * Writes the report piece by piece (the page of thousands of incidents never exists whole in
 * memory). A regular file (or a new one) is written beside and renamed: whole or not there, never
 * cut by a stop or a full disk; through a symlink, at its target. A device or a FIFO
 * (`/dev/stdout`, a pipe) is written in place: replacing it would destroy it.
 */
function writeReport(target: string, render: (write: (text: string) => void) => void): void {
  let real = target;
  try {
    real = realpathSync(target);
  } catch {
    // Not there yet: created below; a dangling symlink is written at the path it points to.
    try {
      if (lstatSync(target).isSymbolicLink()) real = path.resolve(path.dirname(target), readlinkSync(target));
    } catch {
      // nothing at the path
    }
  }
  const existing = statOrNull(real);
  if (existing !== null && !existing.isFile()) {
    const fd = openSync(real, 'w');
    try {
      render((text) => writeSync(fd, text));
    } finally {
      closeSync(fd);
    }
    return;
  }
  const partial = `${real}.${process.pid}.partial`;
  const fd = openSync(partial, 'w');
  let open = true;
  try {
    render((text) => writeSync(fd, text));
    closeSync(fd);
    open = false;
    renameSync(partial, real);
  } catch (error) {
    if (open) closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

/** What can be wrong with the options before reading starts; null when nothing. */
function checkOptions(options: CliOptions): string | null {
  const fleetProblem = checkFleetOptions(options);
  if (fleetProblem !== null) return fleetProblem;
  if (options.since !== undefined && options.until !== undefined && options.since >= options.until) {
    return `--since (${new Date(options.since).toISOString()}) must be before --until (${new Date(options.until).toISOString()}): nothing could match`;
  }
  if (options.follow && options.paths.length > 1) return '--follow takes exactly one file or log folder';
  if (options.fromStart && !options.follow) return '--from-start goes with --follow';
  if (options.report !== undefined) {
    const target = path.resolve(options.report);
    try {
      if (statSync(target).isDirectory()) return `--report ${options.report}: is a directory; give a file name, e.g. ${path.join(options.report, 'report.html')}`;
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return `--report ${options.report}: cannot write it (${code ?? (error as Error).message})`;
      try {
        accessSync(path.dirname(target), constants.W_OK);
      } catch (dirError) {
        const dirCode = (dirError as NodeJS.ErrnoException).code;
        return `--report ${options.report}: ${dirCode === 'ENOENT' ? 'its folder does not exist' : `cannot write in its folder (${dirCode ?? 'error'})`}`;
      }
    }
  }
  return null;
}

/**
 * The paths to read. With none given: stdin when something is piped in; on a terminal, the
 * usual Nexus log folder, or a short help and undefined when there is none.
 */
function inputPaths(options: CliOptions, log: Diagnostics): string[] | undefined {
  if (options.paths.length > 0) return options.paths;
  if (!process.stdin.isTTY) return [STDIN];
  const folder = findDefaultLogFolder();
  if (folder === undefined) {
    log.error(
      'no input: give a nexus.log file, a log directory, a support zip or a glob, or pipe a log into stdin. ' +
        'No log folder found at $NEXUS_DATA/log, /nexus-data/log or ./sonatype-work/nexus3/log (see --help)',
    );
    return undefined;
  }
  log.info(`no path given: reading ${folder}`);
  return [folder];
}

interface ProgressState {
  analyzer: Analyzer | undefined;
  inputs: readonly string[];
  inputsRead: number;
  count: number;
}

/** A progress line on a terminal's stderr when files are read (not for pipes, not with --quiet). */
function createProgress(options: CliOptions, paths: readonly string[], state: () => ProgressState): ProgressLine | null {
  if (options.quiet || options.follow || process.stderr.isTTY !== true || paths.includes(STDIN)) return null;
  let sizes: { total: number; gzip: boolean } | null = null;
  const measure = (inputs: readonly string[]): { total: number; gzip: boolean } => {
    let total = 0;
    for (const name of inputs) {
      try {
        total += statSync(name).size;
      } catch {
        // a file that vanished is reported by the reader
      }
    }
    return { total, gzip: inputs.some((name) => name.endsWith('.gz') || name.endsWith('.zip')) };
  };
  return new ProgressLine(process.stderr, {
    fraction: () => {
      const { analyzer, inputs, inputsRead } = state();
      if (inputs.length === 0) return 0;
      sizes ??= measure(inputs);
      // Compressed sizes do not compare with bytes read: count finished files instead.
      if (sizes.gzip || sizes.total === 0) return Math.max(0, inputsRead - 1) / inputs.length;
      return (analyzer?.stats.bytes ?? 0) / sizes.total;
    },
    readBytes: () => state().analyzer?.stats.bytes ?? 0,
    inputsDone: () => Math.max(0, state().inputsRead - 1),
    inputs: () => state().inputs.length,
    incidents: () => state().count,
  });
}

/** `--list-rules`: id, severity, category, title, what each rule reads, and where its page is. */
function formatRuleList(rules: readonly AnyRule[]): string {
  const describe = (rule: AnyRule): string => {
    const reads = rule.reads.map((spec) => {
      const input = spec.input ?? 'nexus';
      const literals = (spec.literals ?? []).map((l) => JSON.stringify(typeof l === 'string' ? l : l.text)).join(', ');
      if (input === 'request' || input === 'outbound') {
        const statuses = 'statuses' in spec && spec.statuses !== undefined ? ` statuses ${spec.statuses.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')}` : '';
        return `${input}.log lines${statuses}${literals === '' ? '' : ` holding ${literals}`}`;
      }
      const levels = 'levels' in spec && spec.levels !== undefined ? spec.levels.join('/') : 'all';
      const loggers = 'loggers' in spec && spec.loggers !== undefined ? ` from ${spec.loggers.join(', ')}` : '';
      return `${input === 'nexus' ? '' : `${input} log `}${levels} lines${loggers} holding ${literals}${'continuation' in spec && spec.continuation === true ? ' (stack traces too)' : ''}`;
    });
    const page = `docs/rules/${rule.docs ?? `${rule.id}.md`}`;
    return `${rule.id}  (${rule.severity}, ${rule.category})\n  ${rule.title}\n${reads.map((r) => `  reads ${r}\n`).join('')}  page: ${installedPath(page) ?? publishedAddress(page)}\n`;
  };
  return `${rules.map(describe).join('\n')}\nEvery built-in rule is on; --disable-rule <id> leaves one out. Your own rules: --rules <file> (${publishedAddress('docs/rules/custom-rules.md')}).\n`;
}

function reportStats(analyzer: Analyzer, options: CliOptions, log: Diagnostics): void {
  const stats = analyzer.stats;
  if (options.stats) {
    const byRule = Object.entries(stats.incidentsByRule).map(([rule, n]) => `${rule} ${n}`).join(', ');
    log.info(
      { stats },
      `stats: ${stats.lines} lines (${stats.bytes} bytes), ${stats.events} events, ${stats.relevantEvents} relevant, ` +
        `${stats.unparsedLines} unparsed lines, ${stats.truncatedLines} truncated, ${stats.lateEvents} late, ` +
        `${stats.duplicateEvents} duplicate; ${stats.incidents} incidents${byRule === '' ? '' : ` (${byRule})`}, ` +
        `${stats.evicted} evicted`,
    );
  }
  // Loose text that told something (a pasted stack trace, a task e-mail) needs no warning.
  if (stats.lines > 0 && stats.events === 0 && stats.incidents === 0) {
    log.warn(
      `no log record in ${stats.lines} lines read: is this a nexus.log? Layouts read: nexus.log, console output, docker compose, kubectl, stern, CRI and ` +
        `json-file container logs, docker logs -t, the systemd journal, quoted or indented excerpts, request.log, audit.log, support zips (${publishedAddress('docs/architecture.md')})`,
    );
  }
  if (analyzer.crLineEndings) log.info('the input ends its lines with a lone carriage return (\\r): read as line ends');
  if (stats.truncatedLines > 0) log.warn(`${stats.truncatedLines} line(s) longer than ${options.maxLineBytes} bytes were cut (see --max-line-bytes)`);
  if (stats.evicted > 0) log.warn(`${stats.evicted} open problem(s) were reported early: more than ${options.maxOpenGroups} groups or ${options.maxOpenBytes} bytes were open at once`);
}

async function writeOut(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
