/**
 * Follows a log file like `tail -F`: yields the bytes appended to it, and keeps going across
 * rotation (the file renamed, then maybe compressed and deleted, and a new one created, however
 * many times between two looks), copytruncate, truncation, deletion, a file that is unreadable
 * for a while, and a file that does not exist yet.
 *
 * Reads ahead: new bytes are read as soon as the file grows (the folder's watch, or the poll),
 * into a queue in memory, however slowly the caller pulls, as `tail -F` reads as soon as data
 * arrives. With copytruncate, what the writer appended between the copy and the truncation is in
 * no file: only a reader that read it before the truncation has it. The queue is bounded
 * (`readAheadBytes`, plus one chunk): once it is full, reading waits for the caller (said once
 * through `onWarning`) and the file is the buffer again. Positions count bytes read, not bytes
 * handed over, so truncation and rotation are judged by what was read. The files rotated away
 * and not read yet stay open (up to MAX_OPEN).
 *
 * How no line is lost or read twice:
 *
 * - **A queue of open files.** The file being read stays open (`queue[0]`). Whenever the path
 *   shows a file we do not hold (a rotation, a deletion and re-creation), that file is opened at
 *   once and queued behind, so what the path held is kept even if it is rotated away again
 *   before we get to it. Files are read in queue order, each to its end through its own
 *   descriptor (also once renamed or deleted). Opening does not wait for the reader: the folder
 *   is watched (inotify), and a new name at the path is opened from the watch callback even
 *   while the consumer is busy, before anything else is done with it (grab, then integrate),
 *   so a file that lives a few milliseconds at the path is still caught; the poll (`pollMs`)
 *   does the same where nothing is reported (NFS).
 *
 * - **When a rotated file is done.** A rotated file is closed only once a later file in the
 *   queue holds data, after one last read to its end. A writer that opens the path for each
 *   write may still append to the old file just after the rename; a sequential writer has
 *   finished with the old file once it has written to the new one, so nothing it wrote is left
 *   behind. Until then the old file is watched too (its late lines come in order, before the
 *   new file's).
 *
 * - **Rotated and replaced before we looked** (`mv nexus.log nexus.log.1 && touch nexus.log`
 *   twice in a row, or five dated rotations while reading was held up by a full queue): the middle files
 *   were never at the path while we looked, so they are looked for among the siblings, each time
 *   a new file is found at the path. A sibling is a rotated copy of the path when its name is one
 *   of the rotated names (`nexus.log.1`, `nexus.log-20250101`, `nexus-2025-01-01.log`, logback's
 *   `nexus-2025-01-01.log...tmp` before compression: the name of the file, or its stem followed
 *   by `.`, `-` or `_` and a digit), it is a non-empty plain-text file (gzip is skipped), and it
 *   is not known: not open in the queue (by device and inode), and its first bytes (its head,
 *   up to HEAD_BYTES) are not those of a file already read, of an earlier generation of a
 *   truncated file (the copies copytruncate leaves), or of a file that was there at start (the
 *   rotated history, which a follower that starts at the end does not read). Inodes alone are
 *   not enough: a deleted file's inode is reused. Heads alone are not either for a few bytes,
 *   so heads shorter than MIN_HEAD only match the same inode. The files found are queued before
 *   the new file, oldest first: by birth time where the file system records it, otherwise by
 *   modification time, and on a tie by name (`.2` before `.1`, dates in order). Files that were
 *   overwritten (a second `mv` onto `nexus.log.1`) or deleted before being opened cannot be
 *   reached any more; with the watch they are opened within a scheduling delay of appearing.
 *
 * - **Truncation (copytruncate).** Reads go as far as the file goes (a read shorter than asked
 *   is its end); then, in one go, its size and head are compared with what was read (and, at its
 *   end, the path is looked at): if the file got shorter than what was read, or its head changed
 *   (truncated, then rewritten past our position before we looked), reading starts again at 0,
 *   so the lines written right after the truncation are not skipped. A chunk read while this
 *   happened is kept only if it still differs from what the file holds there now (then it was
 *   the old content). Then, in this order: the old content between our position and the
 *   truncation, from its copy when there is one (a sibling whose head is that of the truncated
 *   content and whose bytes just before our position are the last bytes we read); the contents
 *   truncated in between when it was truncated several times before we looked, from their own
 *   copies (unknown siblings, as above, leaving out a copy of what the file holds now); and
 *   what it holds now, from 0. The copies are looked for while what it holds now is read on
 *   (held, and handed over after them): the search takes several rounds of file-system calls,
 *   and a writer truncated in quick succession must not find us looking elsewhere. The head of
 *   what it holds now is taken at once, so that if this too is truncated before we read any of
 *   it, the change is seen at 0 as well and its copy is read. What the writer appended between
 *   a copy and its truncation is in no file: it is read only if we read it before the
 *   truncation (we read ahead, in step with the writer: the folder is watched). When what was
 *   read last ends within a line whose rest is in no file, a newline is yielded, so that the
 *   next content's first line is not glued to it.
 *
 * - **Conditions of the file system** (not found, permission denied, read errors) never end the
 *   follower: each is reported once through `onWarning`, retried every `pollMs`, and its end is
 *   reported once more (`readable again`). A path missing briefly between the steps of a
 *   rotation is not worth a word: only after MISSING_GRACE_MS (or at start).
 */
