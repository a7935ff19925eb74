/** Command-line options: parsing, validation and --help text. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../analyzer';
import { SEVERITIES, type Severity } from '../incidents/incident';
import type { LogFormat } from './diagnostics';
import { parseTimeOption } from './time-option';

export type OutputFormat = 'pretty' | 'ndjson' | 'pino';

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
  /** Only incidents that began in [since, until), epoch ms. */
  since: number | undefined;
  until: number | undefined;
  /** Exit 1 when an incident at or above this severity was found. */
  failOn: Severity | undefined;
  /** A table of incidents by rule, repository, image, recurrence and user after the run. */
  summary: boolean;
  /** Write a self-contained HTML report to this file. */
  report: string | undefined;
  /** No progress bar, no informational messages. */
  quiet: boolean;
  /** Follow one file like tail -F. */
  follow: boolean;
  fromStart: boolean;
  /** Also write incidents as they open and grow, not only when they close. */
  lifecycle: boolean;
  /** Files of declarative rules to run besides the built-in ones. */
  rules: string[];
  /** Print the rule catalogue and exit. */
  listRules: boolean;
  /** Optional built-in rules to turn on. */
  optionalRules: string[];
}

const EXAMPLES = `
Examples:
  nexus-log-analyzer                                  # no path on a terminal: the usual Nexus log folder
  nexus-log-analyzer /nexus-data/log/nexus.log
  nexus-log-analyzer /nexus-data/log                  # nexus.log and its rotated nexus-*.log.gz
  nexus-log-analyzer 'log/nexus-2025-09-*.log.gz'     # quote globs: they are expanded here
  nexus-log-analyzer --since yesterday --summary /nexus-data/log
  nexus-log-analyzer --since 2h --until 30m log/      # durations back from now
  nexus-log-analyzer --report report.html log/        # one self-contained HTML page
  nexus-log-analyzer --fail-on error -q log/ >/dev/null || alert   # cron, CI
  nexus-log-analyzer --follow /nexus-data/log         # like tail -F: survives daily rotation
  tail -f /nexus-data/log/nexus.log | nexus-log-analyzer --format pretty
  docker logs nexus 2>&1 | nexus-log-analyzer
  nexus-log-analyzer --format ndjson log/ | jq -r '.summary'

Output: one incident per failed Docker push: repository, image, tag or digest, missing
layers, user, the request, the log lines used, the likely cause and the fix.
Fields: docs/incidents.md. Incident times are ISO-8601 UTC.

Ctrl-C or SIGTERM: reading stops, pushes still open are reported (closeReason "shutdown").
Exit status: 0 when the input was read (with or without incidents),
             1 with --fail-on when an incident at or above that severity was found,
             2 on bad usage or an input that cannot be read (named on stderr).`;

function timeValue(value: string): number {
  try {
    return parseTimeOption(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

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
    .argument('[paths...]', 'log files, directories, glob patterns, or - for stdin (default: stdin when piped, else the usual Nexus log folder)')
    .addOption(
      new Option('-f, --format <format>', 'output format (default: pretty on a terminal, ndjson otherwise)').choices([
        'pretty',
        'ndjson',
        'pino',
      ]),
    )
    .option('--pino', 'same as --format pino: incidents as pino log records (level from severity), for any pino transport')
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
    .option('-F, --follow', 'follow one file (or a folder\'s nexus.log) like tail -F: across rotation and truncation, until Ctrl-C')
    .option('--from-start', 'with --follow: read the file from its start, not from its end')
    .option('--rules <file>', 'also run the declarative rules in this JSON or YAML file (repeatable; docs/rules/custom-rules.md)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--rule <id>', 'turn on an optional built-in rule, e.g. proxy-remote-unavailable (repeatable; see --list-rules)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--list-rules', 'print the rules (built-in and --rules) with what they find, and exit')
    .option('--lifecycle', 'also write incidents as they open and grow (lifecycle "opened", "updated"), not only when closed')
    .option('--since <time>', 'only incidents that began at or after this time: ISO date/time, today, yesterday, or 2h, 3d (ago)', timeValue)
    .option('--until <time>', 'only incidents that began before this time (same forms)', timeValue)
    .addOption(new Option('--fail-on <severity>', 'exit 1 when an incident at or above this severity is found').choices([...SEVERITIES]))
    .option('--summary', 'after the incidents, a table by rule, repository, image, recurrence and user')
    .option('--report <file.html>', 'also write a self-contained HTML report (timeline, sortable table, evidence)')
    .option('-q, --quiet', 'no progress bar and no informational messages on stderr')
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
    since?: number;
    until?: number;
    failOn?: Severity;
    summary?: boolean;
    report?: string;
    quiet?: boolean;
    follow?: boolean;
    fromStart?: boolean;
    lifecycle?: boolean;
    pino?: boolean;
    rules?: string[];
    listRules?: boolean;
    rule?: string[];
  }>();
  return {
    paths: program.args,
    format: raw.pino === true ? 'pino' : raw.format,
    windowMs: raw.window,
    maxOpenGroups: raw.maxOpenGroups,
    maxLineBytes: raw.maxLineBytes,
    color: raw.color,
    logFormat: raw.logFormat,
    stats: raw.stats === true,
    jobs: raw.jobs,
    since: raw.since,
    until: raw.until,
    failOn: raw.failOn,
    summary: raw.summary === true,
    report: raw.report,
    quiet: raw.quiet === true,
    follow: raw.follow === true,
    fromStart: raw.fromStart === true,
    lifecycle: raw.lifecycle === true,
    rules: raw.rules ?? [],
    listRules: raw.listRules === true,
    optionalRules: raw.rule ?? [],
  };
}
