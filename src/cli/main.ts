/**
 * The CLI: options -> analyzeFiles -> formatted incidents on stdout, plus the optional
 * summary, HTML report, progress line and stats. Thin wiring; the analysis is the library's.
 */
import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import type { Logger } from 'pino';
import type { Analyzer } from '../analyzer';
import { analyzeFiles } from '../api/analyze-files';
import { atLeast, type Incident } from '../incidents/incident';
import { HtmlReport } from '../outputs/html-report';
import { formatNdjson } from '../outputs/ndjson';
import { createPinoRecords } from '../outputs/pino-records';
import { formatPretty } from '../outputs/pretty';
import { ProgressLine } from '../outputs/progress';
import { SummaryCollector } from '../outputs/summary';
import { builtinRules, OPTIONAL_RULES } from '../rules/builtin/index';
import { loadRuleFile } from '../rules/load-rules';
import type { AnyRule } from '../rules/rule';
import { InputError } from '../source/input-error';
import { STDIN } from '../source/resolve-inputs';
import { findDefaultLogFolder } from './default-input';
import { createDiagnostics } from './diagnostics';
import { parseOptions, type CliOptions } from './options';

export const EXIT_OK = 0;
export const EXIT_FAIL_ON = 1;
export const EXIT_USAGE_OR_INPUT = 2;

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
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
  const stdout = process.stdout;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    // The reader went away (`| head`): nothing more to say, and not a failure.
    if (error.code === 'EPIPE') process.exit(EXIT_OK);
    log.error(`cannot write output: ${error.message}`);
    process.exit(EXIT_USAGE_OR_INPUT);
  });

  let rules: AnyRule[];
  try {
    rules = [...builtinRules({ windowMs: options.windowMs, optional: options.optionalRules }), ...options.rules.flatMap((file) => loadRuleFile(file))];
  } catch (error) {
    if (error instanceof RangeError) {
      log.error(`--rule: ${error.message}`);
      return EXIT_USAGE_OR_INPUT;
    }
    if (!(error instanceof InputError)) throw error;
    log.error({ input: error.input }, error.message);
    return EXIT_USAGE_OR_INPUT;
  }
  if (options.listRules) {
    const inactive = Object.entries(OPTIONAL_RULES).filter(([id]) => !rules.some((rule) => rule.id === id)).map(([, make]) => make());
    await writeOut(stdout, formatRuleList(rules, inactive));
    return EXIT_OK;
  }

  const paths = inputPaths(options, log);
  if (paths === undefined) return EXIT_USAGE_OR_INPUT;

  const format = options.format ?? (stdout.isTTY ? 'pretty' : 'ndjson');
  const color = options.color ?? (stdout.isTTY === true && !('NO_COLOR' in process.env && process.env.NO_COLOR !== ''));
  // A terminal that reports no size (0 columns, e.g. a bare pty) gets the classic 80.
  const width = stdout.columns !== undefined && stdout.columns >= 40 ? Math.min(stdout.columns, 120) : 80;
  const render =
    format === 'ndjson' ? formatNdjson : format === 'pino' ? createPinoRecords() : (incident: Incident): string => formatPretty(incident, { color, width });
  const summary = options.summary ? new SummaryCollector() : null;
  const report = options.report === undefined ? null : new HtmlReport();

  // SIGINT/SIGTERM: stop reading, report every open group (closeReason "shutdown"), exit 0.
  // A second signal finds no handler and ends the process at once.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let inputs: readonly string[] = [];
  const inputsRead: string[] = [];
  let failedInputs = 0;
  let analyzer: Analyzer | undefined;
  let count = 0;
  let failOnHit = false;
  const progress = createProgress(options, paths, () => ({ analyzer, inputs, inputsRead: inputsRead.length, count }));
  try {
    const incidents = analyzeFiles(paths, {
      signal: stop.signal,
      windowMs: options.windowMs,
      maxOpenGroups: options.maxOpenGroups,
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
        progress?.start();
      },
      onInput: (name) => {
        inputsRead.push(name);
        log.debug({ input: name }, `reading ${name}`);
      },
      onInputError: (error) => {
        failedInputs++;
        progress?.clear(); // the message gets its own line; the progress line comes back
        log.error({ input: error.input }, error.message);
      },
    });
    for await (const incident of incidents) {
      if (stdout.isTTY === true) progress?.clear(); // same terminal: keep the line out of the block
      await writeOut(stdout, render(incident));
      if (incident.lifecycle !== 'closed') continue; // counts and reports are about finished incidents
      count++;
      if (options.failOn !== undefined && atLeast(incident.severity, options.failOn)) failOnHit = true;
      summary?.add(incident);
      report?.add(incident);
    }
  } catch (error) {
    if (error instanceof InputError) {
      log.error({ input: error.input }, error.message);
      return EXIT_USAGE_OR_INPUT;
    }
    throw error;
  } finally {
    progress?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  if (analyzer !== undefined) reportStats(analyzer, options, log);
  const stats = analyzer?.stats;
  if (format === 'pretty') {
    const lines = stats?.lines ?? 0;
    await writeOut(stdout, `${count === 0 ? 'No incidents' : count === 1 ? '1 incident' : `${count} incidents`} in ${lines} lines.\n`);
  }
  if (summary !== null && stats !== undefined) {
    const text = summary.format({ stats, inputs: inputsRead.length, width });
    // stdout stays one JSON object per line in ndjson and pino formats: the table goes to stderr then.
    if (format === 'pretty') await writeOut(stdout, `\n${text}`);
    else process.stderr.write(text);
  }
  if (report !== null && stats !== undefined && options.report !== undefined) {
    try {
      writeFileSync(options.report, report.render({ stats, inputs: inputsRead, generatedAt: new Date() }));
      log.info(`report written to ${options.report}`);
    } catch (error) {
      log.error(`${options.report}: cannot write the report: ${(error as Error).message}`);
      return EXIT_USAGE_OR_INPUT;
    }
  }
  if (failedInputs > 0) return EXIT_USAGE_OR_INPUT;
  return failOnHit ? EXIT_FAIL_ON : EXIT_OK;
}

