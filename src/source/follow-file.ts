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
import { promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export interface FollowOptions {
  /** Read the file from its start instead of from its current end. */
  fromStart?: boolean;
  /** Read the file there at start from this byte offset (a checkpoint's). Wins over `fromStart`. */
  position?: number;
  /** How often to look for new data, rotation or truncation while idle. Default 50 ms. */
  pollMs?: number;
  signal?: AbortSignal;
  chunkBytes?: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await fs.stat(path);
  } catch {
    return null;
  }
}

export async function* followFile(path: string, options: FollowOptions = {}): AsyncGenerator<Buffer> {
  const pollMs = options.pollMs ?? 50;
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
          await sleep(pollMs, signal); // not there yet (or between rotation steps)
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
      await sleep(pollMs, signal);
    }
  } finally {
    await handle?.close();
  }
}
