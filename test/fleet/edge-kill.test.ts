/**
 * kill -9 at any moment: an edge killed with SIGKILL 20 times at random moments (during start,
 * while reading, while publishing) while its log grows, then left to catch up. Every record
 * reaches the stream exactly once and none is missing: the node's seqs are 1..n, no record
 * (incident id, revision, lifecycle) twice, and every record a run over the final file gives is
 * there. Both checkpoint stores: the KV bucket (default) and a local file.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FleetIncident } from '../../src/fleet/fleet-merge';
import { describeWithNats, NatsServer } from '../support/nats-server';
import { checkExactlyOnce, CliProcess, expectedRecords, NodeLog, readStream, waitUntil } from './support';

jest.setTimeout(420_000);

/** Mulberry32 again, for kill times that are random but the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeWithNats('fleet: edge killed with SIGKILL while its log grows', () => {
  let nats: NatsServer;
  let dir: string;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nla-fleetkill-'));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await nats?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const store of ['kv', 'file'] as const) {
    it(`publishes every record exactly once across 20 kills (checkpoint in ${store === 'kv' ? 'the KV bucket' : 'a local file'})`, async () => {
      const node = `kill-${store}`;
      const file = path.join(dir, `${node}.log`);
      const log = new NodeLog(store === 'kv' ? 41 : 42, ['team/x', 'team/y', 'team/z']);
      writeFileSync(file, log.bursts(20));
      const random = prng(store === 'kv' ? 7 : 8);
      const args = ['--follow', file, '--from-start', '--publish', nats.url, '--node', node, '--ready', ...(store === 'file' ? ['--checkpoint', path.join(dir, `${node}.checkpoint.json`)] : [])];

      // The log grows on its own timer the whole time, whatever the edge is doing.
      let bursts = 20;
      const writer = setInterval(() => {
        if (bursts >= 400) return;
        appendFileSync(file, log.next());
        bursts++;
      }, 15);
      try {
        for (let kill = 0; kill < 20; kill++) {
          const edge = new CliProcess(args);
          processes.push(edge);
          // Most kills once it reads (mid-read, mid-publish, mid-checkpoint); some during start-up.
          if (random() < 0.75) await edge.waitForStderr(/ready: reading/, 60_000);
          await waitUntil('a random moment', () => !edge.running, 50 + random() * 700, 10).catch(() => undefined);
          await edge.kill();
        }
      } finally {
        clearInterval(writer);
      }

      // The last one runs until every record of the final file is in the stream.
      const final = new CliProcess(args);
      processes.push(final);
      await final.waitForStderr(/ready: reading/, 60_000);
      const expected = expectedRecords(readFileSync(file, 'utf8'), file).length;
      await waitUntil(`${expected} records of ${node}`, async () => (await readStream(nats.url)).filter((r) => r.node === node).length >= expected, 120_000, 250);
      expect(await final.stop()).toBe(0);
      expect(final.stderr).toMatch(/resumed at byte/);

      checkExactlyOnce(await readStream(nats.url), node, file);

      // And the central's view agrees: the fleet incidents of this node add up to its records.
      const once = new CliProcess(['fleet', '--nats', nats.url, '--once', '--format', 'ndjson']);
      expect(await once.exited).toBe(0);
      const fleet = once.lines<FleetIncident>().filter((f) => f.nodes.includes(node));
      expect(fleet.length).toBeGreaterThan(0);
      const fromStream = expectedRecords(readFileSync(file, 'utf8'), file).filter((incident) => incident.lifecycle === 'closed');
      expect(fleet.reduce((sum, f) => sum + (f.fleet.perNode.find((n) => n.node === node)?.incidents ?? 0), 0)).toBeGreaterThanOrEqual(new Set(fromStream.map((i) => i.id)).size);

      // Some restarts found records of their checkpoint to publish again (the crash window was hit).
      const restarts = processes.filter((p) => p.stderr.includes(`node ${node}`) || p.stderr.includes(node));
      const republished = restarts.filter((p) => /records republished/.test(p.stderr)).length;
      process.stdout.write(`${node}: ${restarts.length} runs, ${republished} republished records of their checkpoint\n`);
    });
  }
});