/**
 * The paths to read. With none given: stdin when something is piped in; on a terminal, the
 * usual Nexus log folder, or a short help and undefined when there is none.
 */
function inputPaths(options: CliOptions, log: Logger): string[] | undefined {
  if (options.paths.length > 0) return options.paths;
  if (!process.stdin.isTTY) return [STDIN];
  const folder = findDefaultLogFolder();
  if (folder === undefined) {
    log.error(
      'no input: give a nexus.log file, a log directory or a glob, or pipe a log into stdin. ' +
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
    return { total, gzip: inputs.some((name) => name.endsWith('.gz')) };
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

/** `--list-rules`: id, severity, title, and the literals each rule looks for; optional ones marked. */
function formatRuleList(rules: readonly AnyRule[], inactive: readonly AnyRule[]): string {
  const describe = (rule: AnyRule, off: boolean): string => {
    const levels = rule.levels === undefined ? 'any level' : rule.levels.join('/');
    const state = off ? `, optional: --rule ${rule.id}` : '';
    return `${rule.id}  (${rule.severity}${state})\n  ${rule.title}\n  looks for, in ${levels} lines: ${rule.prefilter.map((l) => JSON.stringify(l)).join(', ')}\n`;
  };
  const lines = [...rules.map((rule) => describe(rule, false)), ...inactive.map((rule) => describe(rule, true))];
  return `${lines.join('\n')}\nPages: docs/rules/<id>.md. Your own rules: --rules <file> (docs/rules/custom-rules.md).\n`;
}

function reportStats(analyzer: Analyzer, options: CliOptions, log: Logger): void {
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
  if (stats.lines > 0 && stats.events === 0) {
    log.warn(`no Nexus log event in ${stats.lines} lines read: is this a nexus.log? (layouts: docs/architecture.md)`);
  }
  if (stats.truncatedLines > 0) {
    log.warn(`${stats.truncatedLines} line(s) longer than ${options.maxLineBytes} bytes were cut (see --max-line-bytes)`);
  }
  if (stats.evicted > 0) {
    log.warn(`${stats.evicted} open push(es) were reported early: more than ${options.maxOpenGroups} were open at once`);
  }
}

async function writeOut(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
