/** `--follow PATH --publish URL`: the edge, run from the CLI until SIGINT/SIGTERM. */
import { promises as fs } from 'node:fs';
import { visibleLine } from '../outputs/pretty';
import * as path from 'node:path';
import type { Diagnostics } from '../cli/diagnostics';
import type { CliOptions } from '../cli/options';
import { Metrics } from '../outputs/metrics';
import type { AnyRule } from '../rules/rule';
import { FileCheckpointStore } from './checkpoint-file';
import { runEdge } from './edge';
import { checkNodeName, defaultNodeName } from './names';
import { connectNats, errorText, watchConnection } from './nats-status';

export async function runEdgeCommand(options: CliOptions, target: string, rules: AnyRule[], log: Diagnostics): Promise<number> {
  const url = options.publish as string;
  const node = checkNodeName(options.node ?? defaultNodeName());
  const file = await followTarget(target);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const metrics = options.metrics === undefined ? undefined : new Metrics('edge');
  const server = metrics === undefined ? null : await metrics.serve(options.metrics as string);
  if (server !== null) log.info(`metrics: ${server.url}`);
  try {
    const nc = await connectNats(url, `nexus-log-analyzer edge ${node}`, stop.signal, (message) => log.warn(message));
    if (nc === null) {
      // Stopped before NATS was reached: the client's connect cannot be cancelled and its retry
      // timers would keep the process alive, so leave once the exit code is set.
      setTimeout(() => process.exit(0), 200).unref();
      return 0;
    }
    const watching = watchConnection(nc, (level, message) => log[level](message));
    try {
      const result = await runEdge({
        path: file,
        node,
        nc,
        stream: { name: options.stream },
        ...(options.checkpoint === undefined ? {} : { store: new FileCheckpointStore(options.checkpoint, node) }),
        analyzer: { windowMs: options.windowMs, maxOpenGroups: options.maxOpenGroups, maxOpenBytes: options.maxOpenBytes, maxLineBytes: options.maxLineBytes, rules },
        fromStart: options.fromStart,
        signal: stop.signal,
        status: (level, message) => log[level](message),
        onWarning: (warning) => log.warn({ input: warning.path }, warning.message),
        onReady: (ready) => {
          const from = ready.resumed ? `resumed at byte ${ready.position ?? 0}${ready.republished > 0 ? `, ${ready.republished} records republished` : ''}` : `from byte ${ready.position ?? 0}`;
          log.info(`edge ${node}: following ${file} (${from}), publishing to ${url}`);
          if (options.ready) process.stderr.write(`ready: reading ${visibleLine(file)}\n`);
        },
        ...(metrics === undefined ? {} : { metrics }),
      });
      log.info(`edge ${node} stopped: ${result.produced} records produced, ${result.published} published, ${result.waiting} waiting`);
    } finally {
      watching.stop();
      await Promise.race([nc.drain().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      // NATS down: drain cannot finish, and reconnect timers would keep the process alive.
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    }
    return 0;
  } catch (error) {
    log.error(`edge ${node}: ${errorText(error)}`);
    return 2;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await server?.close();
  }
}

/** A folder means its nexus.log; a file that does not exist yet is followed until it appears. */
async function followTarget(target: string): Promise<string> {
  try {
    return (await fs.stat(target)).isDirectory() ? path.join(target, 'nexus.log') : target;
  } catch {
    return target;
  }
}
