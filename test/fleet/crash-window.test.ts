/**
 * The worst moments for kill -9, hit on purpose: right after a checkpoint is saved, before its
 * records are published (they must be published by the next run), and right after records were
 * acknowledged, before the checkpoint says so (the next run must not publish them twice). A
 * small script runs the edge with a checkpoint store that SIGKILLs its own process after its
 * k-th save.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeWithNats, NatsServer } from '../support/nats-server';
import { ROOT } from '../support/helpers';
import { checkExactlyOnce, expectedRecords, NodeLog, readStream, waitUntil } from './support';

jest.setTimeout(300_000);

const SCRIPT = `
const dist = ${JSON.stringify(path.join(ROOT, 'dist'))};
const { runEdge } = require(dist + '/fleet/edge.js');
const { FileCheckpointStore } = require(dist + '/fleet/checkpoint-file.js');
const { connectNats } = require(dist + '/fleet/nats.js');
const [url, file, node, checkpoint, killAt] = process.argv.slice(1);
// Installed first: a stop that comes while connecting must still end the run cleanly.
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
(async () => {
  const nc = await connectNats(url, 'crash-window');
  const inner = new FileCheckpointStore(checkpoint, node);
  let saves = 0;
  const store = {
    where: inner.where,
    load: () => inner.load(),
    save: async (c) => {
      await inner.save(c);
      if (++saves === Number(killAt)) process.kill(process.pid, 'SIGKILL');
    },
  };
  await runEdge({
    path: file, node, nc, stream: { name: 'NEXUS_INCIDENTS' }, store, fromStart: true, signal: stop.signal, commitMs: 0,
    onReady: (ready) => process.stderr.write('ready ' + JSON.stringify(ready) + '\\n'),
  });
  await nc.drain();
})();
`;

function run(args: string[]): { done: Promise<{ code: number | null; signal: string | null; stderr: string }>; ready: Promise<void>; stop: () => void } {
  const child = spawn(process.execPath, ['-e', SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    if (stderr.includes('ready ')) markReady();
  });
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { done, ready, stop: () => child.kill('SIGTERM') };
}

describeWithNats('fleet: kill -9 between checkpoint and publish', () => {
  let nats: NatsServer;
  let dir: string;

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nla-crashwin-'));
  });
  afterAll(async () => {
    await nats?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every record once when each run dies right after its k-th checkpoint', async () => {
    const node = 'crash-window';
    const file = path.join(dir, 'nexus.log');
    const checkpoint = path.join(dir, 'checkpoint.json');
    const log = new NodeLog(77, ['team/p', 'team/q']);
    writeFileSync(file, log.bursts(30));
    let republished = 0;
    let killed = 0;
    for (const killAt of [1, 2, 1, 2, 1, 3, 1, 2, 1, 2]) {
      writeFileSync(file, log.bursts(15), { flag: 'a' }); // the log grows between runs
      const edge = run([nats.url, file, node, checkpoint, String(killAt)]);
      // A run that has nothing left to save before its k-th save is stopped after a while instead.
      const stop = setTimeout(edge.stop, 8000);
      const outcome = await edge.done;
      clearTimeout(stop);
      if (outcome.signal === 'SIGKILL') killed++;
      else expect(outcome.code).toBe(0);
      const ready = /ready (\{.*\})/.exec(outcome.stderr);
      if (ready !== null) republished += (JSON.parse(ready[1] as string) as { republished: number }).republished;
    }
    expect(killed).toBeGreaterThanOrEqual(5);
    // The crash after a save with records left records for the next run to publish.
    expect(republished).toBeGreaterThan(0);

    // A run that is not killed catches up; then the stream holds each record once.
    const last = run([nats.url, file, node, checkpoint, '0']);
    await last.ready; // connected and reading: what is in the stream now cannot all be from before it
    const total = expectedRecords(readFileSync(file, 'utf8'), file).length;
    await waitUntil(`${total} records in the stream`, async () => (await readStream(nats.url)).length >= total, 120_000, 200);
    last.stop();
    const ended = await last.done;
    expect({ code: ended.code, signal: ended.signal, stderr: ended.code === 0 ? "" : ended.stderr }).toEqual({ code: 0, signal: null, stderr: "" });
    checkExactlyOnce(await readStream(nats.url), node, file);
  });
});
