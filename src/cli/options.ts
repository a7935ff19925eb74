/** Command-line options: parsing, validation and --help text. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../analyzer';
import type { LogFormat } from './diagnostics';

export type OutputFormat = 'pretty' | 'ndjson';

export interface CliOptions {
  paths: string[];
  /** Unset: pretty on a terminal, ndjson otherwise. */
  format: OutputFormat | undefined;
  windowMs: number;
  maxOpenGroups: number;
  maxLineBytes: number;
  /** Unset: colour when stdout is a terminal and NO_COLOR is not set. */
  color: boolean | undefined;
  logFormat: LogFormat;
  /** Print counts (lines, events, unparsed lines, incidents by rule...) on stderr at the end. */
  stats: boolean;
  /** Files read at once on worker threads; undefined: one per core. */
  jobs: number | undefined;
}

const EXAMPLES = `
Examples:
  nexus-log-analyzer /nexus-data/log/nexus.log
  nexus-log-analyzer /nexus-data/log                  # nexus.log and its rotated nexus-*.log.gz
  nexus-log-analyzer 'log/nexus-2025-09-*.log.gz'     # quote globs: they are expanded here
  tail -f /nexus-data/log/nexus.log | nexus-log-analyzer --format pretty
  docker logs nexus 2>&1 | nexus-log-analyzer
  nexus-log-analyzer --format ndjson log/ | jq -r '.summary'

Output: one incident per failed Docker push: repository, image, tag or digest, missing
layers, user, the request, the log lines used, the likely cause and the fix.
Fields: docs/incidents.md. Incident times are ISO-8601 UTC.

Ctrl-C or SIGTERM: reading stops, pushes still open are reported (closeReason "shutdown").
Exit status: 0 when the input was read (with or without incidents),
             2 on bad usage or an input that cannot be read (named on stderr).`;

function positiveInteger(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${name} must be a positive whole number, got '${value}'`);
    }
    return Number(value);
  };
}

export function buildProgram(version: string): Command {
  return new Command()
    .name('nexus-log-analyzer')
    .description('Find failed Docker pushes in Sonatype Nexus Repository logs and explain why they failed.')
    .argument('[paths...]', 'log files, directories, glob patterns, or - for stdin (default: stdin)')
    .addOption(
      new Option('-f, --format <format>', 'output format (default: pretty on a terminal, ndjson otherwise)').choices([
        'pretty',
        'ndjson',
      ]),
    )
    .option('-w, --window <ms>', 'correlation window in log time, milliseconds', positiveInteger('--window'), DEFAULTS.windowMs)
    .option(
      '--max-open-groups <n>',
      'open pushes tracked at once; the oldest is reported (closeReason "evicted") past it',
      positiveInteger('--max-open-groups'),
      DEFAULTS.maxOpenGroups,
    )
    .option('--max-line-bytes <n>', 'bytes kept of an over-long line', positiveInteger('--max-line-bytes'), DEFAULTS.maxLineBytes)
    .option('--color', 'colour pretty output even when not on a terminal')
    .option('--no-color', 'never colour output (NO_COLOR is honoured too)')
    .option(
      '-j, --jobs <n>',
      'files read at once on worker threads (default: one per core for 2+ plain files, .gz in turn; 1: all in turn)',
      positiveInteger('--jobs'),
    )
    .option('--stats', 'print counts on stderr at the end: lines, events, unparsed lines, incidents by rule')
    .addOption(new Option('--log-format <format>', 'format of messages on stderr').choices(['human', 'json']).default('human'))
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run nexus-log-analyzer --help for usage)')
    .exitOverride();
}

/** Parses argv (process.argv form); throws commander's errors (help, version, bad usage). */
export function parseOptions(argv: readonly string[], version: string): CliOptions {
  const program = buildProgram(version);
  program.parse([...argv], { from: 'node' });
  const raw = program.opts<{
    format?: OutputFormat;
    window: number;
    maxOpenGroups: number;
    maxLineBytes: number;
    color?: boolean;
    logFormat: LogFormat;
    stats?: boolean;
    jobs?: number;
  }>();
  return {
    paths: program.args,
    format: raw.format,
    windowMs: raw.window,
    maxOpenGroups: raw.maxOpenGroups,
    maxLineBytes: raw.maxLineBytes,
    color: raw.color,
    logFormat: raw.logFormat,
    stats: raw.stats === true,
    jobs: raw.jobs,
  };
}