import { constants, watch, promises as fs, type FSWatcher, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as nodePath from 'node:path';

/** A condition of the file system the follower met and goes on through (it retries). */
export interface FollowWarning {
  path: string;
  /** One line for a person, e.g. `nexus.log: permission denied; waiting for it to become readable`. */
  message: string;
  /** The error code (`EACCES`, `ENOENT`...), absent on the message saying the condition ended. */
  code?: string;
}

/** Given to `onReady` once, when the follower has opened the file at its start position (or is waiting for it). */
export interface FollowReady {
  path: string;
  /**
   * The byte offset reading starts at in the file at the path, or null when there is no
   * readable file yet: whatever appears there is then read from its start. Either way, from
   * now on every byte written to the path is read.
   */
  position: number | null;
}

export interface FollowOptions {
  /** Called once per condition (unreadable, vanished...): the follower goes on and retries. */
  onWarning?: (warning: FollowWarning) => void;
  /**
   * Called once, on the first `next()`, when the file is open at its start position (or found
   * missing or unreadable, and waited for): anything written from then on will be read. Tests
   * and supervisors wait on this instead of sleeping.
   */
  onReady?: (ready: FollowReady) => void;
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
  /** Largest chunk yielded (reads are at least this big). Default 256 KiB. */
  chunkBytes?: number;
  /**
   * Bytes read ahead of the caller at most (plus one chunk): past it, reading waits until the
   * caller catches up, and `onWarning` says so once. Default 16 MiB; 0 reads one chunk ahead.
   */
  readAheadBytes?: number;
}

/** Bytes of a file's start kept to recognise it (and its copies), and to notice it was truncated. */
const HEAD_BYTES = 256;
/** Heads shorter than this recognise a file only together with its inode. */
const MIN_HEAD = 32;
/** Last bytes read, kept to find where we were in a copy made by copytruncate. */
const TAIL_BYTES = 64;
/** Files open at once (rotated, not read yet); beyond, new ones are found by the sibling scan later. */
const MAX_OPEN = 64;
/** Identities of files read, or there at start, kept to tell rotated files from history and copies. */
const MAX_KNOWN = 10_000;
/** A path missing this long (after it existed) is worth a warning; shorter is a rotation in progress. */
const MISSING_GRACE_MS = 1000;
/** Largest read (or chunkBytes when larger): a reader behind catches up in few reads. */
const READ_BYTES = 256 * 1024;
/** Bytes read in one run before they are checked and handed over, so a consumer is not kept waiting. */
const RUN_BYTES = 1024 * 1024;
const DEFAULT_READ_AHEAD = 16 * 1024 * 1024;

const COMPRESSED = /\.(gz|zip|bz2|xz|zst|lz4|z)$/i;

/** True when `name` is one of the names a rotation gives to `base` (see the header comment). */
function isRotatedName(name: string, base: string): boolean {
  if (name === base) return false;
  if (name.startsWith(base) && /^[-._]./.test(name.slice(base.length))) return true;
  const ext = nodePath.extname(base);
  const stem = ext === '' ? base : base.slice(0, -ext.length);
  return stem !== base && stem !== '' && name.startsWith(stem) && /^[-._]\d/.test(name.slice(stem.length));
}

/** Age rank for siblings rotated in the same clock tick: `.2` is older than `.1`; otherwise names sort in date order. */
function byName(a: string, b: string): number {
  const na = /\.(\d+)$/.exec(a);
  const nb = /\.(\d+)$/.exec(b);
  if (na !== null && nb !== null && a.slice(0, na.index) === b.slice(0, nb.index)) return Number(nb[1]) - Number(na[1]);
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** True when the shorter of two heads is a prefix of the longer (and they are not empty). */
function samePrefix(a: Buffer, b: Buffer): boolean {
  const n = Math.min(a.length, b.length);
  return n > 0 && a.subarray(0, n).equals(b.subarray(0, n));
}

/** True when the last byte read of `file` is not the end of a line. */
function endsWithinLine(file: { tail: Buffer }): boolean {
  return file.tail.length > 0 && file.tail[file.tail.length - 1] !== 0x0a;
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

async function readAt(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** Opens without blocking on a FIFO (a regular file ignores O_NONBLOCK). */
function openForReading(path: string): Promise<FileHandle> {
  return fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
}

/** One file in the queue, read through its own descriptor. */
interface Tracked {
  handle: FileHandle;
  dev: number;
  ino: number;
  name: string;
  position: number;
  /** The first bytes of its current content (up to HEAD_BYTES): taken when found or truncated, grown as read. */
  head: Buffer;
  /** The last bytes read before `position` (up to TAIL_BYTES). */
  tail: Buffer;
  /** A later file holds data (or this is a copy): read to the end once more, then close. */
  final: boolean;
  /**
   * Read from its start after a truncation while the old content's copies were looked for:
   * handed over once the files found are read (they hold what came before).
   */
  held: Buffer[];
}

/** The old content of a file at its truncation, for the search of its copies. */
type Generation = Pick<Tracked, 'dev' | 'ino' | 'position' | 'head' | 'tail'>;

/** Where the rest of a truncated file's old content is, found while its new content is read (header: "Truncation"). */
interface CopySearch {
  file: Tracked;
  done: Promise<void>;
  /** Null until done: the copies to read before the file, and whether the old content ended within a line. */
  found: { copies: Tracked[]; brokenLine: boolean } | null;
  /** Truncated again meanwhile: not read further until the search is done. */
  stalled: boolean;
}

interface Grabbed {
  handle: FileHandle;
  stats: Stats;
}

interface Sibling {
  name: string;
  stats: Stats;
  head: Buffer;
}

function sameFile(a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

interface Known {
  dev: number;
  ino: number;
  head: Buffer;
}

type Problem = { kind: 'missing' | 'denied' | 'error'; code: string; since: number; announced: boolean };

/** Wakes a waiting follower when its folder changes, when `ms` passed, or when aborted. */
class Waker {
  private wake: (() => void) | null = null;
  private changed = false;
  private watcher: FSWatcher | null = null;
  private watchedDir = -1;
  private lastArm = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly dir: string;
  private readonly base: string;
  private readonly stem: string;

  /** `onPath`: a name was created, removed or renamed at the path itself (not a mere append). */
  constructor(
    path: string,
    private readonly onPath: () => void,
  ) {
    this.dir = nodePath.dirname(path);
    this.base = nodePath.basename(path);
    const ext = nodePath.extname(this.base);
    this.stem = ext === '' ? this.base : this.base.slice(0, -ext.length);
  }

  /** Watches the folder, again when it was removed and re-created; at most once per `everyMs`. */
  async arm(everyMs: number): Promise<void> {
    const now = Date.now();
    if (this.closed || now - this.lastArm < everyMs) return;
    this.lastArm = now;
    let ino = -1;
    try {
      ino = (await fs.stat(this.dir)).ino;
    } catch {
      ino = -1; // no folder (yet): poll
    }
    if (this.closed || (this.watcher !== null && ino === this.watchedDir)) return;
    this.watcher?.close();
    this.watcher = null;
    this.watchedDir = ino;
    if (ino === -1) return;
    try {
      const watcher = watch(this.dir, { persistent: false }, (event, name) => {
        if (name === null || name === this.base) {
          if (event === 'rename' || name === null) this.onPath();
          this.notify();
        } else if (String(name).startsWith(this.stem)) this.notify();
      });
      watcher.on('error', () => {
        // The folder went away: the poll carries on, and the next arm() watches the new one.
        watcher.close();
        if (this.watcher === watcher) this.watcher = null;
        this.lastArm = Number.NEGATIVE_INFINITY;
      });
      this.watcher = watcher;
    } catch {
      this.watcher = null; // cannot watch (not supported): poll only
    }
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
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
  }
}

class Follower {
  private readonly dir: string;
  private readonly base: string;
  private readonly pollMs: number;
  private readonly chunkBytes: number;
  private readonly readBytes: number;
  private readonly waker: Waker;
  /** Files to read, oldest first; the last one is (or was) the one at the path. */
  private readonly queue: Tracked[] = [];
  private readonly known: Known[] = [];
  private scratch: Buffer | null = null;
  private closed = false;
  private capturing: Promise<void> = Promise.resolve();
  private integrateQueued = false;
  /** Files opened at the path, not queued yet (integrate() does it, in turn). */
  private readonly grabbed: Grabbed[] = [];
  private pathProblem: Problem | null = null;
  private readProblem: Problem | null = null;
  private tooManyAnnounced = false;
  /** A file was open at the path once: missing now is "gone", not "not found". */
  private everOpened = false;
  private readonly notices: FollowWarning[] = [];
  /**
   * What was read last ended within a line whose rest is in no file (truncated away, or a
   * rotated file ending without a newline): a newline is yielded before the next content, so
   * its first line is not glued to that piece.
   */
  private brokenLine = false;
  /** Chunks read and not handed to the caller yet, oldest first, and their bytes. */
  private readonly ahead: Buffer[] = [];
  private aheadBytes = 0;
  /** Bytes held in files' `held` (counted in the read-ahead bound too). */
  private heldBytes = 0;
  private search: CopySearch | null = null;
  private readonly readAheadBytes: number;
  private fullAnnounced = false;
  /** Aborted by the caller's signal, or when the caller is done: ends reading and every wait. */
  private readonly halt = new AbortController();
  private readonly relayAbort = (): void => this.halt.abort();
  /** Wakes the caller (a chunk came, reading ended) and the reader (room in the queue). */
  private chunkCame: (() => void) | null = null;
  private roomMade: (() => void) | null = null;

  constructor(
    private readonly path: string,
    private readonly options: FollowOptions,
  ) {
    this.dir = nodePath.dirname(path);
    this.base = nodePath.basename(path);
    this.pollMs = options.pollMs ?? 250;
    this.chunkBytes = Math.max(1, options.chunkBytes ?? 256 * 1024);
    this.readBytes = Math.max(this.chunkBytes, READ_BYTES);
    this.readAheadBytes = Math.max(0, options.readAheadBytes ?? DEFAULT_READ_AHEAD);
    this.waker = new Waker(path, () => void this.capture(true));
    if (options.signal?.aborted === true) this.halt.abort();
    else options.signal?.addEventListener('abort', this.relayAbort, { once: true });
  }

  private get aborted(): boolean {
    return this.halt.signal.aborted;
  }

  /** Hands over what the reader read ahead, joining queued chunks up to chunkBytes; ends at once on abort. */
  async *chunks(): AsyncGenerator<Buffer> {
    let failure: { error: unknown } | null = null;
    let reading = true;
    const reader = this.readAhead()
      .catch((error: unknown) => {
        failure = { error };
      })
      .finally(() => {
        reading = false;
        this.chunkCame?.();
      });
    try {
      while (!this.aborted) {
        const chunk = this.takeAhead();
        if (chunk !== null) {
          yield chunk;
          continue;
        }
        if (!reading) break;
        await this.until('chunkCame');
      }
      if (failure !== null && !this.aborted) throw (failure as { error: unknown }).error;
    } finally {
      this.halt.abort();
      await reader;
    }
  }

  /** The queued chunks, joined or cut to chunkBytes, or null when none is queued. */
  private takeAhead(): Buffer | null {
    const first = this.ahead.shift();
    if (first === undefined) return null;
    let chunk = first;
    if (first.length > this.chunkBytes) {
      chunk = first.subarray(0, this.chunkBytes);
      this.ahead.unshift(first.subarray(this.chunkBytes));
    } else if (first.length < this.chunkBytes && this.ahead.length > 0) {
      const parts = [first];
      let length = first.length;
      while (this.ahead.length > 0 && length + (this.ahead[0] as Buffer).length <= this.chunkBytes) {
        const next = this.ahead.shift() as Buffer;
        parts.push(next);
        length += next.length;
      }
      chunk = parts.length === 1 ? first : Buffer.concat(parts, length);
    }
    this.aheadBytes -= chunk.length;
    this.roomMade?.();
    return chunk;
  }

  /** Resolves when `which` is called, or on abort. */
  private until(which: 'chunkCame' | 'roomMade'): Promise<void> {
    if (this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.halt.signal.removeEventListener('abort', done);
        if (this[which] === done) this[which] = null;
        resolve();
      };
      this.halt.signal.addEventListener('abort', done, { once: true });
      this[which] = done;
    });
  }

  /** As much is read ahead as allowed: reading waits for the caller (never while the caller has nothing to take). */
  private get full(): boolean {
    return this.aheadBytes > 0 && this.room <= 0;
  }

  private get room(): number {
    return this.readAheadBytes - this.aheadBytes - this.heldBytes;
  }

  /** Queues a chunk for the caller. */
  private hand(chunk: Buffer): void {
    this.ahead.push(chunk);
    this.aheadBytes += chunk.length;
    this.chunkCame?.();
  }

  /** Reads the files in queue order as soon as they hold data, until aborted (see the header). */
  private async readAhead(): Promise<void> {
    await this.start();
    while (!this.aborted) {
      this.announce();
      if (this.search !== null) {
        await this.readWhileSearching(this.search);
        continue;
      }
      if (this.full) {
        this.queueFull();
        await this.until('roomMade');
        continue;
      }
      if (this.brokenLine) {
        this.brokenLine = false;
        this.hand(Buffer.from('\n'));
        continue;
      }
      const file = this.queue[0];
      if (file === undefined) {
        await this.capture();
        if (this.queue.length === 0) await this.idle();
        continue;
      }
      if (file.held.length > 0) {
        for (const chunk of file.held.splice(0)) {
          this.heldBytes -= chunk.length;
          this.hand(chunk);
        }
        continue;
      }

      const step = await this.readOrReport(file);
      if (step === null) {
        await this.idle();
        continue;
      }
      for (const chunk of step.kind === 'truncated' ? step.before : step.chunks) this.hand(chunk);
      if (step.kind === 'truncated') {
        this.truncated(file, step.head);
        continue;
      }
      // Full: wait for room first (the end of the file is looked at again after).
      if (step.kind === 'data' || this.full) continue;
      try {
        if (await this.onward(file, step.queued)) continue;
      } catch (error) {
        this.readFailed(error);
      }
      await this.idle();
    }
  }

  /**
   * While the copies of a truncated file's old content are looked for, its new content is read
   * on (held, not handed over yet), so that a second truncation meanwhile does not take it.
   */
  private async readWhileSearching(search: CopySearch): Promise<void> {
    if (search.found !== null) {
      this.search = null;
      const at = this.queue.indexOf(search.file);
      if (search.found.brokenLine) this.brokenLine = true;
      this.queue.splice(at === -1 ? 0 : at, 0, ...search.found.copies);
      return;
    }
    if (search.stalled || this.room <= 0) {
      if (!search.stalled) this.queueFull();
      await this.settled(search.done);
      return;
    }
    const file = search.file;
    const step = await this.readOrReport(file);
    if (step === null) {
      await Promise.race([search.done, this.idle()]);
      return;
    }
    for (const chunk of step.kind === 'truncated' ? step.before : step.chunks) {
      file.held.push(chunk);
      this.heldBytes += chunk.length;
    }
    // Truncated again: noticed again once what was held is handed over (the file's position is past it).
    if (step.kind === 'truncated') search.stalled = true;
    else if (step.kind === 'eof') await this.idle(); // the search's end wakes it
  }

  /** read() as far as there is room, a failure reported (once) instead of thrown: null then. */
  private async readOrReport(file: Tracked): Promise<Step | null> {
    try {
      const step = await this.read(file, this.room);
      this.readOk();
      return step;
    } catch (error) {
      this.readFailed(error);
      return null;
    }
  }

  /** Resolves when `promise` settles, or on abort. */
  private settled(promise: Promise<unknown>): Promise<void> {
    if (this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.halt.signal.removeEventListener('abort', done);
        resolve();
      };
      this.halt.signal.addEventListener('abort', done, { once: true });
      void promise.finally(done);
    });
  }

  /** At the end of the first file: true to read on at once, false to wait. `queued`: the queue's length when the path was looked at. */
  private async onward(file: Tracked, queued: number): Promise<boolean> {
    if (this.queue.length > 1) {
      if (file.final) {
        await this.finish(file);
        return true;
      }
      if (await this.laterHasData()) {
        file.final = true; // one more read to its end, then the next file
        return true;
      }
    }
    // The path was looked at with the read: has it moved on to another file?
    return this.queue.length !== queued || this.queue[0] !== file;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.halt.abort();
    this.options.signal?.removeEventListener('abort', this.relayAbort);
    this.waker.close();
    this.ahead.splice(0);
    await this.capturing;
    // Copies found by a search not applied yet are open too.
    await this.search?.done;
    for (const copy of this.search?.found?.copies ?? []) await copy.handle.close().catch(() => undefined);
    this.search = null;
    const handles = [...this.queue.splice(0), ...this.grabbed.splice(0)].map((file) => file.handle);
    await Promise.all(handles.map((handle) => handle.close().catch(() => undefined)));
  }

  /** Opens the file at its start position; what is in the folder now is history. */
  private async start(): Promise<void> {
    let opened: Tracked | null = null;
    try {
      const handle = await openForReading(this.path);
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
        let position = this.options.position ?? (this.options.fromStart === true ? 0 : stats.size);
        // A file shorter than the checkpoint's offset was rotated or truncated meanwhile: read it all.
        if (position > stats.size || position < 0) position = 0;
        const head = await readAt(handle, HEAD_BYTES, 0);
        const tail = await readAt(handle, Math.min(TAIL_BYTES, position), position - Math.min(TAIL_BYTES, position));
        opened = { handle, dev: stats.dev, ino: stats.ino, name: this.base, position, head, tail, final: false, held: [] };
        this.queue.push(opened);
        this.everOpened = true;
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      this.pathFailed(error);
    }
    // Watched once opened (a change seen earlier could grab that same file twice); what changes
    // in between is seen by the first look at the path.
    await this.waker.arm(0);
    // After opening: a rotation in between leaves the opened file in the queue, not in history.
    for (const sibling of await this.siblings()) {
      this.remember(sibling.stats, sibling.head);
    }
    this.options.onReady?.({ path: this.path, position: opened?.position ?? null });
  }

  /**
   * Looks at the path; a file there that is not in the queue is opened at once (grab), then
   * queued after the rotated files that came before it and were never seen at the path (see the
   * header). Grabbing is not held up by the queueing of an earlier file (its sibling scan):
   * a file that lives a few milliseconds at the path is still caught. `eager` (a name changed at
   * the path): open first, no stat.
   */
  private capture(eager = false): Promise<void> {
    const grabbing = this.grab(eager).catch(() => undefined);
    if (this.integrateQueued) return this.capturing.then(() => grabbing);
    this.integrateQueued = true;
    this.capturing = this.capturing
      .then(() => grabbing)
      .then(() => {
        this.integrateQueued = false;
        return this.integrate();
      })
      .catch(() => undefined);
    return this.capturing;
  }

  /** Opens the file at the path unless it is held already (queued or grabbed). */
  private async grab(eager: boolean): Promise<void> {
    if (this.closed) return;
    if (!eager) {
      let stats: Stats;
      try {
        stats = await fs.stat(this.path);
      } catch (error) {
        this.pathFailed(error);
        return;
      }
      if (!stats.isFile()) {
        this.pathFailed(Object.assign(new Error('not a file'), { code: 'ENOTFILE' }));
        return;
      }
      if (this.isHeld(stats)) {
        this.pathOk();
        return;
      }
    }
    if (this.queue.length + this.grabbed.length >= MAX_OPEN) {
      this.tooMany();
      return;
    }
    let handle: FileHandle;
    try {
      handle = await openForReading(this.path);
    } catch (error) {
      this.pathFailed(error);
      return;
    }
    let keep = false;
    try {
      const opened = await handle.stat();
      if (!opened.isFile()) {
        this.pathFailed(Object.assign(new Error('not a file'), { code: 'ENOTFILE' }));
        return;
      }
      this.pathOk();
      if (this.closed || this.isHeld(opened)) return;
      // In the order they were at the path: by birth where it is recorded (grabs may end out of order).
      const at = this.grabbed.findIndex((other) => opened.birthtimeMs > 0 && other.stats.birthtimeMs > opened.birthtimeMs);
      this.grabbed.splice(at === -1 ? this.grabbed.length : at, 0, { handle, stats: opened });
      keep = true;
    } catch (error) {
      this.pathFailed(error);
    } finally {
      if (!keep) await handle.close().catch(() => undefined);
    }
  }

  /** Queues the grabbed files, each after the rotated files missed before it. */
  private async integrate(): Promise<void> {
    while (this.grabbed.length > 0 && !this.closed) {
      const { handle, stats } = this.grabbed[0] as Grabbed;
      const missed = await this.unknownSiblings((sibling) => this.grabbed.some((g) => sameFile(g.stats, sibling.stats)), false);
      const head = await readAt(handle, HEAD_BYTES, 0).catch(() => Buffer.alloc(0));
      this.grabbed.shift();
      if (this.closed) {
        await Promise.all([handle, ...missed.map((file) => file.handle)].map((h) => h.close().catch(() => undefined)));
        return;
      }
      this.queue.push(...missed, { handle, dev: stats.dev, ino: stats.ino, name: this.base, position: 0, head, tail: Buffer.alloc(0), final: false, held: [] });
      this.everOpened = true;
    }
  }

  private isHeld(stats: Stats): boolean {
    return this.isOpen(stats) || this.grabbed.some((g) => sameFile(g.stats, stats));
  }

  /** The plain, non-empty siblings with a rotated name, with their head (the files stay closed). */
  private async siblings(): Promise<Sibling[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [];
    }
    // All at once: after a truncation nothing is read until this is done.
    const found = await Promise.all(
      names
        .filter((name) => isRotatedName(name, this.base) && !COMPRESSED.test(name))
        .map(async (name): Promise<Sibling | null> => {
          try {
            const handle = await openForReading(nodePath.join(this.dir, name));
            try {
              const stats = await handle.stat();
              return stats.isFile() && stats.size > 0 ? { name, stats, head: await readAt(handle, HEAD_BYTES, 0) } : null;
            } finally {
              await handle.close();
            }
          } catch {
            return null; // gone meanwhile, or unreadable: not ours to read
          }
        }),
    );
    return found.filter((sibling) => sibling !== null);
  }

  /**
   * Siblings with a rotated name that are not known (header: "Rotated and replaced"), except
   * those `skip` says, opened, oldest first. `final`: they are complete (copies): read each to
   * its end and go on, without waiting for a later file to hold data.
   */
  private async unknownSiblings(skip: (sibling: Sibling) => boolean | Promise<boolean>, final: boolean, listing?: Sibling[]): Promise<Tracked[]> {
    const candidates: Sibling[] = [];
    for (const sibling of listing ?? (await this.siblings())) {
      if (isGzip(sibling.head) || this.isHeld(sibling.stats) || this.isKnown(sibling.stats, sibling.head)) continue;
      if (!(await skip(sibling))) candidates.push(sibling);
    }
    const allBorn = candidates.every(({ stats }) => stats.birthtimeMs > 0);
    candidates.sort(
      (a, b) =>
        (allBorn ? a.stats.birthtimeMs - b.stats.birthtimeMs : 0) || a.stats.mtimeMs - b.stats.mtimeMs || byName(a.name, b.name),
    );
    const found: Tracked[] = [];
    for (const { name, stats, head } of candidates) {
      if (this.queue.length + found.length >= MAX_OPEN - 1) break;
      try {
        const handle = await openForReading(nodePath.join(this.dir, name));
        const opened = await handle.stat();
        if (!sameFile(opened, stats)) {
          await handle.close(); // replaced since: it will be looked at again with the next rotation
          continue;
        }
        found.push({ handle, dev: opened.dev, ino: opened.ino, name, position: 0, head, tail: Buffer.alloc(0), final, held: [] });
      } catch {
        // gone meanwhile
      }
    }
    return found;
  }

  /** True when `sibling` is a copy of what `file` holds now (a copy in progress, or a copy not followed by a truncation). */
  private async isCopyOfCurrent(file: Tracked, sibling: Sibling, head: Buffer): Promise<boolean> {
    if (!samePrefix(head, sibling.head)) return false;
    const { size } = await file.handle.stat();
    if (sibling.stats.size > size) return false;
    const length = Math.min(TAIL_BYTES, sibling.stats.size);
    const at = sibling.stats.size - length;
    let handle: FileHandle | null = null;
    try {
      handle = await openForReading(nodePath.join(this.dir, sibling.name));
      return (await readAt(handle, length, at)).equals(await readAt(file.handle, length, at));
    } catch {
      return true; // gone meanwhile: nothing to read there anyway
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  private isOpen(stats: Stats): boolean {
    return this.queue.some((file) => file.dev === stats.dev && file.ino === stats.ino);
  }

  /** A file read already, there at start, an earlier generation of one, or a copy of one of these. */
  private isKnown(stats: Stats, head: Buffer, orQueued = true): boolean {
    const matches = (other: { dev: number; ino: number; head: Buffer }): boolean =>
      samePrefix(other.head, head) && (Math.min(other.head.length, head.length) >= MIN_HEAD || sameFile(other, stats));
    return this.known.some(matches) || (orQueued && this.queue.some(matches));
  }

  private remember(identity: { dev: number; ino: number }, head: Buffer): void {
    if (head.length === 0) return;
    this.known.push({ dev: identity.dev, ino: identity.ino, head: Buffer.from(head) });
    if (this.known.length > MAX_KNOWN) this.known.splice(0, this.known.length - MAX_KNOWN);
  }

  /**
   * Reads `file` from its position as far as it goes now (at most `room` bytes, at least one
   * read), then looks at its size and head (and, at its end, the path) all at once: one round
   * of checks per run of reads, not per read, so that reading keeps up with a fast writer
   * (latency matters: with copytruncate, what is not read before the truncation is gone).
   * A read shorter than asked is the end of the file. Noticing a truncation: header, "Truncation".
   */
  private async read(file: Tracked, room: number): Promise<Step> {
    const chunks: Buffer[] = [];
    let next = file.position;
    let ended = false;
    while (!this.aborted) {
      const length = Math.max(this.chunkBytes, Math.min(this.readBytes, room - (next - file.position)));
      const from = next;
      const chunk = await this.readChunk(file.handle, length, from);
      if (from === 0) {
        // Nothing read of this file yet, but its head may be known (taken when it was found, or
        // truncated): not starting with it any more, it was truncated again before we read it.
        const n = Math.min(chunk.length, file.head.length);
        const atEnd = chunk.length < length;
        if (!chunk.subarray(0, n).equals(file.head.subarray(0, n)) || (atEnd && chunk.length < file.head.length)) {
          return { kind: 'truncated', before: [], head: Buffer.from(chunk.subarray(0, HEAD_BYTES)) };
        }
        if (chunk.length > file.head.length) file.head = Buffer.from(chunk.subarray(0, HEAD_BYTES));
      }
      if (chunk.length > 0) chunks.push(chunk);
      next += chunk.length;
      if (chunk.length < length) {
        ended = true;
        break;
      }
      if (next - file.position >= Math.min(room, RUN_BYTES)) break;
    }
    const queued = this.queue.length;
    const [{ size }, head] = await Promise.all([
      file.handle.stat(),
      next > 0 || file.head.length > 0 ? readAt(file.handle, HEAD_BYTES, 0) : Promise.resolve(null),
      ended ? this.capture() : Promise.resolve(),
    ]);
    if (size >= next && (head === null || this.startsWithHead(file, head))) {
      for (const chunk of chunks) this.advance(file, chunk);
      return ended ? { kind: 'eof', chunks, queued } : { kind: 'data', chunks };
    }
    // Truncated meanwhile. A chunk the file holds there now is new content (rewritten past our
    // position), read again from 0 with what follows it; those before it were the old content.
    // What was read at 0 is the file's start either way.
    const before: Buffer[] = [];
    for (const chunk of chunks) {
      if (file.position > 0 && (await readAt(file.handle, chunk.length, file.position)).equals(chunk)) break;
      this.advance(file, chunk);
      before.push(chunk);
    }
    return { kind: 'truncated', before, head: head ?? (await readAt(file.handle, HEAD_BYTES, 0)) };
  }

  /** One read at `from`: small reads are copied out of the reusable buffer, large ones take it over. */
  private async readChunk(handle: FileHandle, length: number, from: number): Promise<Buffer> {
    let scratch = this.scratch;
    if (scratch === null || scratch.length < length) scratch = this.scratch = Buffer.allocUnsafe(Math.max(length, this.readBytes));
    const { bytesRead } = await handle.read(scratch, 0, length, from);
    if (bytesRead <= scratch.length / 2) return Buffer.from(scratch.subarray(0, bytesRead));
    this.scratch = null; // handed over: queued for the consumer
    return scratch.subarray(0, bytesRead);
  }

  private advance(file: Tracked, chunk: Buffer): void {
    file.position += chunk.length;
    file.tail =
      chunk.length >= TAIL_BYTES
        ? Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES))
        : Buffer.concat([file.tail, chunk]).subarray(-TAIL_BYTES);
  }

  /** True when `head` (the file's first bytes now) starts with the recorded head, which grows to it. */
  private startsWithHead(file: Tracked, head: Buffer): boolean {
    if (head.length < file.head.length || !head.subarray(0, file.head.length).equals(file.head)) return false;
    if (head.length > file.head.length) file.head = Buffer.from(head);
    return true;
  }

  /**
   * The file was truncated: its new content is read from 0 at once (held), while the rest of
   * the old content is looked for, in a copy if there is one; what is found is read first.
   * The head of the new content is kept from now on, so that if this too is truncated before
   * we read it, the change is seen at 0 as well and its copy is read.
   */
  private truncated(file: Tracked, current: Buffer): void {
    const old: Generation = { dev: file.dev, ino: file.ino, position: file.position, head: file.head, tail: file.tail };
    file.position = 0;
    file.head = current;
    file.tail = Buffer.alloc(0);
    const search: CopySearch = { file, done: Promise.resolve(), found: null, stalled: false };
    search.done = this.copiesOf(file, old)
      .catch(() => ({ copy: null, between: [] }))
      .then(({ copy, between }) => {
        // With a copy, a line cut short is seen when the copy is done.
        search.found = { copies: [...(copy === null ? [] : [copy]), ...between], brokenLine: copy === null && endsWithinLine(old) };
        this.waker.notify();
      });
    this.search = search;
  }

  /** The copies of `old` to read before `file`'s new content: the rest of it, then the generations truncated in between. */
  private async copiesOf(file: Tracked, old: Generation): Promise<{ copy: Tracked | null; between: Tracked[] }> {
    // Nothing found here is read before this is done: one listing serves both searches.
    const listing = await this.siblings();
    const copy = await this.findCopy(old, listing);
    this.remember(old, old.head); // copies of the old content are not rotated files
    // Truncated more than once since we looked: the generations in between are in copies of
    // their own, which no known head matches. A copy of what the file holds now is skipped (its
    // head is in the queue, and it is checked against the file).
    const between = await this.unknownSiblings(
      async (sibling) => (copy !== null && sameFile(sibling.stats, copy)) || (await this.isCopyOfCurrent(file, sibling, file.head)),
      true,
      listing,
    );
    return { copy, between };
  }

  /** A copy of `file`'s old content (copytruncate) going on past where we were, opened at that offset. */
  private async findCopy(file: Generation, listing: Sibling[]): Promise<Tracked | null> {
    if (file.head.length === 0) return null;
    // At 0 there are no last bytes to check: then a copy of an older generation must not be taken for it.
    const candidates = listing
      .filter(
        ({ stats, head }) =>
          stats.size > file.position &&
          samePrefix(head, file.head) &&
          !this.isHeld(stats) &&
          (file.position > 0 || !this.isKnown(stats, head, false)),
      )
      .sort((a, b) => b.stats.mtimeMs - a.stats.mtimeMs);
    for (const { name } of candidates) {
      let handle: FileHandle | null = null;
      try {
        handle = await openForReading(nodePath.join(this.dir, name));
        const before = await readAt(handle, file.tail.length, file.position - file.tail.length);
        if (before.equals(file.tail)) {
          const stats = await handle.stat();
          const copy: Tracked = { handle, dev: stats.dev, ino: stats.ino, name, position: file.position, head: Buffer.from(file.head), tail: file.tail, final: true, held: [] };
          handle = null;
          return copy;
        }
      } catch {
        // gone meanwhile
      } finally {
        await handle?.close().catch(() => undefined);
      }
    }
    return null;
  }

  /** True when a file after the first in the queue holds data. */
  private async laterHasData(): Promise<boolean> {
    for (const file of this.queue.slice(1)) {
      try {
        if ((await file.handle.stat()).size > 0) return true;
      } catch {
        // its descriptor cannot be read: the next step reports it
      }
    }
    return false;
  }

  private async finish(file: Tracked): Promise<void> {
    this.brokenLine = endsWithinLine(file);
    this.queue.splice(this.queue.indexOf(file), 1);
    this.remember(file, file.head);
    await file.handle.close().catch(() => undefined);
  }

  /** Reports what is due, then waits for a change, the poll, an abort, or a warning's grace. */
  private async idle(): Promise<void> {
    this.announce();
    await this.waker.arm(this.pollMs);
    let ms = this.pollMs;
    const problem = this.pathProblem;
    if (problem !== null && !problem.announced) ms = Math.max(1, Math.min(ms, problem.since + this.missingGraceMs() - Date.now()));
    await this.waker.wait(ms, this.halt.signal);
  }

  private missingGraceMs(): number {
    return Math.max(MISSING_GRACE_MS, 2 * this.pollMs);
  }

  private pathFailed(error: unknown): void {
    const code = errorCode(error);
    const kind = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'denied' : 'error';
    if (this.pathProblem?.kind === kind && this.pathProblem.code === code) return;
    // Missing at start is worth saying at once; missing later may be a rotation in progress.
    const since = kind === 'missing' && this.everOpened ? Date.now() : Number.NEGATIVE_INFINITY;
    this.pathProblem = { kind, code, since, announced: false };
  }

  private pathOk(): void {
    if (this.pathProblem?.announced === true) {
      const message =
        this.pathProblem.kind !== 'missing' ? `${this.base}: readable again` : this.everOpened ? `${this.base}: there again` : `${this.base}: there now`;
      this.notices.push({ path: this.path, message });
    }
    this.pathProblem = null;
  }

  private readFailed(error: unknown): void {
    const code = errorCode(error);
    if (this.readProblem?.code === code) return;
    this.readProblem = { kind: 'error', code, since: Date.now(), announced: false };
  }

  private readOk(): void {
    if (this.readProblem?.announced === true) this.notices.push({ path: this.path, message: `${this.base}: readable again` });
    this.readProblem = null;
  }

  private tooMany(): void {
    if (this.tooManyAnnounced) return;
    this.tooManyAnnounced = true;
    this.notices.push({
      path: this.path,
      message: `${this.base}: ${MAX_OPEN} files rotated and not read yet; the next ones are looked for among the rotated files once the reader catches up`,
      code: 'EMFILE',
    });
  }

  /** The caller is `readAheadBytes` behind: reading waits for it; said once. */
  private queueFull(): void {
    if (this.fullAnnounced || this.readAheadBytes === 0) return;
    this.fullAnnounced = true;
    this.options.onWarning?.({
      path: this.path,
      message: `${this.base}: ${describeBytes(this.readAheadBytes)} read and not consumed yet; reading waits for the consumer (with copytruncate, lines written meanwhile can be lost)`,
      code: 'ENOBUFS',
    });
  }

  /** Hands the warnings due to onWarning, each condition once. */
  private announce(): void {
    const warn = this.options.onWarning;
    for (const notice of this.notices.splice(0)) warn?.(notice);
    const problem = this.pathProblem;
    if (problem !== null && !problem.announced && Date.now() - problem.since >= this.missingGraceMs()) {
      problem.announced = true;
      warn?.({ path: this.path, message: describe(this.base, problem, this.everOpened, this.pollMs), code: problem.code });
    }
    const read = this.readProblem;
    if (read !== null && !read.announced) {
      read.announced = true;
      const name = this.queue[0]?.name ?? this.base;
      warn?.({ path: this.path, message: `${name}: read failed (${read.code}); retrying every ${this.pollMs} ms`, code: read.code });
    }
  }
}

