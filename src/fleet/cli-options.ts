/**
 * The fleet options of the main command (`--publish`, `--node`, `--checkpoint`, `--stream`,
 * `--metrics`), registered in one block so src/cli/options.ts only calls in. Light: no NATS
 * or prom-client here (they load only when used).
 */
import { type Command } from 'commander';
import { publishedAddress } from '../rules/docs-address';
import { DEFAULT_STREAM } from './names';

export interface FleetCliOptions {
  /** With --follow: publish every lifecycle record to this NATS server (the edge). */
  publish: string | undefined;
  /** The node's name in the fleet. Default: the host name. */
  node: string | undefined;
  /** Keep the edge's checkpoint in this file instead of the KV bucket. */
  checkpoint: string | undefined;
  stream: string;
  /** Serve Prometheus metrics on HOST:PORT. */
  metrics: string | undefined;
}

export function addFleetOptions(command: Command): Command {
  return command
    .option('--publish <nats-url>', `with --follow: publish every incident record (opened, updated, closed) to NATS JetStream, exactly once across restarts (${publishedAddress('docs/fleet.md')})`)
    .option('--node <name>', 'with --publish: this node\'s name in the fleet (letters, digits, _ and -; default: the host name)')
    .option('--checkpoint <file>', 'with --publish: keep the checkpoint in this file instead of the NATS KV bucket NEXUS_EDGE_CHECKPOINTS')
    .option('--stream <name>', 'with --publish: the JetStream stream (created if absent)', DEFAULT_STREAM)
    .option('--metrics <host:port>', `with --follow or --publish: serve Prometheus metrics at http://HOST:PORT/metrics (${publishedAddress('docs/metrics.md')})`)
    .addHelpText('after', '\nFleet: nexus-log-analyzer fleet --nats nats://host:4222 merges every node\'s incidents (nexus-log-analyzer fleet --help).');
}

export function fleetOptionsOf(raw: Record<string, unknown>): FleetCliOptions {
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    publish: text(raw.publish),
    node: text(raw.node),
    checkpoint: text(raw.checkpoint),
    stream: text(raw.stream) ?? DEFAULT_STREAM,
    metrics: text(raw.metrics),
  };
}

/** What is wrong with the fleet options, or null. */
export function checkFleetOptions(options: FleetCliOptions & { follow: boolean }): string | null {
  if (options.publish !== undefined && !options.follow) return '--publish goes with --follow: the edge follows one nexus.log';
  if (!options.follow && options.publish === undefined) {
    if (options.metrics !== undefined) return '--metrics goes with --follow (or --publish); the fleet command takes it too';
    if (options.node !== undefined || options.checkpoint !== undefined) return '--node and --checkpoint go with --publish';
  }
  if (options.publish === undefined && (options.node !== undefined || options.checkpoint !== undefined)) return '--node and --checkpoint go with --publish';
  if (options.node !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.node)) return `--node ${options.node}: 1-64 letters, digits, '_' or '-' (it is a NATS subject token)`;
  if (options.metrics !== undefined && !/^(\[[^\]]+\]|[^:[\]]*):\d{1,5}$/.test(options.metrics)) return `--metrics ${options.metrics}: give HOST:PORT, e.g. 127.0.0.1:9464`;
  return null;
}
