/**
 * --follow with real files: start at the end or the start, daily rotation (rename + new file),
 * copytruncate, truncation, a file that does not exist yet, a consumer that pauses across a
 * rotation, and SIGTERM. Waits guard against hangs; nothing asserts how fast.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { followFile } from '../../src/source/follow-file';
import type { Incident } from '../../src/incidents/incident';
import { CLI, missingLayerLine, rejectionLine, ROOT } from '../support/helpers';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'nla-follow-'));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Pulls from the follower until `want` bytes came, or fails after the guard time. */
async function take(follower: AsyncGenerator<Buffer>, want: number): Promise<string> {
  let text = '';
  const guard = Date.now() + 10_000;
  while (Buffer.byteLength(text) < want) {
    if (Date.now() > guard) throw new Error(`only got ${JSON.stringify(text)}`);
    const { value, done } = await follower.next();
    if (done === true) break;
    text += (value as Buffer).toString();
  }
  return text;
}

describe('followFile', () => {
  // Followers left suspended at a yield would keep their file open until GC: close them.
  const opened: Array<AsyncGenerator<Buffer>> = [];
  const follow = (...args: Parameters<typeof followFile>): AsyncGenerator<Buffer> => {
    const follower = followFile(...args);
    opened.push(follower);
    return follower;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((follower) => follower.return(undefined)));
  });

  /** Follows a new empty nexus.log; once `first` resolves, the follower has read `firstLine`. */
  async function following(firstLine: string) {
    const dir = tempDir();
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, '');
    const stop = new AbortController();
    const follower = follow(file, { signal: stop.signal, pollMs: 10 });
    const first = follower.next();
    await sleep(50); // it has opened the file at its end
    appendFileSync(file, firstLine);
    expect(((await first).value as Buffer).toString()).toBe(firstLine);
    return { dir, file, stop, follower };
  }

  it('starts at the end by default, at the start with fromStart', async () => {
    const file = path.join(tempDir(), 'nexus.log');
    writeFileSync(file, 'old line\n');
    const stop = new AbortController();
    const tail = follow(file, { signal: stop.signal, pollMs: 10 });
    const whole = follow(file, { signal: stop.signal, pollMs: 10, fromStart: true });
    const first = tail.next(); // opens the file at its end before anything is appended
    await sleep(50);
    appendFileSync(file, 'new line\n');
    expect(((await first).value as Buffer).toString()).toBe('new line\n');
    expect(await take(whole, 18)).toBe('old line\nnew line\n');
    stop.abort();
  });

  it('reads across a rotation (rename, then a new file) exactly once, also when the reader paused', async () => {
    const { dir, file, stop, follower } = await following('a1\n');
    // The reader pauses; meanwhile the old file grows, is rotated away, and a new one starts.
    appendFileSync(file, 'a2\n');
    renameSync(file, path.join(dir, 'nexus-2025-01-01.log'));
    appendFileSync(path.join(dir, 'nexus-2025-01-01.log'), 'a3 written after the rename\n');
    writeFileSync(file, 'b1\n');
    expect(await take(follower, 3 + 28 + 3)).toBe('a2\na3 written after the rename\nb1\n');
    appendFileSync(file, 'b2\n');
    expect(await take(follower, 3)).toBe('b2\n');
    stop.abort();
  });

  it('reads a rotated file to its end even once deleted (logback compresses, then deletes it)', async () => {
    const { file, stop, follower } = await following('x1\n');
    appendFileSync(file, 'x2\n');
    unlinkSync(file);
    await sleep(30);
    writeFileSync(file, 'y1\n');
    expect(await take(follower, 6)).toBe('x2\ny1\n');
    stop.abort();
  });

  it('after truncation (copytruncate) reads the new content from the start', async () => {
    const { file, stop, follower } = await following('before truncation, long enough\n');
    truncateSync(file, 0);
    await sleep(30);
    appendFileSync(file, 'after\n');
    expect(await take(follower, 6)).toBe('after\n');
    stop.abort();
  });

  it('waits for a file that does not exist yet, then reads it from its start', async () => {
    const file = path.join(tempDir(), 'nexus.log');
    const stop = new AbortController();
    const follower = follow(file, { signal: stop.signal, pollMs: 10 });
    const first = follower.next();
    await sleep(50);
    writeFileSync(file, 'hello\n');
    expect(((await first).value as Buffer).toString()).toBe('hello\n');
    stop.abort();
  });

  it('ends when aborted', async () => {
    const file = path.join(tempDir(), 'nexus.log');
    writeFileSync(file, '');
    const stop = new AbortController();
    const follower = follow(file, { signal: stop.signal, pollMs: 10 });
    const pending = follower.next();
    stop.abort();
    expect((await pending).done).toBe(true);
  });
});

describe('CLI --follow', () => {
  it('reports a push spanning a rotation as one incident, and open pushes on SIGTERM', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, `${missingLayerLine('2025-01-01 23:59:00,000+0000', 'old', 'before/start', '1')}\n`);
    const child = spawn(process.execPath, [CLI, '--follow', dir], { cwd: ROOT });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    const incidents = (): Array<Incident & { image: string }> =>
      stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Incident & { image: string });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const until = async (test: () => boolean): Promise<void> => {
      const guard = Date.now() + 10_000;
      while (!test()) {
        if (Date.now() > guard) throw new Error(`waited in vain; stdout: ${stdout}`);
        await sleep(20);
      }
    };
    await sleep(300); // let it open the file at its end
    appendFileSync(file, `${missingLayerLine('2025-01-01 23:59:59,990+0000', 'l1', 'rotating/app', '1')}\n`);
    await sleep(100);
    renameSync(file, path.join(dir, 'nexus-2025-01-01.log'));
    writeFileSync(file, `${rejectionLine('2025-01-02 00:00:00,004+0000', 'rotating/app', '1')}\n`);
    await until(() => incidents().length === 1);
    appendFileSync(file, `${missingLayerLine('2025-01-02 00:00:01,000+0000', 'l2', 'open/app', '1', { thread: 'other' })}\n`);
    await sleep(300);
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(incidents().map((i) => [i.image, i.closeReason, i.evidence.length])).toEqual([
      ['rotating/app', 'matched', 2],
      ['open/app', 'shutdown', 1],
    ]);
  }, 20_000);

  it('--from-start reads what is already there', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'nexus.log'), `${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'there/app', '1')}\n${rejectionLine('2025-01-01 10:00:00,004+0000', 'there/app', '1')}\n`);
    const child = spawn(process.execPath, [CLI, '--follow', '--from-start', path.join(dir, 'nexus.log')], { cwd: ROOT });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const first = new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    expect(JSON.parse((await first).split('\n')[0] as string).image).toBe('there/app');
    child.kill('SIGINT');
    expect(await closed).toBe(0);
  }, 20_000);
});
