/**
 * Nexus support zips, read in place: nothing is unpacked to disk. A zip's central directory is
 * read once (`listSupportZip`: the log entries to read, the server's info from `info/*.json`, the
 * entries the generator truncated) and kept (a few zips, bounded), then each log entry is streamed
 * on its own (`readZipEntry`) from where the directory says it is: inflated, gunzipped when it is
 * an archived `.log.gz`, and cut before a trailing `** TRUNCATED **` marker. Memory stays bounded:
 * of the directory only the entries read are kept, entries are streamed chunk by chunk, never held
 * whole (the two small info JSON files excepted, up to INFO_MAX_BYTES).
 *
 * Layout (np:SupportZipGeneratorImpl.java, atlas/customizers/*; docs catalogue section 8): entries
 * sit under one root folder `support-{yyyyMMdd-HHmmss}-{n}/`: `log/nexus.log`, `log/request.log`,
 * `log/outbound-request.log`, `log/audit.log`, `log/karaf.log`, `log/jvm.log`, `log/tasks/*.log`,
 * `log/archived-logs//nexus-YYYY-MM-DD.log.gz` (request-, audit- too; sic, double slash),
 * `info/sysinfo.json`, `info/jmx.json`... Truncation: a log over the file size limit (30 MB) is
 * replaced by the 15 bytes `** TRUNCATED **` (before 3.7x) or cut after its last full 4 KiB chunk
 * with the marker appended (since); at the zip size limit (50 MB) the entry being written is cut
 * the same way and every later one is only the marker; any truncation adds an empty `truncated`.
 * A zip re-zipped on a Mac also has `__MACOSX/` and `.DS_Store` entries beside the root folder.
 */
import { promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32, createGunzip, createInflateRaw } from 'node:zlib';
import * as yauzl from 'yauzl';
import { InputError, toInputError } from './input-error';

/** What the generator writes in place of (or after the kept part of) a log it truncates. */
export const TRUNCATED_MARKER = Buffer.from('** TRUNCATED **', 'latin1');
/** The generator copies in chunks of this size and truncates between two of them. */
const GENERATOR_CHUNK_BYTES = 4096;
/**
 * Larger info files are skipped: a JSON file is parsed whole, and parsing costs up to ~35 times
 * its size (31 MB of `{},` took 1 GB). Real ones are far smaller (the fixture's sysinfo.json: 1.5 KB).
 */
export const INFO_MAX_BYTES = 2 * 1024 * 1024;
/** Inflate output chunks: as for gzip files (read-input.ts). */
const MAX_INFLATE_CHUNK = 256 * 1024;
/** Central directory reads that follow on from the previous one are served from a window this large. */
const DIRECTORY_READ_AHEAD_BYTES = 1024 * 1024;
/** Zip directories kept for reading their entries: at most this many zips... */
const CACHED_ZIPS = 32;
/** ...and this many entries in all (the newest zip is kept whatever its size). */
const CACHED_ENTRIES = 200_000;
const LOCAL_HEADER_BYTES = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;

/** The server a support zip comes from, from `info/sysinfo.json` (and `info/jmx.json`). Every field is optional. */
export interface SupportZipInfo {
  /** Nexus version, e.g. `3.77.1-01`. */
  version?: string;
  /** `OSS`, `PRO`... as the server reports it. */
  edition?: string;
  nodeId?: string;
  javaVersion?: string;
  javaVendor?: string;
  /** e.g. `Linux 5.15.0-1057-aws amd64`. */
  os?: string;
  /** `PostgreSQL`, `H2` or `OrientDB`, when the properties say. */
  database?: string;
}

/**
 * A log entry to read. A name the zip has more than once (a zip appended to) is read each time:
 * the second is `log/nexus.log#2` (name and path), the third `#3`...
 */
