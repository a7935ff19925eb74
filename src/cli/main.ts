/**
 * The CLI: options -> analyzeFiles -> formatted incidents on stdout. Thin wiring; the
 * analysis itself is the library's.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { CommanderError } from 'commander';
import type { Logger } from 'pino';
import type { Analyzer } from '../analyzer';
import { analyzeFiles } from '../api/analyze-files';
import type { Incident } from '../incidents/incident';
import { formatNdjson } from '../outputs/ndjson';
import { formatPretty } from '../outputs/pretty';
import { InputError } from '../source/input-error';
import { STDIN } from '../source/resolve-inputs';
import { createDiagnostics } from './diagnostics';
import { parseOptions, type CliOptions } from './options';

export const EXIT_OK = 0;
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

  const log = createDiagnostics(options.logFormat, process.stderr);
  const stdout = process.stdout;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    // The reader went away (`| head`): nothing more to say, and not a failure.
    if (error.code === 'EPIPE') process.exit(EXIT_OK);
    log.error(`cannot write output: ${error.message}`);
    process.exit(EXIT_USAGE_OR_INPUT);
  });

  const paths = options.paths.length === 0 ? [STDIN] : options.paths;
  if (options.paths.length === 0 && process.stdin.isTTY) {
    log.error('no input: give a nexus.log file, a log directory or a glob, or pipe a log into stdin (see --help)');
    return EXIT_USAGE_OR_INPUT;
  }

  const format = options.format ?? (stdout.isTTY ? 'pretty' : 'ndjson');
  const color = options.color ?? (stdout.isTTY === true && !('NO_COLOR' in process.env && process.env.NO_COLOR !== ''));
  // A terminal that reports no size (0 columns, e.g. a bare pty) gets the classic 80.
  const width = stdout.columns !== undefined && stdout.columns >= 40 ? Math.min(stdout.columns, 120) : 80;
  const render = format === 'ndjson' ? formatNdjson : (incident: Incident): string => formatPretty(incident, { color, width });

  // SIGINT/SIGTERM: stop reading, report every open group (closeReason "shutdown"), exit 0.
  // A second signal finds no handler and ends the process at once.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let failedInputs = 0;
  let analyzer: Analyzer | undefined;
  let count = 0;
  try {
    const incidents = analyzeFiles(paths, {
      signal: stop.signal,
      windowMs: options.windowMs,
      maxOpenGroups: options.maxOpenGroups,
      maxLineBytes: options.maxLineBytes,
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      analyzer: (created) => (analyzer = created),
      onInput: (name) => log.debug({ input: name }, `reading ${name}`),
      onInputError: (error) => {
        failedInputs++;
        log.error({ input: error.input }, error.message);
      },
    });
    for await (const incident of incidents) {
      count++;
      await writeOut(stdout, render(incident));
    }
  } catch (error) {
    if (error instanceof InputError) {
      log.error({ input: error.input }, error.message);
      return EXIT_USAGE_OR_INPUT;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  if (analyzer !== undefined) reportStats(analyzer, options, log);
  if (format === 'pretty') {
    const lines = analyzer?.stats.lines ?? 0;
    await writeOut(stdout, `${count === 0 ? 'No incidents' : count === 1 ? '1 incident' : `${count} incidents`} in ${lines} lines.\n`);
  }
  return failedInputs > 0 ? EXIT_USAGE_OR_INPUT : EXIT_OK;
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
