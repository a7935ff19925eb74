/**
 * --follow with real files: start at the end, the start or a checkpoint; rotation by rename
 * (twice, and five times, between two looks), deletion, copytruncate and truncation rewritten
 * past the position, rotated history and copies that must not be read, a file that does not
 * exist yet, that goes away, that sits in a folder removed and re-created, that cannot be read
 * (as a non-root user, in a child process), reading ahead of a consumer that does not pull (up
 * to its bound), and stopping on abort in every state.
 *
 * No test sleeps to let something happen: each waits on what it can observe (onReady, the
 * data read, a warning, the CLI's `ready:` line), with a generous guard against hangs; nothing
 * asserts how fast. That an abort ends every wait by itself is shown with a ten-minute poll and
 * a 20 s guard: the poll cannot have ended it.
 */
import { fork, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { followFile, type FollowOptions, type FollowReady, type FollowWarning } from '../../src/source/follow-file';
import type { Incident } from '../../src/incidents/incident';
import { compiledFollower } from '../support/follow-harness';
import { CLI, missingLayerLine, rejectionLine, ROOT } from '../support/helpers';

jest.setTimeout(30_000);

const made: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nla-follow-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A log line long enough (> 32 bytes) for the follower to recognise its file by its head. */
const line = (text: string): string => `2025-01-01 10:00:00,000+0000 INFO  [main] ${text}\n`;

/** Resolves with `promise`, or rejects after `ms` with the message (a guard against hangs, not a wait). */
function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** Pulls from the follower until `want` bytes came (more shows as a longer string), guarded. */
async function take(follower: AsyncGenerator<Buffer>, want: number): Promise<string> {
  let text = '';
  const deadline = Date.now() + 15_000;
  while (Buffer.byteLength(text) < want) {
    const next = await within(follower.next(), Math.max(1, deadline - Date.now()), () => `only got ${JSON.stringify(text)}`);
    if (next.done === true) break;
    text += next.value.toString();
  }
  return text;
}

/** The first next() (already started) and then more, until `want` bytes came. */
async function takeFrom(first: Promise<IteratorResult<Buffer>>, follower: AsyncGenerator<Buffer>, want: number): Promise<string> {
  const { value } = await within(first, 15_000, () => 'nothing came');
  const text = value === undefined ? '' : value.toString();
  return text + (await take(follower, want - Buffer.byteLength(text)));
}

const bytes = (...texts: string[]): number => Buffer.byteLength(texts.join(''));

interface Followed {
  follower: AsyncGenerator<Buffer>;
  /** Resolves once the follower is open at its start position (or waiting for the file). */
  ready: Promise<FollowReady>;
  warnings: FollowWarning[];
  /** Resolves with the first warning whose message matches. */
  warned: (pattern: RegExp) => Promise<FollowWarning>;
  stop: AbortController;
}

describe('followFile', () => {
  // Followers left suspended would keep their file open: abort, then close them.
  const started: Followed[] = [];
  afterEach(async () => {
    const all = started.splice(0);
    for (const { stop } of all) stop.abort();
    await Promise.all(all.map(({ follower }) => follower.return(undefined)));
  });

  /** Starts following; the first next() is started too (the follower opens the file then). */
  function follow(file: string, options: FollowOptions = {}): Followed & { first: Promise<IteratorResult<Buffer>> } {
    const stop = new AbortController();
    const warnings: FollowWarning[] = [];
    const listeners: Array<() => void> = [];
    let onReady: (ready: FollowReady) => void = () => undefined;
    const ready = new Promise<FollowReady>((resolve) => (onReady = resolve));
    const follower = followFile(file, {
      pollMs: 20,
      signal: stop.signal,
      ...options,
      onReady,
      onWarning: (warning) => {
        warnings.push(warning);
        for (const listener of listeners) listener();
      },
    });
    const warned = (pattern: RegExp): Promise<FollowWarning> =>
      within(
        new Promise<FollowWarning>((resolve) => {
          const check = (): void => {
            const found = warnings.find((warning) => pattern.test(warning.message));
            if (found !== undefined) resolve(found);
          };
          listeners.push(check);
          check();
        }),
        15_000,
        () => `no warning ${pattern}; got ${JSON.stringify(warnings)}`,
      );
    const followed = { follower, ready, warnings, warned, stop };
    started.push(followed);
    return { ...followed, first: follower.next() };
  }

  /** Follows a new nexus.log holding `firstLine`... read: the follower is at its end, paused. */
  async function following(firstLine: string, options: FollowOptions = {}) {
    const dir = tempDir();
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, '');
    const followed = follow(file, options);
    expect((await followed.ready).position).toBe(0);
    appendFileSync(file, firstLine);
    expect(((await followed.first).value as Buffer).toString()).toBe(firstLine);
    return { dir, file, ...followed };
  }

  describe('start', () => {
    it('starts at the end by default, at the start with fromStart, at a checkpoint with position', async () => {
      const file = path.join(tempDir(), 'nexus.log');
      writeFileSync(file, 'old line\n');
      const tail = follow(file);
      const whole = follow(file, { fromStart: true });
      const checkpoint = follow(file, { position: 4 });
      expect(await Promise.all([tail.ready, whole.ready, checkpoint.ready])).toEqual([
        { path: file, position: 9 },
        { path: file, position: 0 },
        { path: file, position: 4 },
      ]);
      appendFileSync(file, 'new line\n');
      expect(((await tail.first).value as Buffer).toString()).toBe('new line\n');
      expect(await takeFrom(whole.first, whole.follower, 18)).toBe('old line\nnew line\n');
      expect(await takeFrom(checkpoint.first, checkpoint.follower, 14)).toBe('line\nnew line\n');
    });

    it('reads a file shorter than the checkpoint from its start (it was rotated meanwhile)', async () => {
      const file = path.join(tempDir(), 'nexus.log');
      writeFileSync(file, 'new file\n');
      const { ready, first } = follow(file, { position: 1000 });
      expect((await ready).position).toBe(0);
      expect(((await first).value as Buffer).toString()).toBe('new file\n');
    });

    it('waits for a file that does not exist yet (saying so once), then reads it from its start', async () => {
      const file = path.join(tempDir(), 'nexus.log');
      const { ready, first, warned, warnings } = follow(file);
      expect(await ready).toEqual({ path: file, position: null });
      expect((await warned(/not found/)).message).toBe('nexus.log: not found; waiting for it to appear');
      writeFileSync(file, 'hello\n');
      expect(((await first).value as Buffer).toString()).toBe('hello\n');
      expect(warnings.map((w) => w.message)).toEqual(['nexus.log: not found; waiting for it to appear', 'nexus.log: there now']);
    });
  });

  describe('rotation by rename', () => {
    it('reads across a rotation (rename, then a new file) exactly once, also when the reader paused', async () => {
      const { dir, file, follower } = await following('a1\n');
      // The reader pauses; meanwhile the old file grows, is rotated away, and a new one starts.
      appendFileSync(file, 'a2\n');
      renameSync(file, path.join(dir, 'nexus-2025-01-01.log'));
      appendFileSync(path.join(dir, 'nexus-2025-01-01.log'), 'a3 written after the rename\n');
      writeFileSync(file, 'b1\n');
      expect(await take(follower, bytes('a2\n', 'a3 written after the rename\n', 'b1\n'))).toBe('a2\na3 written after the rename\nb1\n');
      appendFileSync(file, 'b2\n');
      expect(await take(follower, 3)).toBe('b2\n');
    });

    it('two `mv nexus.log nexus.log.1 && touch nexus.log` before it looks: the middle file is read too, in order', async () => {
      const { dir, file, follower } = await following(line('a1'));
      const rotate = (): void => {
        renameSync(file, path.join(dir, 'nexus.log.1')); // the second one overwrites the first's name
        writeFileSync(file, '');
      };
      appendFileSync(file, line('a2'));
      rotate();
      appendFileSync(file, line('b1') + line('b2'));
      rotate();
      appendFileSync(file, line('c1'));
      const expected = [line('a2'), line('b1'), line('b2'), line('c1')].join('');
      expect(await take(follower, bytes(expected))).toBe(expected);
      appendFileSync(file, line('c2'));
      expect(await take(follower, bytes(line('c2')))).toBe(line('c2'));
    });

    it('five dated rotations (logback) before it looks: every file, in order, once', async () => {
      const { dir, file, follower } = await following(line('day 0 first'));
      let expected = '';
      for (let day = 0; day < 5; day++) {
        const text = line(`day ${day} last`);
        appendFileSync(file, text);
        expected += text;
        renameSync(file, path.join(dir, `nexus-2025-01-0${day + 1}.log`));
        const next = line(`day ${day + 1} first`);
        writeFileSync(file, next);
        expected += next;
      }
      expect(await take(follower, bytes(expected))).toBe(expected);
      appendFileSync(file, line('then'));
      expect(await take(follower, bytes(line('then')))).toBe(line('then'));
    });

    it('five logrotate rotations (.1 shifted to .2 ...) before it looks: every file, in order, once', async () => {
      const { dir, file, follower } = await following(line('file 0 first'));
      const at = (n: number): string => path.join(dir, `nexus.log.${n}`);
      let expected = '';
      for (let k = 0; k < 5; k++) {
        const text = line(`file ${k} last`);
        appendFileSync(file, text);
        expected += text;
        for (let n = 4; n >= 1; n--) {
          try {
            renameSync(at(n), at(n + 1));
          } catch {
            // not there yet
          }
        }
        renameSync(file, at(1));
        const next = line(`file ${k + 1} first`);
        writeFileSync(file, next);
        expected += next;
      }
      expect(await take(follower, bytes(expected))).toBe(expected);
    });

    it('does not read the rotated history that was there at start, nor copies of what it read', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'nexus.log');
      writeFileSync(path.join(dir, 'nexus.log.1'), line('history 1'));
      writeFileSync(path.join(dir, 'nexus-2024-12-31.log'), line('history 2'));
      writeFileSync(file, line('already there'));
      const { ready, first, follower } = follow(file);
      await ready;
      appendFileSync(file, line('a1'));
      expect(((await first).value as Buffer).toString()).toBe(line('a1'));
      copyFileSync(file, path.join(dir, 'nexus.log.bak')); // a copy of what was read: not a rotated file
      // logrotate: history shifts (the same files under new names), then two rotations.
      renameSync(path.join(dir, 'nexus.log.1'), path.join(dir, 'nexus.log.2'));
      renameSync(file, path.join(dir, 'nexus.log.1'));
      writeFileSync(file, line('b1'));
      renameSync(path.join(dir, 'nexus.log.2'), path.join(dir, 'nexus.log.3'));
      renameSync(path.join(dir, 'nexus.log.1'), path.join(dir, 'nexus.log.2'));
      renameSync(file, path.join(dir, 'nexus.log.1'));
      writeFileSync(file, line('c1'));
      appendFileSync(file, line('c2'));
      const expected = line('b1') + line('c1') + line('c2');
      expect(await take(follower, bytes(expected))).toBe(expected);
    });

    it('reads what is appended to the rotated file after the rename, until the new file gets data', async () => {
      const { dir, file, follower } = await following(line('a1'));
      const rotated = path.join(dir, 'nexus.log.1');
      renameSync(file, rotated);
      writeFileSync(file, '');
      // A writer that opened the path just before the rename writes its line there.
      appendFileSync(rotated, line('a2, late'));
      expect(await take(follower, bytes(line('a2, late')))).toBe(line('a2, late'));
      appendFileSync(rotated, line('a3, later'));
      appendFileSync(file, line('b1'));
      expect(await take(follower, bytes(line('a3, later'), line('b1')))).toBe(line('a3, later') + line('b1'));
    });

    it('reads a rotated file to its end even once deleted (logback compresses, then deletes it)', async () => {
      const { file, follower } = await following('x1\n');
      appendFileSync(file, 'x2\n');
      unlinkSync(file);
      writeFileSync(file, 'y1\n');
      expect(await take(follower, 6)).toBe('x2\ny1\n');
    });
  });

  describe('truncation', () => {
    it('after truncation reads the new content from the start', async () => {
      const { file, follower } = await following('before truncation, long enough\n');
      truncateSync(file, 0);
      appendFileSync(file, 'after\n');
      expect(await take(follower, 6)).toBe('after\n');
    });

    it('notices a truncation rewritten past its position before it looked (the head changed), and skips nothing', async () => {
      const { file, follower } = await following(line('old 1'));
      truncateSync(file, 0);
      const rewritten = line('new 1') + line('new 2') + line('new 3');
      appendFileSync(file, rewritten);
      expect(await take(follower, bytes(rewritten))).toBe(rewritten);
    });

    it('a piece of a line whose rest was truncated away is ended with a newline', async () => {
      const { file, follower } = await following('the start of a line');
      truncateSync(file, 0);
      appendFileSync(file, line('new'));
      expect(await take(follower, 1 + bytes(line('new')))).toBe(`\n${line('new')}`);
    });

    it('copytruncate: what was written before the copy and not read yet comes from the copy, then the new content', async () => {
      for (const after of [line('new, short'), line('new 1') + line('new 2') + line('new 3')]) {
        const { dir, file, follower } = await following(line('old 1'));
        appendFileSync(file, line('old 2, unread at the copy'));
        copyFileSync(file, path.join(dir, 'nexus.log.1'));
        truncateSync(file, 0);
        appendFileSync(file, after);
        const expected = line('old 2, unread at the copy') + after;
        expect(await take(follower, bytes(expected))).toBe(expected);
        // The copy is not read again as a rotated file at the next rotation.
        renameSync(file, path.join(dir, 'nexus.log.2'));
        writeFileSync(file, line('rotated'));
        expect(await take(follower, bytes(line('rotated')))).toBe(line('rotated'));
      }
    });
  });

  describe('conditions of the file system', () => {
    it('a file deleted and not re-created: one warning, then it is read again when it is back', async () => {
      const { file, follower, warned, warnings } = await following(line('a1'));
      appendFileSync(file, line('a2'));
      unlinkSync(file);
      expect(await take(follower, bytes(line('a2')))).toBe(line('a2')); // the rest of the deleted file
      const next = follower.next();
      expect((await warned(/gone/)).message).toBe('nexus.log: gone (deleted or moved away); waiting for it to appear again');
      writeFileSync(file, line('b1'));
      expect(((await next).value as Buffer).toString()).toBe(line('b1'));
      await warned(/there again/);
      expect(warnings.map((w) => w.message)).toEqual(['nexus.log: gone (deleted or moved away); waiting for it to appear again', 'nexus.log: there again']);
    });

    it('a folder removed and re-created: it goes on in the new folder (watched again)', async () => {
      const root = tempDir();
      const dir = path.join(root, 'log');
      mkdirSync(dir);
      const file = path.join(dir, 'nexus.log');
      writeFileSync(file, '');
      const { ready, first, follower, warned } = follow(file, { pollMs: 50 });
      await ready;
      appendFileSync(file, line('a1'));
      expect(((await first).value as Buffer).toString()).toBe(line('a1'));
      rmSync(dir, { recursive: true });
      const next = follower.next();
      await warned(/gone/);
      mkdirSync(dir);
      writeFileSync(file, line('b1'));
      expect(((await next).value as Buffer).toString()).toBe(line('b1'));
    });

    it('never throws for the file system: a directory at the path is waited through', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'nexus.log');
      mkdirSync(file);
      const { ready, first, warned } = follow(file);
      expect((await ready).position).toBeNull();
      expect((await warned(/not a regular file/)).message).toBe('nexus.log: not a regular file; waiting for one');
      rmSync(file, { recursive: true });
      writeFileSync(file, 'now a file\n');
      expect(((await first).value as Buffer).toString()).toBe('now a file\n');
    });
  });

  describe('read-ahead', () => {
    it('reads what the file gets while the consumer does not pull: what a truncation removes afterwards is still handed over', async () => {
      const unread = line('a2, read ahead') + line('a3, read ahead');
      const { file, follower, warned } = await following(line('a1'), { readAheadBytes: bytes(unread) });
      appendFileSync(file, unread);
      // The warning says the read-ahead bound was reached: all of `unread` is in memory, none pulled.
      const full = await warned(/read and not consumed yet/);
      expect(full).toMatchObject({ code: 'ENOBUFS', message: `nexus.log: ${bytes(unread)} bytes read and not consumed yet; reading waits for the consumer (with copytruncate, lines written meanwhile can be lost)` });
      // Truncated with no copy: the old content is in no file any more, only in what was read.
      truncateSync(file, 0);
      appendFileSync(file, line('b1, after the truncation'));
      const expected = unread + line('b1, after the truncation');
      expect(await take(follower, bytes(expected))).toBe(expected);
    });

    it('stops reading ahead at readAheadBytes (plus one chunk), says so once, and reads on as the consumer pulls', async () => {
      const many = Array.from({ length: 40 }, (_, i) => line(`a${i + 2}`)).join('');
      const { file, follower, warned, warnings } = await following(line('a1'), { readAheadBytes: 100, chunkBytes: 64 });
      appendFileSync(file, many);
      await warned(/read and not consumed yet/);
      // Truncated with no copy: what was read ahead is all that is left of `many`.
      truncateSync(file, 0);
      appendFileSync(file, line('b1'));
      let text = '';
      while (!text.endsWith(line('b1'))) text += await take(follower, 1);
      const readAhead = text.slice(0, text.length - bytes(line('b1'))).replace(/\n$/, ''); // a cut line is ended with a newline
      expect(many.startsWith(readAhead)).toBe(true);
      expect(readAhead.length).toBeGreaterThanOrEqual(100);
      expect(readAhead.length).toBeLessThan(100 + 64);
      appendFileSync(file, many);
      expect(await take(follower, bytes(many))).toBe(many);
      expect(warnings.filter((w) => w.code === 'ENOBUFS')).toHaveLength(1);
    });
  });

  describe('abort', () => {
    /**
     * The poll is ten minutes and the guard 20 s: a pending next() that ends within the guard
     * was ended by the abort itself, not by the follower looking again on its poll.
     */
    const longPoll = { pollMs: 600_000 };
    async function abortEnds(stop: AbortController, pending: Promise<IteratorResult<Buffer>>): Promise<void> {
      stop.abort();
      expect((await within(pending, 20_000, () => 'the abort did not end it')).done).toBe(true);
    }

    it('while waiting for the file to appear', async () => {
      const { ready, first, stop, warned } = follow(path.join(tempDir(), 'nexus.log'), longPoll);
      expect((await ready).position).toBeNull();
      await warned(/not found/);
      await abortEnds(stop, first);
    });

    it('while waiting for data', async () => {
      const file = path.join(tempDir(), 'nexus.log');
      writeFileSync(file, '');
      const { ready, first, stop } = follow(file, longPoll);
      await ready;
      await abortEnds(stop, first);
    });

    it('between rotations (the old file read, the new one empty)', async () => {
      const { dir, file, follower, stop } = await following(line('a1'), longPoll);
      renameSync(file, path.join(dir, 'nexus.log.1'));
      writeFileSync(file, '');
      appendFileSync(path.join(dir, 'nexus.log.1'), line('a2'));
      expect(await take(follower, bytes(line('a2')))).toBe(line('a2'));
      await abortEnds(stop, follower.next());
    });

    it('while the file is gone (deleted, its rest read)', async () => {
      const { file, follower, stop } = await following(line('a1'), longPoll);
      appendFileSync(file, line('a2'));
      unlinkSync(file);
      expect(await take(follower, bytes(line('a2')))).toBe(line('a2'));
      await abortEnds(stop, follower.next());
    });

    it('while the read-ahead queue is full and the consumer does not pull', async () => {
      const { file, follower, stop, warned } = await following(line('a1'), { ...longPoll, readAheadBytes: bytes(line('a1')) + 1 });
      appendFileSync(file, line('a2, longer than the first line'));
      await warned(/read and not consumed yet/);
      stop.abort();
      // Nothing more is handed over once aborted, even what was read ahead.
      expect((await within(follower.next(), 20_000, () => 'the abort did not end it')).done).toBe(true);
    });
  });
});