export interface SupportZipEntry {
  /** The entry's name in the zip (with the root folder, and `#2`... for a repeated name): what is looked up to read it. */
  name: string;
  /** Its path under the root folder, e.g. `log/request.log`: shown in `zip!path` input names. */
  path: string;
  /** Uncompressed size, bytes (for a nested `.gz`, the gzip's size). */
  size: number;
}

/** An entry the generator truncated. */
export interface TruncatedEntry {
  name: string;
  path: string;
  /** `replaced`: the entry is only the marker, nothing of the file is in the zip. `cut`: the file's start, then the marker. */
  how: 'replaced' | 'cut';
}

/** An info file not read: over INFO_MAX_BYTES. */
export interface SkippedEntry {
  name: string;
  path: string;
  /** Uncompressed size, bytes. */
  size: number;
}

export interface SupportZipListing {
  /** The zip's path, as given. */
  zip: string;
  /** Log entries to read, in zip order; entries replaced by the marker are left out (nothing to read). */
  entries: SupportZipEntry[];
  /** Log and info entries that were truncated (see TruncatedEntry). */
  truncated: TruncatedEntry[];
  /** Info files too large to be read (see skippedMessage). */
  skipped: SkippedEntry[];
  /** True when the zip has the generator's empty `truncated` entry (it truncated something). */
  truncationFlagged: boolean;
  info: SupportZipInfo;
  /** True when the zip has `info/sysinfo.json` or `info/jmx.json` (readable or not). */
  hasInfo: boolean;
}

