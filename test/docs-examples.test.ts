/** The runnable examples in docs/examples/ run, against the built package, and say what the docs say. */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { infoLine, missingLayerLine, rejectionLine, ROOT, SAMPLES } from './support/helpers';

function runExample(name: string, args: string[] = [], input?: Buffer): string[] {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'docs', 'examples', name), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.trim().split('\n');
}

describe('docs/examples', () => {
  it('analyze-files.js lists every failed push in samples/', () => {
    const lines = runExample('analyze-files.js', ['samples/']);
    expect(lines).toHaveLength(11);
    expect(lines[0]).toContain('ctbots-docker  ctbots/base/llamafactory:pytorch2.7.1-cu12.8-flashattn2.7.4  5 missing layer(s)');
    expect(lines.some((line) => line.includes('staging-validation@sha256:'))).toBe(true);
  });

  it('transform.js reads stdin and prints each incident', () => {
    const lines = runExample('transform.js', [], readFileSync(path.join(SAMPLES, 'nexus.log')));
    expect(lines).toHaveLength(7); // 6 pushes, plus the 400 whose burst is in the rotated .gz
    expect(lines.every((line) => /^\[(matched|window|end-of-input)\] /.test(line))).toBe(true);
  });

  it('embed-analyzer.js forwards incidents and ends with the stats', () => {
    const lines = runExample('embed-analyzer.js');
    const stats = JSON.parse(lines[lines.length - 1] as string) as { incidents: number; openGroups: number };
    expect(lines).toHaveLength(stats.incidents + 1);
    expect(stats.openGroups).toBe(0);
  });
});

describe('docs/examples/shipper.js', () => {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** Runs the shipper until its checkpoint has caught up with the log, then stops it with SIGTERM. */
  async function runUntilCaughtUp(log: string, state: string): Promise<void> {
    const child = spawn(process.execPath, [path.join(ROOT, 'docs', 'examples', 'shipper.js'), log, state], { cwd: ROOT });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const checkpointFile = path.join(state, 'checkpoint.json');
    const guard = Date.now() + 15_000;
    for (;;) {
      if (Date.now() > guard) throw new Error(`the shipper did not catch up; stderr: ${stderr}`);
      if (existsSync(checkpointFile)) {
        const offset = (JSON.parse(readFileSync(checkpointFile, 'utf8')) as { analyzer: { source: { offset: number } } }).analyzer.source.offset;
        if (offset === statSync(log).size) break;
      }
      await sleep(50);
    }
    await sleep(150); // let the live clock run once more
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(stderr).toBe('');
  }

  it('forwards every push exactly once across a restart in the middle of a push and a crash after forwarding', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-shipper-'));
    const log = path.join(dir, 'nexus.log');
    const state = path.join(dir, 'state');
    writeFileSync(
      log,
      [
        missingLayerLine('2025-07-01 10:00:00,000+0000', 'a1', 'first/app', '1', { thread: 't1' }),
        rejectionLine('2025-07-01 10:00:00,004+0000', 'first/app', '1', { thread: 't1' }),
        missingLayerLine('2025-07-01 10:00:01,000+0000', 'b1', 'straddles/app', '1', { thread: 't2' }),
        '',
      ].join('\n'),
    );
    await runUntilCaughtUp(log, state);
    const outbox = path.join(state, 'incidents.ndjson');
    expect(readFileSync(outbox, 'utf8').trim().split('\n')).toHaveLength(1);

    // A crash after forwarding but before checkpointing leaves an extra line: the restart cuts it.
    appendFileSync(outbox, '{"half":"forwarded"}\n');
    appendFileSync(
      log,
      [
        rejectionLine('2025-07-01 10:00:01,004+0000', 'straddles/app', '1', { thread: 't2' }),
        missingLayerLine('2025-07-01 10:00:02,000+0000', 'c1', 'third/app', '1', { thread: 't3' }),
        rejectionLine('2025-07-01 10:00:02,004+0000', 'third/app', '1', { thread: 't3' }),
        infoLine('2025-07-01 10:00:03,000+0000', 'quiet'),
        '',
      ].join('\n'),
    );
    await runUntilCaughtUp(log, state);
    const incidents = readFileSync(outbox, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { image: string; closeReason: string; evidence: unknown[] });
    expect(incidents.map((i) => [i.image, i.closeReason, i.evidence.length])).toEqual([
      ['first/app', 'matched', 2],
      ['straddles/app', 'matched', 2],
      ['third/app', 'matched', 2],
    ]);
  }, 40_000);
});