/**
 * Permission denied: root reads anything, so the follower runs in a child process as an
 * unprivileged user (uid 65534 when the tests run as root; the user itself otherwise), from a
 * copy of follow-file.ts compiled the way Jest compiles it. The child reports by IPC.
 */
describe('followFile as an unprivileged user', () => {
  type Message = { ready?: FollowReady; warning?: FollowWarning; data?: string; done?: true; error?: string };
  const children: Array<{ kill: () => void }> = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
  });

  function followAsNobody(file: string, pollMs = 20) {
    const dir = compiledFollower();
    made.push(dir);
    writeFileSync(
      path.join(dir, 'child.js'),
      `const { followFile } = require('./follow-file.js');
const stop = new AbortController();
process.on('message', () => stop.abort());
(async () => {
  const options = { pollMs: Number(process.argv[3]), signal: stop.signal, onReady: (ready) => process.send({ ready }), onWarning: (warning) => process.send({ warning }) };
  for await (const chunk of followFile(process.argv[2], options)) process.send({ data: chunk.toString() });
  process.send({ done: true }, () => process.disconnect());
})().catch((error) => process.send({ error: String(error && error.stack) }, () => process.disconnect()));
`,
      { mode: 0o644 },
    );
    const asRoot = process.getuid?.() === 0;
    const child = fork(path.join(dir, 'child.js'), [file, String(pollMs)], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    children.push({ kill: () => child.kill() });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const messages: Message[] = [];
    const listeners: Array<() => void> = [];
    child.on('message', (message: Message) => {
      messages.push(message);
      for (const listener of listeners) listener();
    });
    child.on('exit', () => {
      for (const listener of listeners) listener();
    });
    /** Resolves when the messages so far satisfy `test`; guarded. */
    const until = (what: string, test: (all: Message[]) => boolean): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (test(messages)) resolve();
          };
          listeners.push(check);
          check();
        }),
        15_000,
        () => `waited in vain for ${what}; messages ${JSON.stringify(messages)}; stderr ${stderr}`,
      );
    const data = (): string => messages.map((m) => m.data ?? '').join('');
    const warnings = (): string[] => messages.flatMap((m) => (m.warning === undefined ? [] : [m.warning.message]));
    return { child, messages, until, data, warnings };
  }

  /** A nexus.log holding a1 that no one but root can read, in a folder anyone can enter. */
  function unreadableLog(): { dir: string; file: string } {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, line('a1'), { mode: 0o000 });
    chmodSync(file, 0o000);
    return { dir, file };
  }

  it('a file unreadable at start, then after a rotation: one warning each, read once readable again', async () => {
    const { dir, file } = unreadableLog();
    const { child, until, data, warnings, messages } = followAsNobody(file);
    await until('ready', (all) => all.some((m) => m.ready !== undefined));
    expect(messages.find((m) => m.ready)?.ready?.position).toBeNull();
    await until('a warning', () => warnings().length > 0);
    expect(warnings()).toEqual(['nexus.log: permission denied; waiting for it to become readable']);
    chmodSync(file, 0o644);
    // Unreadable at start means waited for: once readable it is read from its start.
    await until('a1', () => data() === line('a1'));
    expect(warnings()).toEqual(['nexus.log: permission denied; waiting for it to become readable', 'nexus.log: readable again']);

    // Rotated; the new file is created unreadable (the rotated one is still read through its descriptor).
    renameSync(file, path.join(dir, 'nexus.log.1'));
    writeFileSync(file, line('b1'), { mode: 0o000 });
    chmodSync(file, 0o000);
    appendFileSync(path.join(dir, 'nexus.log.1'), line('a2'));
    await until('a2', () => data() === line('a1') + line('a2'));
    await until('a second warning', () => warnings().length === 3);
    chmodSync(file, 0o644);
    await until('b1', () => data() === line('a1') + line('a2') + line('b1'));
    expect(warnings().slice(2)).toEqual(['nexus.log: permission denied; waiting for it to become readable', 'nexus.log: readable again']);

    // Unreadable again, and stopped while waiting for it.
    renameSync(file, path.join(dir, 'nexus.log.2'));
    writeFileSync(file, line('c1'), { mode: 0o000 });
    chmodSync(file, 0o000);
    await until('a third warning', () => warnings().length === 5);
    child.send('stop');
    await until('the end', (all) => all.some((m) => m.done === true || m.error !== undefined));
    expect(messages.find((m) => m.error !== undefined)).toBeUndefined();
  }, 30_000);

  it('an abort ends the wait for an unreadable file (the poll is ten minutes: only the abort can end it)', async () => {
    const { file } = unreadableLog();
    const { child, until, warnings, messages } = followAsNobody(file, 600_000);
    await until('a warning', () => warnings().length > 0);
    expect(warnings()).toEqual(['nexus.log: permission denied; waiting for it to become readable']);
    child.send('stop');
    await until('the end', (all) => all.some((m) => m.done === true || m.error !== undefined));
    expect(messages.find((m) => m.error !== undefined)).toBeUndefined();
  }, 30_000);
});

