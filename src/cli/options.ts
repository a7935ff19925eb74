/** Command-line options: parsing, validation and --help text. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../analyzer';
import { SEVERITIES, type Severity } from '../incidents/incident';
import type { LogFormat } from './diagnostics';
import { addFleetOptions, fleetOptionsOf, type FleetCliOptions } from '../fleet/cli-options';
import { publishedAddress } from '../rules/docs-address';
import { parseTimeOption } from './time-option';

export type OutputFormat = 'pretty' | 'ndjson' | 'pino';

/** Fleet options (--publish, --node, --checkpoint, --stream, --metrics): src/fleet/cli-options.ts. */
export interface CliOptions extends FleetCliOptions {
  paths: string[];
  /** Unset: pretty on a terminal, ndjson otherwise. */
  format: OutputFormat | undefined;
  windowMs: number;
  maxOpenGroups: number;
  maxOpenBytes: number;
  maxLineBytes: number;
  /** `--color` / `--no-color`; unset: FORCE_COLOR, NO_COLOR, then whether stdout is a terminal. */
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
  /** The triage view after the run: server runs, top problems by class with their cause and first fix, the rest in counts. */
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
  /** Built-in rules to leave out. */
  disabledRules: string[];
  /** `--rule <id>` of 0.1 (rules that were optional); every built-in rule is on now. */
  legacyRules: string[];
  /** Print `ready: <what>` on stderr once reading has started (for scripts and tests that wait on it). */
  ready: boolean;
}

/** The text after the options. Links are published addresses: an npm user has no repository checkout. */
const examples = (): string => `
Examples:
  nexus-log-analyzer                                  # no path on a terminal: the usual Nexus log folder
  nexus-log-analyzer /nexus-data/log/nexus.log
  nexus-log-analyzer /nexus-data/log                  # nexus.log, rotated days, request.log, audit.log, task logs
  nexus-log-analyzer support-20250910-013622-1.zip    # a support zip, read in place
  nexus-log-analyzer 'log/nexus-2025-09-*.log.gz'     # quote globs: they are expanded here
  nexus-log-analyzer --since yesterday --summary /nexus-data/log
  nexus-log-analyzer --since 2h --until 30m log/      # durations back from now
  nexus-log-analyzer --report report.html log/        # one self-contained HTML page
  nexus-log-analyzer --fail-on error -q log/ >/dev/null || alert   # cron, CI
  nexus-log-analyzer --follow /nexus-data/log         # like tail -F: survives daily rotation
  kubectl logs nexus-0 | nexus-log-analyzer           # container prefixes and pasted quotes are read too
  nexus-log-analyzer --format ndjson log/ | jq -r '.summary'

Output: one incident per problem: a failed push, a blob store missing files, a proxy that
cannot reach its remote, a task that failed, the server running out of memory... each with
what it is about (its subject), how often it happened, the log lines it rests on, the likely
cause and the fix. A storm of one failure is one incident with its count and rate.
Fields: ${publishedAddress('docs/incidents.md')}
(the installed package has a copy). Incident times are ISO-8601 UTC. Rules: --list-rules.
Every option: ${publishedAddress('docs/cli.md')}

Times (--since, --until): an ISO date or time is local time unless it has an offset
(2025-09-10T01:30:00Z, +02:00); today, yesterday, now; or a duration back from now (90m, 2h, 3d).

Colour: on a terminal; NO_COLOR=1 or --no-color turns it off, FORCE_COLOR=1 or --color on.

Ctrl-C or SIGTERM: reading stops, incidents still open are reported (closeReason "shutdown"),
within a second whatever the input is doing.
Exit status: 0 when the input was read (with or without incidents),
             1 with --fail-on when an incident at or above that severity was found,
             2 on bad usage or an input that cannot be read (named on stderr),
             70 when a rule failed (a bug: the message names the rule).`;

