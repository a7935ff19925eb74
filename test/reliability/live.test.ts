/**
 * Live streams (`tail -f nexus.log | nexus-log-analyzer`): incidents come out while the pipe
 * stays open, without waiting for a next log line. The waits below guard against hangs;
 * nothing asserts how fast.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Incident } from '../../src/incidents/incident';
import { CLI, infoLine, missingLayerLine, rejectionLine, ROOT } from '../support/helpers';

function live(args: string[] = []): { child: ChildProcessWithoutNullStreams; incidents: () => Promise<Incident> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
  const queue: Incident[] = [];
  const waiters: Array<(incident: Incident) => void> = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const incident = JSON.parse(buffer.slice(0, newline)) as Incident;
      buffer = buffer.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(incident);
      else queue.push(incident);
      newline = buffer.indexOf('\n');
    }
  });
  const next = (): Promise<Incident> => {
    const ready = queue.shift();
    return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
  };
  return { child, incidents: next };
}

async function closeAndWait(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end();
  return closed;
}

describe('live stream on stdin', () => {
  it('a push whose 400 is the last line written is reported while the pipe stays open', async () => {
    const { child, incidents } = live();
    child.stdin.write(`${missingLayerLine('2025-06-01 10:00:00,000+0000', 'l1', 'team/app', '1.0')}\n`);
    child.stdin.write(`${rejectionLine('2025-06-01 10:00:00,005+0000', 'team/app', '1.0')}\n`);
    const incident = (await incidents()) as Incident & { image: string };
    expect([incident.image, incident.closeReason]).toEqual(['team/app', 'matched']);
    expect(await closeAndWait(child)).toBe(0);
  }, 20_000);

  it('a burst whose 400 never comes is reported once its window has passed on the wall clock, not at end of input', async () => {
    const { child, incidents } = live(['--window', '300']);
    child.stdin.write(`${missingLayerLine('2025-06-01 10:00:00,000+0000', 'l1', 'team/app', '1.0')}\n`);
    child.stdin.write(`${infoLine('2025-06-01 10:00:00,001+0000', 'and then the log goes quiet')}\n`);
    const incident = await incidents();
    expect([incident.closeReason, incident.firstSeen]).toEqual(['window', '2025-06-01T10:00:00.000Z']);
    expect(await closeAndWait(child)).toBe(0);
  }, 20_000);

  it('a stack trace written with its header still belongs to it', async () => {
    const { child, incidents } = live();
    const header = rejectionLine('2025-06-01 10:00:00,005+0000', 'team/app', '1.0');
    child.stdin.write(`${header}\njava.lang.IllegalStateException: bad\n\tat a.B.c(B.java:1)\n`);
    const incident = await incidents();
    expect(incident.evidence.map((e) => e.text)).toEqual([header]);
    expect(await closeAndWait(child)).toBe(0);
  }, 20_000);
});