/**
 * What a run of reads gave: `data` (more to read), `eof` (read to the end; `queued`: the queue's
 * length when the path was looked at), or `truncated` (`before`: the old content read first;
 * `head`: what the file starts with now).
 */
type Step = { kind: 'data'; chunks: Buffer[] } | { kind: 'eof'; chunks: Buffer[]; queued: number } | { kind: 'truncated'; before: Buffer[]; head: Buffer };

/** `16 MiB`, `64 KiB`, or `1000 bytes`. */
function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function describe(base: string, problem: Problem, hadFile: boolean, pollMs: number): string {
  switch (problem.kind) {
    case 'missing':
      return hadFile ? `${base}: gone (deleted or moved away); waiting for it to appear again` : `${base}: not found; waiting for it to appear`;
    case 'denied':
      return `${base}: permission denied; waiting for it to become readable`;
    default:
      return problem.code === 'ENOTFILE'
        ? `${base}: not a regular file; waiting for one`
        : `${base}: cannot be opened (${problem.code}); retrying every ${pollMs} ms`;
  }
}

export async function* followFile(path: string, options: FollowOptions = {}): AsyncGenerator<Buffer> {
  const follower = new Follower(path, options);
  try {
    yield* follower.chunks();
  } finally {
    await follower.close();
  }
}
