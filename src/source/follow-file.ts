/**
 * Follows a log file like `tail -F`: yields the bytes appended to it, and keeps going across
 * daily rotation (the file renamed, then compressed, and a new one created), copytruncate and
 * truncation, and a file that does not exist yet.
 *
 * Pull-based: nothing is read until the caller asks, so a slow consumer holds no data in
 * memory. The file being read stays open: when the path is rotated away, the old file is read
 * to its end through its descriptor (even once renamed or deleted) before the new one is
 * opened, so no line is lost or read twice across a rotation.
 */
import { watch, promises as fs, type FSWatcher, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as nodePath from 'node:path';

/** A condition of the file system the follower met and goes on through (it retries). */
export interface FollowWarning {
  path: string;
  /** One line for a person, e.g. `nexus.log: permission denied; retrying`. */
  message: string;
  code?: string;
}

export interface FollowOptions {
  /** Called once per condition (unreadable, vanished...): the follower goes on and retries. */
  onWarning?: (warning: FollowWarning) => void;
  /** Read the file from its start instead of from its current end. */
  fromStart?: boolean;
  /** Read the file there at start from this byte offset (a checkpoint's). Wins over `fromStart`. */
  position?: number;
  /**
   * Longest wait before looking again for new data, rotation or truncation while idle. The
   * folder is watched (inotify), so changes wake the follower at once; this is the safety net
   * for file systems that do not report changes (NFS). Default 250 ms.
   */
  pollMs?: number;
  signal?: AbortSignal;
  chunkBytes?: number;
}

/** Wakes a waiting follower when its folder changes, when `ms` passed, or when aborted. */
class Waker {
  private wake: (() => void) | null = null;
  private changed = false;
  private readonly watcher: FSWatcher | null;

  constructor(path: string) {
    let watcher: FSWatcher | null = null;
    try {
      const base = nodePath.basename(path);
      watcher = watch(nodePath.dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || name === base || String(name).startsWith(base)) this.notify();
      });
      watcher.on('error', () => undefined); // the folder went away: the poll carries on
    } catch {
      watcher = null; // cannot watch (no folder yet, or not supported): poll only
    }
    this.watcher = watcher;
  }

  notify(): void {
    this.changed = true;
    this.wake?.();
  }

  /** Waits `ms`, or less on a change or abort; leaves no listener behind either way. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.changed || signal?.aborted === true) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = null;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await fs.stat(path);
  } catch {
    return null;
  }
}

export async function* followFile(path: string, options: FollowOptions = {}): AsyncGenerator<Buffer> {
  const pollMs = options.pollMs ?? 250;
  const waker = new Waker(path);
  const chunkBytes = options.chunkBytes ?? 256 * 1024;
  const { signal } = options;
  let handle: FileHandle | null = null;
  let inode = -1;
  let position = 0;
  // Only the file there at start is skipped to its end; a file that appears later is all new.
  let skipToEnd = options.fromStart !== true && (await statOrNull(path))?.isFile() === true;
  let startAt = options.position;

  try {
    while (signal?.aborted !== true) {
      if (handle === null) {
        const stats = await statOrNull(path);
        if (stats === null || !stats.isFile()) {
          await waker.wait(pollMs, signal); // not there yet (or between rotation steps)
          continue;
        }
        handle = await fs.open(path, 'r');
        const opened = await handle.stat();
        inode = opened.ino;
        position = startAt ?? (skipToEnd ? opened.size : 0);
        // A file shorter than the checkpoint's offset was rotated or truncated meanwhile: read it all.
        if (position > opened.size) position = 0;
        skipToEnd = false;
        startAt = undefined;
      }

      const buffer = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
      if (bytesRead > 0) {
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
        continue;
      }

      // At the end of what is there: has it been truncated, or rotated away?
      const current = await handle.stat();
      if (current.size < position) {
        position = 0; // truncated (copytruncate): the new content starts at 0
        continue;
      }
      const atPath = await statOrNull(path);
      if (atPath === null || atPath.ino !== inode) {
        // Rotated: the old file was read to its end just now; if it grew meanwhile, read on.
        if ((await handle.stat()).size > position) continue;
        await handle.close();
        handle = null;
        continue;
      }
      await waker.wait(pollMs, signal);
    }
  } finally {
    waker.close();
    await handle?.close();
  }
}