/** True for the first bytes of a zip: a local file header, or the end record of an empty zip. */
export function isZipMagic(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** True when the file starts with zip magic bytes. */
export async function startsWithZipMagic(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return isZipMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** The entries read as logs, by their path under the root folder. */
const LOG_PATHS: readonly RegExp[] = [
  /^log\/(?:nexus|karaf|jvm|nexus_cluster|request|outbound-request|audit)[^/]*\.log$/,
  /^log\/audit\/audit[^/]*\.log$/,
  /^log\/tasks\/[^/]+\.log$/,
  /^log\/archived-logs\/+(?:nexus|request|outbound-request|audit)-\d{4}-\d{2}-\d{2}(?:\.\d+)?\.log(?:\.gz)?$/,
];
const SYSINFO = 'info/sysinfo.json';
const JMX = 'info/jmx.json';

type EntryRole = 'log' | 'info' | 'flag';

/** What an entry is to the analyzer, by its path under the root folder. */
export function entryRole(path: string): EntryRole | undefined {
  if (LOG_PATHS.some((pattern) => pattern.test(path))) return 'log';
  if (path === SYSINFO || path === JMX) return 'info';
  if (path === 'truncated') return 'flag';
  return undefined;
}

/**
 * Lists a support zip: the log entries to read, the truncated ones, the server info.
 * Throws an InputError naming the zip when it cannot be opened or is not a zip, or is a zip
 * with neither logs nor info (not a support zip).
 */
export async function listSupportZip(zip: string): Promise<SupportZipListing> {
  const handle = await openZip(zip, zip);
  try {
    const { directory, fileSize } = await directoryOf(zip, handle, zip);
    const found = [...directory.entries.values()];
    const logs = found.filter((entry) => entry.role === 'log');
    const infos = new Map(found.filter((entry) => entry.role === 'info').map((entry) => [entry.path, entry]));
    if (logs.length === 0 && infos.size === 0) {
      const count = `${directory.entryCount.toLocaleString('en-US')} ${directory.entryCount === 1 ? 'entry' : 'entries'}`;
      throw new InputError(zip, `not a Nexus support zip: none of its ${count} is a log/ entry (log/nexus.log, log/request.log...) or info/sysinfo.json`);
    }
    const reader: OpenZip = { handle, fileSize };

    const truncated: TruncatedEntry[] = [];
    const entries: SupportZipEntry[] = [];
    for (const entry of logs) {
      const how = await truncation(reader, entry, `${zip}!${entry.path}`);
      if (how !== undefined) truncated.push({ name: entry.key, path: entry.path, how });
      if (how !== 'replaced') entries.push({ name: entry.key, path: entry.path, size: entry.uncompressedSize });
    }

    const info: SupportZipInfo = {};
    const skipped: SkippedEntry[] = [];
    for (const path of [SYSINFO, JMX]) {
      const entry = infos.get(path);
      if (entry === undefined) continue;
      if (path === JMX && info.javaVersion !== undefined && info.javaVendor !== undefined && info.os !== undefined) break;
      if (entry.uncompressedSize > INFO_MAX_BYTES) {
        skipped.push({ name: entry.key, path, size: entry.uncompressedSize });
        continue;
      }
      const how = await truncation(reader, entry, `${zip}!${path}`);
      if (how !== undefined) {
        truncated.push({ name: entry.key, path, how });
        continue;
      }
      const json = await readJson(reader, entry, `${zip}!${path}`);
      const fields = path === SYSINFO ? infoFromSysinfo(json) : infoFromJmx(json);
      for (const [key, value] of Object.entries(fields) as [keyof SupportZipInfo, string][]) info[key] ??= value;
    }
    const truncationFlagged = found.some((entry) => entry.role === 'flag');
    return { zip, entries, truncated, skipped, truncationFlagged, info, hasInfo: infos.size > 0 };
  } finally {
    await closeZip(handle);
  }
}

export interface ZipEntryReadOptions {
  chunkBytes?: number;
  /** Stops reading: the iteration then ends quietly. */
  signal?: AbortSignal;
  /** Called when the entry ends with the truncation marker (which is not yielded). */
  onTruncated?: () => void;
}

/**
 * Yields the bytes of one entry of a zip (`entryName`: a SupportZipEntry's name from
 * listSupportZip): inflated, gunzipped when its name ends in `.gz`, and without a trailing
 * `** TRUNCATED **` marker (a cut `.gz` yields what inflates before the cut). The zip's directory
 * is read once and kept while the zip is unchanged (path, size, modification time), so reading
 * every entry of a zip costs one pass over its directory, not one per entry.
 * Errors are InputErrors naming `label` (the input's `zip!path` name).
 */
export async function* readZipEntry(zip: string, entryName: string, label: string, options: ZipEntryReadOptions = {}): AsyncGenerator<Buffer> {
  const handle = await openZip(zip, label);
  try {
    const { directory, fileSize } = await directoryOf(zip, handle, label);
    const found = directory.entries.get(entryName);
    if (found === undefined) throw new InputError(label, 'no such entry in the zip');
    yield* streamEntry({ handle, fileSize }, found, label, { ...options, gunzip: found.fileName.endsWith('.gz') });
  } finally {
    await closeZip(handle);
  }
}

/** One line for a person: what a truncated entry means for the analysis. */
export function truncationMessage(zip: string, entry: TruncatedEntry): string {
  const where = `${zip}!${entry.path}`;
  if (entry.how === 'replaced') {
    return (
      `${where}: replaced by "** TRUNCATED **" in the support zip (the file was over the generator's file size limit, 30 MB by default, ` +
      'or the zip had reached its size limit, 50 MB): none of its lines are in the zip; make the support zip again without the size limits, or read the file on the server'
    );
  }
  return (
    `${where}: cut by the support zip generator at its size limit (30 MB a file or 50 MB the zip, by default) and ends with "** TRUNCATED **": ` +
    'read up to the cut, which may fall mid-line; the lines after it are not in the zip'
  );
}

/** One line for a person: an info file too large to be read. */
export function skippedMessage(zip: string, entry: SkippedEntry): string {
  const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  return (
    `${zip}!${entry.path}: skipped, ${mib(entry.size)} where info files are read up to ${mib(INFO_MAX_BYTES)} (a real one is a few KB): ` +
    "the server's version, node or Java may be unknown; the logs are read"
  );
}

/** e.g. `Nexus 3.77.1-01 OSS on node-a, Java 17.0.12 (Eclipse Adoptium)`. */
export function describeSupportZip(info: SupportZipInfo): string {
  if (info.version === undefined && info.nodeId === undefined && info.javaVersion === undefined) return 'server unknown (no readable info/sysinfo.json)';
  let text = `Nexus ${info.version ?? '(version unknown)'}`;
  if (info.edition !== undefined) text += ` ${info.edition}`;
  if (info.nodeId !== undefined) text += ` on ${info.nodeId}`;
  if (info.javaVersion !== undefined) text += `, Java ${info.javaVersion}${info.javaVendor === undefined ? '' : ` (${info.javaVendor})`}`;
  if (info.database !== undefined) text += `, ${info.database} database`;
  return text;
}

/** What reading an entry needs from the central directory (a yauzl Entry also keeps its raw name, extra fields and comment). */
interface DirectoryEntry {
  /** Looked up by readZipEntry: the entry's name, with `#2`... when the name came before. */
  key: string;
  /** Its path under the root folder, with the same `#2`... */
  path: string;
  role: EntryRole;
  /** The name as stored. */
  fileName: string;
  localHeaderOffset: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  compressionMethod: number;
  encrypted: boolean;
}

/** A zip's central directory, as far as the analyzer reads it. */
interface ZipDirectory {
  /** Log, info and flag entries, in zip order, by key. */
  entries: Map<string, DirectoryEntry>;
  /** Every entry of the zip, the ones not kept included. */
  entryCount: number;
}

interface CachedDirectory {
  /** Size, modification time and inode of the zip when it was listed: any change lists it again. */
  stamp: string;
  directory: Promise<ZipDirectory>;
  /** Entries kept, once listed (for the cache's bound). */
  size: number;
}

/** By the zip's absolute path; oldest first (a hit moves a zip to the end). */
const directories = new Map<string, CachedDirectory>();

/** The zip's directory, listed from `handle` unless a listing of the same file is kept (or under way). */
async function directoryOf(zip: string, handle: FileHandle, label: string): Promise<{ directory: ZipDirectory; fileSize: number }> {
  let stats: Stats;
  try {
    stats = await handle.stat();
  } catch (error) {
    throw zipError(label, error);
  }
  const key = resolve(zip);
  const stamp = `${stats.size}:${stats.mtimeMs}:${stats.ino}`;
  let cached = directories.get(key);
  directories.delete(key);
  if (cached?.stamp !== stamp) {
    const listing = listDirectory(handle, stats.size);
    const entry: CachedDirectory = { stamp, directory: listing, size: 0 };
    cached = entry;
    listing.then(
      (directory) => {
        entry.size = directory.entries.size;
        boundCache();
      },
      () => {
        if (directories.get(key) === entry) directories.delete(key);
      },
    );
  }
  directories.set(key, cached);
  try {
    return { directory: await cached.directory, fileSize: stats.size };
  } catch (error) {
    throw zipError(label, error);
  }
}

function boundCache(): void {
  let entries = 0;
  for (const cached of directories.values()) entries += cached.size;
  for (const [key, cached] of directories) {
    if (directories.size <= 1 || (directories.size <= CACHED_ZIPS && entries <= CACHED_ENTRIES)) break;
    directories.delete(key);
    entries -= cached.size;
  }
}

/**
 * One pass over the central directory, keeping only the entries that are read (logs, info
 * files, the `truncated` flag): a zip of 250,000 other files costs a count, not 250,000 objects.
 */
async function listDirectory(handle: FileHandle, fileSize: number): Promise<ZipDirectory> {
  const zipfile = await yauzl.fromRandomAccessReaderPromise(new ReadAheadReader(handle, fileSize), fileSize, {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: true,
    strictFileNames: false,
  });
  const root = new RootFolder();
  // Entries that are logs or info either at the top or under a first folder: which one holds is
  // known at the end. One object literal for all (a spread gave each its own hidden class: 670 B an entry).
  const candidates: DirectoryEntry[] = [];
  try {
    for await (const entry of zipfile.eachEntry()) {
      const name = entry.fileName;
      root.see(name);
      if (name.endsWith('/')) continue;
      const slash = name.indexOf('/');
      if (entryRole(name) === undefined && (slash < 0 || entryRole(name.slice(slash + 1)) === undefined)) continue;
      candidates.push({
        key: name,
        path: name,
        role: 'log',
        fileName: name,
        localHeaderOffset: entry.relativeOffsetOfLocalHeader,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        crc32: entry.crc32,
        compressionMethod: entry.compressionMethod,
        encrypted: entry.isEncrypted(),
      });
    }
  } finally {
    zipfile.close();
  }
  const folder = root.folder();
  const entries = new Map<string, DirectoryEntry>();
  const seen = new Map<string, number>();
  for (const candidate of candidates) {
    if (!candidate.fileName.startsWith(folder)) continue;
    const path = candidate.fileName.slice(folder.length);
    const role = entryRole(path);
    if (role === undefined) continue;
    // The same name again (a zip appended to): read too, under a name of its own.
    const times = (seen.get(candidate.fileName) ?? 0) + 1;
    seen.set(candidate.fileName, times);
    const suffix = times === 1 ? '' : `#${times}`;
    candidate.key = candidate.fileName + suffix;
    candidate.path = path + suffix;
    candidate.role = role;
    entries.set(candidate.key, candidate);
  }
  return { entries, entryCount: zipfile.entryCount };
}

/**
 * The folder all entries sit in, with its slash (`support-20250910-013622-1/`), or '' when they do
 * not share one, found as the names go by. A Mac's `__MACOSX/` folder and files at the top (its
 * `.DS_Store`, a note beside the folder) are not taken into account.
 */
class RootFolder {
  private shared: string | undefined;
  private several = false;

  see(name: string): void {
    const slash = name.indexOf('/');
    if (slash < 0) return;
    const top = name.slice(0, slash + 1);
    if (top === '__MACOSX/') return;
    if (this.shared === undefined) this.shared = top;
    else if (top !== this.shared) this.several = true;
  }

  folder(): string {
    if (this.shared === undefined || this.several || this.shared === 'log/' || this.shared === 'info/') return '';
    return this.shared;
  }
}

/**
 * yauzl reads the central directory a record at a time (46 bytes, then the name): two reads on
 * libuv's pool an entry took 16 s for 250,000 entries. A read that follows on from the previous
 * one is served from a window read ahead; others (the end record) read what they ask.
 */
class ReadAheadReader extends yauzl.RandomAccessReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  private nextPosition = -1;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
  ) {
    super();
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null, bytesRead?: number) => void): void {
    const sequential = position === this.nextPosition;
    this.nextPosition = position + length;
    const at = position - this.windowStart;
    if (at >= 0 && at + length <= this.window.length) {
      this.window.copy(buffer, offset, at, at + length);
      callback(null, length);
      return;
    }
    const size = sequential ? Math.max(length, Math.min(DIRECTORY_READ_AHEAD_BYTES, this.fileSize - position)) : length;
    const window = Buffer.allocUnsafe(size);
    this.handle.read(window, 0, size, position).then(
      ({ bytesRead }) => {
        this.window = window.subarray(0, bytesRead);
        this.windowStart = position;
        const copied = window.copy(buffer, offset, 0, Math.min(length, bytesRead));
        callback(null, copied);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }
}

async function openZip(zip: string, label: string): Promise<FileHandle> {
  try {
    return await fs.open(zip, 'r');
  } catch (error) {
    throw zipError(label, error);
  }
}

/** Closing a file only read from: a failure there loses nothing. */
async function closeZip(handle: FileHandle): Promise<void> {
  await handle.close().catch(() => undefined);
}

/** An fs error keeps its usual wording; anything else from the zip reader means a damaged zip. */
function zipError(label: string, error: unknown): InputError {
  if (error instanceof InputError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return toInputError(label, error);
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
  if (/end of central directory record signature not found/i.test(message)) {
    return new InputError(label, 'incomplete or corrupt zip: its end record (the central directory) is missing; was the download or copy cut short?', { cause: error });
  }
  return new InputError(label, `corrupt zip: ${message.charAt(0).toLowerCase()}${message.slice(1)}`, { cause: error });
}

/** An open zip, for reading entries where its directory says they are. */
interface OpenZip {
  handle: FileHandle;
  fileSize: number;
}

/** How the generator truncated an entry, if it did: only sizes it writes are checked (15, or 4 KiB chunks + 15). */
async function truncation(zip: OpenZip, entry: DirectoryEntry, label: string): Promise<TruncatedEntry['how'] | undefined> {
  const size = entry.uncompressedSize;
  const marker = TRUNCATED_MARKER.length;
  if (size < marker || (size - marker) % GENERATOR_CHUNK_BYTES !== 0) return undefined;
  let cut = false;
  for await (const chunk of streamEntry(zip, entry, label, { gunzip: false, onTruncated: () => (cut = true) })) void chunk;
  if (!cut) return undefined;
  return size === marker ? 'replaced' : 'cut';
}

async function readJson(zip: OpenZip, entry: DirectoryEntry, label: string): Promise<unknown> {
  const pieces: Buffer[] = [];
  try {
    for await (const chunk of streamEntry(zip, entry, label, { gunzip: false })) pieces.push(Buffer.from(chunk));
    return JSON.parse(Buffer.concat(pieces).toString('utf8')) as unknown;
  } catch {
    return undefined; // info is a bonus: a damaged info file leaves its fields unknown
  }
}

interface StreamOptions extends ZipEntryReadOptions {
  gunzip: boolean;
}

/** The entry's stored bytes: after its local header, which gives the length of the name and extra field before them. */
async function rawEntryData(zip: OpenZip, entry: DirectoryEntry, chunkSize: number): Promise<Readable> {
  const header = Buffer.alloc(LOCAL_HEADER_BYTES);
  const { bytesRead } = await zip.handle.read(header, 0, LOCAL_HEADER_BYTES, entry.localHeaderOffset);
  if (bytesRead < LOCAL_HEADER_BYTES) throw new Error('unexpected end of file in a local file header');
  const signature = header.readUInt32LE(0);
  if (signature !== LOCAL_HEADER_SIGNATURE) throw new Error(`invalid local file header signature: 0x${signature.toString(16)}`);
  const start = entry.localHeaderOffset + LOCAL_HEADER_BYTES + header.readUInt16LE(26) + header.readUInt16LE(28);
  const end = start + entry.compressedSize;
  if (end > zip.fileSize) throw new Error(`file data overflows file bounds: ${start} + ${entry.compressedSize} > ${zip.fileSize}`);
  return rangeStream(zip.handle, start, end, chunkSize);
}

/**
 * Bytes `start` to `end` (excluded) of an open file. Not `handle.createReadStream`: destroying
 * that stream (a reader that stops early) closes the handle, and the file is read further.
 */
function rangeStream(handle: FileHandle, start: number, end: number, chunkSize: number): Readable {
  let position = start;
  return new Readable({
    highWaterMark: chunkSize,
    read(): void {
      const length = Math.min(chunkSize, end - position);
      if (length <= 0) {
        this.push(null);
        return;
      }
      const buffer = Buffer.allocUnsafe(length);
      handle.read(buffer, 0, length, position).then(
        ({ bytesRead }) => {
          if (this.destroyed) return;
          if (bytesRead === 0) {
            this.destroy(new Error(`unexpected end of file at byte ${position}`));
            return;
          }
          position += bytesRead;
          this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
        },
        (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
}

/** Streams one entry of an open zip (see readZipEntry). */
async function* streamEntry(zip: OpenZip, entry: DirectoryEntry, label: string, options: StreamOptions): AsyncGenerator<Buffer> {
  if (entry.encrypted) throw new InputError(label, 'the zip entry is encrypted: it cannot be read');
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new InputError(label, `the zip entry is compressed with method ${entry.compressionMethod}: only stored and deflated entries are read`);
  }
  const chunkSize = Math.min(options.chunkBytes ?? MAX_INFLATE_CHUNK, MAX_INFLATE_CHUNK);
  let raw: Readable;
  try {
    // Inflated here, for larger chunks; sizes and CRC are checked by EntryCheck.
    raw = await rawEntryData(zip, entry, chunkSize);
  } catch (error) {
    throw zipError(label, error);
  }
  const check = new EntryCheck(entry.uncompressedSize, entry.crc32);
  const gunzip = options.gunzip ? createGunzip({ chunkSize }) : undefined;
  let failedIn: 'zip' | 'gzip' | undefined;
  raw.once('error', () => (failedIn ??= 'zip'));
  check.once('error', () => (failedIn ??= 'zip'));
  gunzip?.once('error', () => (failedIn ??= 'gzip'));
  const inflate = entry.compressionMethod === 8 ? createInflateRaw({ chunkSize }) : undefined;
  inflate?.once('error', () => (failedIn ??= 'zip'));
  const stages: NodeJS.ReadWriteStream[] = [...(inflate === undefined ? [] : [inflate]), check, ...(gunzip === undefined ? [] : [gunzip])];
  const out = pipeline([raw, ...stages], () => undefined) as unknown as Readable;
  try {
    for await (const chunk of out) {
      if (options.signal?.aborted === true) return;
      yield chunk as Buffer;
    }
  } catch (error) {
    if (options.signal?.aborted === true) return;
    // A cut archived .gz ends mid-stream: what inflated before the cut is all there is.
    if (failedIn === 'gzip' && check.sawMarker && (error as { code?: unknown }).code === 'Z_BUF_ERROR') return;
    throw entryError(label, error, failedIn);
  } finally {
    out.destroy();
    raw.destroy();
    if (check.sawMarker) options.onTruncated?.();
  }
}

function entryError(label: string, error: unknown, stage: 'zip' | 'gzip' | undefined): InputError {
  if (error instanceof InputError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
  if (stage === 'gzip') return new InputError(label, `corrupt gzip data in the zip entry: ${message}`, { cause: error });
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return toInputError(label, error);
  return new InputError(label, `corrupt zip entry: ${message}`, { cause: error });
}

/**
 * Between inflating and the reader: checks the entry's size and CRC-32 against the zip's
 * directory (a damaged zip is an error, not silently short data), and holds back the last 15
 * bytes so a trailing `** TRUNCATED **` marker is dropped rather than read as a line.
 */
class EntryCheck extends Transform {
  sawMarker = false;
  private tail: Buffer = Buffer.alloc(0);
  private bytes = 0;
  private crc = 0;

  constructor(
    private readonly size: number,
    private readonly expectedCrc: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.size) {
      callback(new Error(`more data than the ${this.size} bytes the zip directory gives`));
      return;
    }
    this.crc = crc32(chunk, this.crc);
    const all = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const keep = Math.min(TRUNCATED_MARKER.length, all.length);
    if (all.length > keep) this.push(all.subarray(0, all.length - keep));
    this.tail = Buffer.from(all.subarray(all.length - keep));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.size) {
      callback(new Error(`${this.bytes} bytes where the zip directory gives ${this.size}`));
      return;
    }
    if (this.crc >>> 0 !== this.expectedCrc >>> 0) {
      callback(new Error('CRC-32 does not match the zip directory'));
      return;
    }
    if (this.tail.equals(TRUNCATED_MARKER)) this.sawMarker = true;
    else if (this.tail.length > 0) this.push(this.tail);
    callback();
  }
}

type Json = Record<string, unknown>;

function section(json: unknown, key: string): Json | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const value = (json as Json)[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function definedOnly(info: { [K in keyof SupportZipInfo]: string | undefined }): SupportZipInfo {
  const out: SupportZipInfo = {};
  for (const [key, value] of Object.entries(info) as [keyof SupportZipInfo, string | undefined][]) if (value !== undefined) out[key] = value;
  return out;
}

function osOf(name: unknown, version: unknown, arch: unknown): string | undefined {
  const parts = [text(name), text(version), text(arch)].filter((part): part is string => part !== undefined);
  return parts.length === 0 ? undefined : parts.join(' ');
}

/** The database from the data store properties: the JDBC URL, else `nexus.datastore.enabled=false` (OrientDB). */
function databaseOf(...sources: (Json | undefined)[]): string | undefined {
  for (const source of sources) {
    if (source === undefined) continue;
    for (const [key, value] of Object.entries(source)) {
      if (!/jdbc_?url$/i.test(key) || typeof value !== 'string') continue;
      if (/^jdbc:postgresql:/i.test(value)) return 'PostgreSQL';
      if (/^jdbc:h2:/i.test(value)) return 'H2';
    }
  }
  for (const source of sources) if (text(source?.['nexus.datastore.enabled']) === 'false') return 'OrientDB';
  return undefined;
}

/**
 * `info/sysinfo.json` (np:SystemInformationGeneratorImpl): sections `nexus-status` (version,
 * edition), `nexus-node` (node-id), `system-properties` (java.*, os.*), `nexus-properties`,
 * `system-environment`. Anything missing or of another shape is left unknown.
 */
export function infoFromSysinfo(json: unknown): SupportZipInfo {
  const status = section(json, 'nexus-status');
  const node = section(json, 'nexus-node');
  const system = section(json, 'system-properties');
  const nexus = section(json, 'nexus-properties');
  const environment = section(json, 'system-environment');
  return definedOnly({
    version: text(status?.['version']),
    edition: text(status?.['edition']),
    nodeId: text(node?.['node-id']) ?? text(node?.['nodeId']),
    javaVersion: text(system?.['java.version']) ?? text(system?.['java.runtime.version']),
    javaVendor: text(system?.['java.vendor']) ?? text(system?.['java.vm.vendor']),
    os: osOf(system?.['os.name'], system?.['os.version'], system?.['os.arch']),
    database: databaseOf(nexus, system, environment),
  });
}

/**
 * `info/jmx.json` (np:JmxCustomizer): MBean name -> attributes; `java.lang:type=Runtime` has
 * `SystemProperties` as a list of `{key, value}`, `VmVersion` and `VmVendor`; `java.lang:type=OperatingSystem`
 * has `Name`, `Version`, `Arch`.
 */
export function infoFromJmx(json: unknown): SupportZipInfo {
  const runtime = section(json, 'java.lang:type=Runtime');
  const system = section(json, 'java.lang:type=OperatingSystem');
  const properties: Json = {};
  const list = runtime?.['SystemProperties'];
  if (Array.isArray(list)) {
    for (const row of list as unknown[]) {
      const key = text((row as Json | null)?.['key']);
      if (key !== undefined) properties[key] = (row as Json)['value'];
    }
  }
  return definedOnly({
    javaVersion: text(properties['java.version']) ?? text(runtime?.['VmVersion']),
    javaVendor: text(properties['java.vendor']) ?? text(runtime?.['VmVendor']),
    os: osOf(system?.['Name'], system?.['Version'], system?.['Arch']),
  });
}
