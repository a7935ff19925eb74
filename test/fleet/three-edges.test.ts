/**
 * Three edges on three node logs with overlapping failures, two central instances sharing the
 * durable consumer: each failure is one fleet incident naming its nodes with their counts, and
 * no record is merged or written twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetMerger, type FleetIncident } from '../../src/fleet/fleet-merge';
import type { FleetRecord } from '../../src/fleet/record';
import { describeWithNats, NatsServer } from '../support/nats-server';
import { CliProcess, consumerDone, expectedRecords, NodeLog, readStream, recordKey, seqProblems, streamCount, waitUntil } from './support';

jest.setTimeout(240_000);

describeWithNats('fleet: three edges, two centrals', () => {
  let nats: NatsServer;
  let dir: string;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nla-fleet3-'));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await nats?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('merges the same failure on several nodes into one fleet incident listing them', async () => {
    // Overlapping image pools: team/app3 fails on all three nodes, the others on one or two.
    const pools: Record<string, string[]> = {
      n1: ['team/app0', 'team/app1', 'team/app2', 'team/app3'],
      n2: ['team/app2', 'team/app3', 'team/app4'],
      n3: ['team/app3', 'team/app4', 'team/app5'],
    };
    const expected = new Map<string, FleetRecord[]>();
    for (const [i, node] of Object.keys(pools).entries()) {
      const file = path.join(dir, `${node}.log`);
      const text = new NodeLog(10 + i, pools[node] as string[]).bursts(80);
      writeFileSync(file, text);
      expected.set(node, expectedRecords(text, file).map((incident, k) => ({ v: 1, node, seq: k + 1, incident })));
    }
    const total = [...expected.values()].reduce((sum, list) => sum + list.length, 0);

    const centrals = [0, 1].map(() => new CliProcess(['fleet', '--nats', nats.url, '--format', 'ndjson', '--ready']));
    processes.push(...centrals);
    await Promise.all(centrals.map((c) => c.waitForStderr(/ready: fleet consumer/)));
    const edges = Object.keys(pools).map((node) => new CliProcess(['--follow', path.join(dir, `${node}.log`), '--from-start', '--publish', nats.url, '--node', node, '--ready']));
    processes.push(...edges);
    await Promise.all(edges.map((e) => e.waitForStderr(/ready: reading/)));

    await waitUntil('every record in the stream', async () => (await streamCount(nats.url)) >= total, 120_000, 200);
    await waitUntil('the centrals to merge everything', () => consumerDone(nats.url), 120_000, 200);
    for (const edge of edges) expect(await edge.stop()).toBe(0);
    await waitUntil('the centrals to merge the last records', () => consumerDone(nats.url), 60_000, 200);
    for (const central of centrals) expect(await central.stop()).toBe(0);

    // The stream: every node's records, each once, none missing.
    const stream = await readStream(nats.url);
    for (const [node, records] of expected) {
      const got = stream.filter((r) => r.node === node);
      expect(seqProblems(got)).toEqual([]);
      const keys = got.map((r) => recordKey(r.incident));
      expect(new Set(keys).size).toBe(keys.length);
      for (const record of records) expect(keys).toContain(recordKey(record.incident));
    }

    // Once: each fingerprint once, with exactly the nodes it failed on, and their counts.
    const once = new CliProcess(['fleet', '--nats', nats.url, '--once', '--format', 'ndjson']);
    expect(await once.exited).toBe(0);
    const fleet = once.lines<FleetIncident>();
    const reference = new FleetMerger();
    for (const record of stream) reference.add(record);
    const want = reference.incidents();
    expect(fleet.map((f) => f.id).sort()).toEqual(want.map((f) => f.id).sort());
    expect(new Set(fleet.map((f) => f.id)).size).toBe(fleet.length);
    for (const incident of fleet) {
      const nodes = [...expected.entries()].filter(([, records]) => records.some((r) => r.incident.fingerprint === incident.fingerprint)).map(([node]) => node);
      expect(incident.nodes).toEqual(nodes);
      expect(incident.fleet.perNode).toEqual((want.find((w) => w.id === incident.id) as FleetIncident).fleet.perNode);
    }
    const everywhere = fleet.filter((f) => f.nodes.length === 3);
    expect(everywhere.length).toBeGreaterThan(0);
    expect(everywhere.some((f) => f.rule === 'docker-manifest-missing-layers' && (f.subject?.name ?? '').includes('team/app3'))).toBe(true);

    // Live: the two instances shared the work; together they merged every record once, and no
    // fleet incident state was written twice.
    const merged = centrals.map((c) => Number(/fleet stopped: (\d+) records merged/.exec(c.stderr)?.[1] ?? 'NaN'));
    expect(merged[0] as number).toBeGreaterThan(0);
    expect(merged[1] as number).toBeGreaterThan(0);
    expect((merged[0] as number) + (merged[1] as number)).toBe(stream.length);
    const lines = centrals.flatMap((c) => c.lines<FleetIncident>());
    const states = lines.map((l) => `${l.id}@${l.fleet.records}`);
    expect(new Set(states).size).toBe(states.length);
    for (const incident of want) {
      const last = lines.filter((l) => l.id === incident.id).sort((a, b) => b.fleet.records - a.fleet.records)[0] as FleetIncident;
      // Records merged may be fewer than in stream order: the instances merge their batches side
      // by side, and a record older than one already merged (an 'opened' after its 'closed') changes nothing.
      expect(last.fleet.records).toBeLessThanOrEqual(incident.fleet.records);
      expect(last.fleet.perNode).toEqual(incident.fleet.perNode);
      expect(last.lifecycle === 'closed').toBe(incident.lifecycle === 'closed');
    }
  });
});