describe('CLI --follow', () => {
  /** Starts the CLI; `until` waits for its output to satisfy a test (no sleeps: `--ready` and --lifecycle say when). */
  function cli(args: string[]) {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    let stderr = '';
    const listeners: Array<() => void> = [];
    const changed = (): void => {
      for (const listener of listeners) listener();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      changed();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      changed();
    });
    const incidents = (): Array<Incident & { image: string; lifecycle?: string }> =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((text) => JSON.parse(text) as Incident & { image: string; lifecycle?: string });
    const until = (test: () => boolean): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (test()) resolve();
          };
          listeners.push(check);
          check();
        }),
        15_000,
        () => `waited in vain; stdout: ${stdout}; stderr: ${stderr}`,
      );
    /** Resolves with the `ready:` line once --ready printed it. */
    const ready = async (): Promise<string> => {
      await until(() => /^ready: .*\n/m.test(stderr));
      return (/^ready: .*$/m.exec(stderr) as RegExpExecArray)[0];
    };
    return { child, closed, incidents, until, ready, stderr: () => stderr };
  }

  it('--ready says when the file is open at its end: a push appended then, spanning a rotation, is one incident; open pushes on SIGTERM', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'nexus.log');
    // History: a complete push already there is not read (it starts at the end).
    const history = `${missingLayerLine('2025-01-01 23:00:00,000+0000', 'l0', 'history/app', '1')}\n${rejectionLine('2025-01-01 23:00:00,004+0000', 'history/app', '1')}\n`;
    writeFileSync(file, history);
    const run = cli(['--follow', '--ready', '--lifecycle', dir]);
    expect(await run.ready()).toBe(`ready: following ${file} at ${bytes(history)}`);
    appendFileSync(file, `${missingLayerLine('2025-01-01 23:59:59,990+0000', 'l1', 'rotating/app', '1')}\n`);
    renameSync(file, path.join(dir, 'nexus-2025-01-01.log'));
    writeFileSync(file, `${rejectionLine('2025-01-02 00:00:00,004+0000', 'rotating/app', '1')}\n`);
    await run.until(() => run.incidents().some((i) => i.lifecycle === 'closed'));
    appendFileSync(file, `${missingLayerLine('2025-01-02 00:00:01,000+0000', 'l2', 'open/app', '1', { thread: 'other' })}\n`);
    await run.until(() => run.incidents().some((i) => i.image === 'open/app'));
    run.child.kill('SIGTERM');
    expect(await run.closed).toBe(0);
    // The push rule's incidents (other rules may report the same lines their way).
    const pushes = run.incidents().filter((i) => i.lifecycle === 'closed' && i.rule === 'docker-manifest-missing-layers');
    expect(pushes.map((i) => [i.image, i.closeReason, i.evidence.length])).toEqual([
      ['rotating/app', 'matched', 2],
      ['open/app', 'shutdown', 1],
    ]);
    expect(run.stderr()).not.toMatch(/ready: reading/);
  }, 30_000);

  it('--from-start reads what is already there; --ready says it starts at 0', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'nexus.log');
    writeFileSync(file, `${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'there/app', '1')}\n${rejectionLine('2025-01-01 10:00:00,004+0000', 'there/app', '1')}\n`);
    const run = cli(['--follow', '--from-start', '--ready', file]);
    expect(await run.ready()).toBe(`ready: following ${file} at 0`);
    await run.until(() => run.incidents().length > 0);
    expect(run.incidents()[0]?.image).toBe('there/app');
    run.child.kill('SIGINT');
    expect(await run.closed).toBe(0);
  }, 30_000);

  it('--ready on a file that does not exist yet says it will read it from its start', async () => {
    const file = path.join(tempDir(), 'nexus.log');
    const run = cli(['--follow', '--ready', file]);
    expect(await run.ready()).toBe(`ready: following ${file} at start`);
    writeFileSync(file, `${missingLayerLine('2025-01-01 10:00:00,000+0000', 'l1', 'later/app', '1')}\n${rejectionLine('2025-01-01 10:00:00,004+0000', 'later/app', '1')}\n`);
    await run.until(() => run.incidents().length > 0);
    expect(run.incidents()[0]?.image).toBe('later/app');
    run.child.kill('SIGTERM');
    expect(await run.closed).toBe(0);
  }, 30_000);
});
