/**
 * `nexus-log-analyzer fleet --nats URL`: the central. Live by default (shared durable consumer,
 * one line per fleet incident change, until SIGINT/SIGTERM); `--once` reads the stream to its
 * current end and writes each fleet incident once. `--summary` and `--report` cover the whole
 * fleet state at the end.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { AnalyzerStats } from '../analyzer';
import { createDiagnostics, type LogFormat } from '../cli/diagnostics';
import { colorWanted } from '../cli/options';
import { Metrics } from '../outputs/metrics';
import { SummaryCollector } from '../outputs/summary';
import { readFleetOnce, runCentral } from './central';
import type { FleetIncident } from './fleet-merge';
import { fleetRenderer, type FleetFormat } from './fleet-output';
import { DEFAULT_DURABLE, DEFAULT_STREAM } from './names';
import { natsServers } from './nats';
import { connectNats, errorText, watchConnection } from './nats-status';
import { publishedAddress } from '../rules/docs-address';

interface FleetOptions {
  nats: string;
  stream: string;
  durable: string;
  once?: boolean;
  format?: FleetFormat;
  summary?: boolean;
  report?: string;
  metrics?: string;
  quiet?: boolean;
  ready?: boolean;
  color?: boolean;
  logFormat: LogFormat;
}

function program(): Command {
  return new Command()
    .name('nexus-log-analyzer fleet')
    .description('Merge the incidents every edge (--follow --publish) sends to NATS JetStream: one fleet incident per failure, with the nodes it happened on.')
    .requiredOption('--nats <url>', 'NATS server(s), e.g. nats://central:4222 (comma-separated for a cluster)')
    .option('--stream <name>', 'the JetStream stream the edges publish to', DEFAULT_STREAM)
    .option('--durable <name>', 'durable consumer shared by every central instance (each record is merged by one of them)', DEFAULT_DURABLE)
    .option('--once', 'read the stream from its start to its current end, write each fleet incident once, and exit (leaves the durable consumer alone)')
    .addOption(new Option('-f, --format <format>', 'output format (default: pretty on a terminal, ndjson otherwise)').choices(['pretty', 'ndjson']))
    .option('--summary', 'at the end, the triage view of every fleet incident')
    .option('--report <file.html>', 'at the end, a self-contained HTML report with a node column and filter')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
    .option('--color', 'colour pretty output even when not on a terminal')
    .option('--no-color', 'never colour output')
    .option('-q, --quiet', 'no informational messages on stderr')
    .option('--ready', 'print "ready: ..." on stderr once the consumer is set up')
    .addOption(new Option('--log-format <format>', 'format of messages on stderr').choices(['human', 'json']).default('human'))
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', `\nTopology, exactly-once and sizing: ${publishedAddress('docs/fleet.md')}\nMetrics and alerts: ${publishedAddress('docs/metrics.md')}`)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`nexus-log-analyzer fleet: ${text}`) });
}

/** Runs the fleet command; `argv` in process.argv form (node, script, then the fleet arguments). */
export async function runFleetCommand(argv: readonly string[]): Promise<number> {
  const command = program();
  try {
    command.parse([...argv], { from: 'node' });
  } catch (error) {
    if (error instanceof CommanderError) return error.code === 'commander.helpDisplayed' || error.code === 'commander.help' ? 0 : 2;
    throw error;
  }
  const options = command.opts<FleetOptions>();
  const log = createDiagnostics(options.logFormat, process.stderr, options.quiet === true ? 'warn' : 'info');
  try {
    natsServers(options.nats);
  } catch (error) {
    log.error(`--nats: ${errorText(error)}`);
    return 2;
  }
  const stdout = process.stdout;
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    // The reader went away (`| head`): nothing more to say, and not a failure.
    if (error.code === 'EPIPE') process.exit(0);
    log.error(`cannot write output: ${error.message}`);
    process.exit(2);
  });
  const format: FleetFormat = options.format ?? (stdout.isTTY ? 'pretty' : 'ndjson');
  const color = colorWanted(options.color, stdout.isTTY === true);
  const width = stdout.columns !== undefined && stdout.columns >= 40 ? Math.min(stdout.columns, 120) : 80;
  const render = fleetRenderer(format, { color: format === 'pretty' && color, width });
  const write = async (text: string): Promise<void> => {
    if (!stdout.write(text)) await once(stdout, 'drain');
  };

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const metrics = options.metrics === undefined ? undefined : new Metrics('fleet');
  let server: { url: string; close: () => Promise<void> } | null = null;
  try {
    if (metrics !== undefined) {
      server = await metrics.serve(options.metrics as string);
      log.info(`metrics: ${server.url}`);
    }
    const nc = await connectNats(options.nats, `nexus-log-analyzer fleet ${options.durable}`, stop.signal, (message) => log.warn(message));
    if (nc === null) {
      // Stopped before NATS was reached: the client's connect cannot be cancelled and its retry
      // timers would keep the process alive, so leave once the exit code is set.
      setTimeout(() => process.exit(0), 200).unref();
      return 0;
    }
    const watching = watchConnection(nc, (level, message) => log[level](message));
    let all: FleetIncident[] = [];
    try {
      if (options.once === true) {
        const result = await readFleetOnce(nc, options.stream, stop.signal);
        for (const incident of result.incidents) await write(render(incident));
        log.info(`${result.records} records read, ${result.incidents.length} fleet incidents${result.duplicates > 0 ? `, ${result.duplicates} duplicate records skipped` : ''}`);
        all = result.incidents;
      } else {
        const result = await runCentral({
          nc,
          stream: { name: options.stream },
          durable: options.durable,
          signal: stop.signal,
          output: (incident) => write(render(incident)),
          status: (level, message) => log[level](message),
          onReady: () => {
            log.info(`fleet: merging ${options.stream} through durable consumer ${options.durable}`);
            if (options.ready === true) process.stderr.write(`ready: fleet consumer ${options.durable}\n`);
          },
          ...(metrics === undefined ? {} : { metrics }),
        });
        log.info(`fleet stopped: ${result.records} records merged, ${result.outputs} changes written${result.duplicates > 0 ? `, ${result.duplicates} already merged` : ''}`);
        if ((options.summary === true || options.report !== undefined) && result.store !== null) all = await result.store.all();
      }
    } finally {
      watching.stop();
      await Promise.race([nc.drain().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      // NATS down: drain cannot finish, and reconnect timers would keep the process alive.
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    }
    return await finish(all, options, format, color, width, write, log);
  } catch (error) {
    log.error(`fleet: ${errorText(error)}`);
    return 2;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await server?.close();
  }
}

/** The summary and report over the fleet incidents. */
async function finish(
  incidents: readonly FleetIncident[],
  options: FleetOptions,
  format: FleetFormat,
  color: boolean,
  width: number,
  write: (text: string) => Promise<void>,
  log: ReturnType<typeof createDiagnostics>,
): Promise<number> {
  const stats = fleetStats(incidents);
  const nodes = [...new Set(incidents.flatMap((incident) => incident.nodes))].sort();
  if (options.summary === true) {
    const summary = new SummaryCollector();
    for (const incident of incidents) summary.add(incident);
    const text = summary.format({ stats, inputs: nodes.length, width, color: format === 'pretty' && color });
    if (format === 'pretty') await write(`\n${text}`);
    else process.stderr.write(text);
  }
  if (options.report !== undefined) {
    const { HtmlReport } = require('../outputs/html-report') as typeof import('../outputs/html-report');
    const report = new HtmlReport();
    for (const incident of incidents) report.add(incident);
    try {
      writeFileSync(options.report, report.render({ stats, inputs: nodes.map((node) => `node ${node}`), generatedAt: new Date() }));
      log.info(`report written to ${options.report}`);
    } catch (error) {
      log.error(`${options.report}: cannot write the report: ${errorText(error)}`);
      return 2;
    }
  }
  return 0;
}

/** The central reads no lines itself: the counts are the lines its incidents fold, over the nodes. */
function fleetStats(incidents: readonly FleetIncident[]): AnalyzerStats {
  const byRule: Record<string, number> = {};
  for (const incident of incidents) byRule[incident.rule] = (byRule[incident.rule] ?? 0) + 1;
  const lines = incidents.reduce((sum, incident) => sum + incident.count, 0);
  return {
    lines,
    bytes: 0,
    events: lines,
    relevantEvents: lines,
    unparsedLines: 0,
    truncatedLines: 0,
    foreignLines: 0,
    incidents: incidents.length,
    incidentsByRule: byRule,
    evicted: 0,
    lateEvents: 0,
    duplicateEvents: 0,
    discarded: 0,
    lifecycleRecords: 0,
    openGroups: incidents.filter((incident) => incident.lifecycle !== 'closed').length,
    openGroupBytes: 0,
  };
}

