/**
 * nats-server restarted mid-stream: the edge keeps reading into its backlog while NATS is down
 * (says so on stderr and in its metrics), retries with backoff, and once NATS is back every
 * record is in the stream exactly once; a central running throughout loses nothing either.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetMerger, type FleetIncident } from '../../src/fleet/fleet-merge';
import { describeWithNats, NatsServer } from '../support/nats-server';
import { checkExactlyOnce, CliProcess, consumerDone, expectedRecords, NodeLog, readStream, waitUntil } from './support';
import { scrape } from './prometheus';

jest.setTimeout(300_000);

describeWithNats('fleet: nats-server restarted mid-stream', () => {
  let nats: NatsServer;
  let dir: string;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nla-natsrestart-'));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await nats?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and publishes nothing twice', async () => {
    const node = 'restart';
    const file = path.join(dir, 'nexus.log');
    const log = new NodeLog(5, ['team/r', 'team/s']);
    writeFileSync(file, log.bursts(10));
    const central = new CliProcess(['fleet', '--nats', nats.url, '--format', 'ndjson', '--ready']);
    const edge = new CliProcess(['--follow', file, '--from-start', '--publish', nats.url, '--node', node, '--ready', '--metrics', '127.0.0.1:0']);
    processes.push(central, edge);
    await central.waitForStderr(/ready: fleet consumer/);
    await edge.waitForStderr(/ready: reading/);
    const metricsUrl = (/metrics: (http:\S+)/.exec(edge.stderr) as RegExpExecArray)[1] as string;

    const grow = async (bursts: number): Promise<void> => {
      for (let i = 0; i < bursts; i++) {
        appendFileSync(file, log.next());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await grow(40);
    await waitUntil('records in the stream', async () => (await readStream(nats.url)).length > 10, 60_000, 200);

    // Down: the edge notices, keeps reading into its backlog, and says so.
    await nats.stop();
    await grow(60);
    await edge.waitForStderr(/cannot publish|NATS disconnected/, 60_000);
    await waitUntil('a backlog and publish errors in the metrics', async () => {
      const m = await scrape(metricsUrl);
      return (m.get('nexus_publish_backlog') ?? 0) > 0 && (m.get('nexus_publish_errors_total') ?? 0) > 0;
    }, 60_000, 250);

    // Back (same port, same store): the backlog goes through.
    await nats.restart();
    await grow(40);
    const total = (): number => expectedRecords(readFileSync(file, 'utf8'), file).length;
    await waitUntil('every record in the stream', async () => (await readStream(nats.url)).length >= total(), 120_000, 250);
    await waitUntil('an empty backlog', async () => (await scrape(metricsUrl)).get('nexus_publish_backlog') === 0, 60_000, 250);
    expect(edge.stderr).toMatch(/NATS reachable again|NATS reconnected/);
    expect(await edge.stop()).toBe(0);
    checkExactlyOnce(await readStream(nats.url), node, file);

    // The central went on through the outage: its last state per failure is the stream's.
    await waitUntil('the central to merge everything', () => consumerDone(nats.url), 120_000, 250);
    expect(await central.stop()).toBe(0);
    const merger = new FleetMerger();
    for (const record of await readStream(nats.url)) merger.add(record);
    const lines = central.lines<FleetIncident>();
    for (const incident of merger.incidents()) {
      const last = lines.filter((l) => l.id === incident.id).sort((a, b) => b.fleet.records - a.fleet.records)[0] as FleetIncident;
      expect(last.fleet.perNode).toEqual(incident.fleet.perNode);
    }
  });
});