function timeValue(value: string): number {
  try {
    return parseTimeOption(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function positiveInteger(name: string, min = 1): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${name} must be a positive whole number, got '${value}'`);
    }
    if (Number(value) < min) throw new InvalidArgumentError(`${name} must be at least ${min}, got '${value}'`);
    return Number(value);
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function buildProgram(version: string, stderr: NodeJS.WritableStream = process.stderr): Command {
  const program = new Command()
    .name('nexus-log-analyzer')
    .description('Turn Sonatype Nexus Repository logs into incidents: what failed, where, how often, why, and the fix.')
    .argument('[paths...]', 'log files, directories, support zips, glob patterns, or - for stdin (default: stdin when piped, else the usual Nexus log folder)')
    .addOption(new Option('-f, --format <format>', 'output format (default: pretty on a terminal, ndjson otherwise)').choices(['pretty', 'ndjson', 'pino']))
    .option('--pino', 'same as --format pino: incidents as pino log records (level from severity), for any pino transport')
    .option('-w, --window <ms>', 'how long, in log time, the 400 of a Docker push may follow its missing-layer lines, milliseconds', positiveInteger('--window'), DEFAULTS.windowMs)
    .option('--max-open-groups <n>', 'problems tracked at once; past it the oldest is reported early (closeReason "evicted")', positiveInteger('--max-open-groups'), DEFAULTS.maxOpenGroups)
    .option('--max-open-bytes <n>', 'memory the open problems may hold (evidence, distinct values, what rules keep), at least 1 MiB; past it the oldest are reported early', positiveInteger('--max-open-bytes', 1024 * 1024), DEFAULTS.maxOpenBytes)
    .option('--max-line-bytes <n>', 'bytes kept of an over-long line', positiveInteger('--max-line-bytes'), DEFAULTS.maxLineBytes)
    .option('--color', 'colour pretty output even when not on a terminal (FORCE_COLOR=1 does the same)')
    .option('--no-color', 'never colour output (NO_COLOR=1 does the same)')
    .option('-j, --jobs <n>', 'files read at once on worker threads, at most one per core (default: one per core for 2+ plain files, .gz in turn; given, also 32 MiB segments of a big nexus.log; 1: all in turn)', positiveInteger('--jobs'))
    .option('-F, --follow', "follow one file (or a folder's nexus.log) like tail -F: across rotation and truncation, until Ctrl-C")
    .option('--from-start', 'with --follow: read the file from its start, not from its end')
    .option('--rules <file>', `also run the rules in this JSON or YAML file, or JavaScript module of rules (repeatable; ${publishedAddress('docs/rules/custom-rules.md')})`, collect)
    .option('--disable-rule <id>', 'leave out a built-in rule (repeatable; see --list-rules)', collect)
    .addOption(new Option('--rule <id>', 'accepted for 0.1 scripts: every built-in rule is on now').argParser(collect).hideHelp())
    .option('--list-rules', 'print the rules (built-in and --rules) with what they read and where their page is, and exit')
    .option('--lifecycle', 'also write incidents as they open and grow (lifecycle "opened", "updated" at count doublings), not only when closed')
    .option('--since <time>', 'only incidents that began at or after this time: ISO date/time (local unless it has an offset), today, yesterday, or 2h, 3d (ago)', timeValue)
    .option('--until <time>', 'only incidents that began before this time (same forms)', timeValue)
    .addOption(new Option('--fail-on <severity>', 'exit 1 when an incident at or above this severity is found').choices([...SEVERITIES]))
    .option('--summary', 'after the incidents, the triage view: server runs, the top problems by class with cause and first fix, counts')
    .option('--report <file.html>', 'also write a self-contained HTML report (triage view, timeline, sortable table, evidence)')
    .option('-q, --quiet', 'no progress bar and no informational messages on stderr')
    .option('--stats', 'print counts on stderr at the end: lines, events, unparsed lines, incidents by rule')
    .option('--ready', 'print "ready: ..." on stderr once reading has started (with --follow: the file is open), for scripts that wait on it')
    .addOption(new Option('--log-format <format>', 'format of messages on stderr').choices(['human', 'json']).default('human'))
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', examples())
    .showHelpAfterError('(run nexus-log-analyzer --help for usage)')
    .configureOutput({ writeErr: (text) => stderr.write(text), outputError: (text, write) => write(`nexus-log-analyzer: ${text}`) })
    .exitOverride();
  return addFleetOptions(program);
}

/** Parses argv (process.argv form); throws commander's errors (help, version, bad usage). */
export function parseOptions(argv: readonly string[], version: string): CliOptions {
  const program = buildProgram(version);
  program.parse([...argv], { from: 'node' });
  const raw = program.opts<{
    format?: OutputFormat;
    window: number;
    maxOpenGroups: number;
    maxOpenBytes: number;
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
    disableRule?: string[];
    rule?: string[];
    ready?: boolean;
  }>();
  return {
    paths: program.args,
    format: raw.pino === true ? 'pino' : raw.format,
    windowMs: raw.window,
    maxOpenGroups: raw.maxOpenGroups,
    maxOpenBytes: raw.maxOpenBytes,
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
    disabledRules: raw.disableRule ?? [],
    legacyRules: raw.rule ?? [],
    ready: raw.ready === true,
    ...fleetOptionsOf(program.opts()),
  };
}

/** Colour on or off: the flag, then FORCE_COLOR, then NO_COLOR, then whether stdout is a terminal (chalk's and ripgrep's order). */
export function colorWanted(flag: boolean | undefined, isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag !== undefined) return flag;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}
