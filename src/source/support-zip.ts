/**
 * Nexus support zips, read in place: nothing is unpacked to disk. A zip is listed once
 * (`listSupportZip`: the log entries to read, the server's info from `info/*.json`, the entries
 * the generator truncated), then each log entry is streamed on its own (`readZipEntry`): inflated,
 * gunzipped when it is an archived `.log.gz`, and cut before a trailing `** TRUNCATED **` marker.
 * Memory stays bounded: entries are streamed chunk by chunk, never held whole (the two small
 * info JSON files excepted, up to INFO_MAX_BYTES).
 *
 * Layout (np:SupportZipGeneratorImpl.java, atlas/customizers/*; docs catalogue section 8): entries
 * sit under one root folder `support-{yyyyMMdd-HHmmss}-{n}/`: `log/nexus.log`, `log/request.log`,
 * `log/outbound-request.log`, `log/audit.log`, `log/karaf.log`, `log/jvm.log`, `log/tasks/*.log`,
 * `log/archived-logs//nexus-YYYY-MM-DD.log.gz` (request-, audit- too; sic, double slash),
 * `info/sysinfo.json`, `info/jmx.json`... Truncation: a log over the file size limit (30 MB) is
 * replaced by the 15 bytes `** TRUNCATED **` (before 3.7x) or cut after its last full 4 KiB chunk
 * with the marker appended (since); at the zip size limit (50 MB) the entry being written is cut
 * the same way and every later one is only the marker; any truncation adds an empty `truncated`.
 */
import { promises as fs } from 'node:fs';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { crc32, createGunzip, createInflateRaw } from 'node:zlib';
import * as yauzl from 'yauzl';
import { InputError, toInputError } from './input-error';

/** What the generator writes in place of (or after the kept part of) a log it truncates. */
export const TRUNCATED_MARKER = Buffer.from('** TRUNCATED **', 'latin1');
/** The generator copies in chunks of this size and truncates between two of them. */
const GENERATOR_CHUNK_BYTES = 4096;
/** Larger info files are not parsed (a JSON file is read whole). */
const INFO_MAX_BYTES = 32 * 1024 * 1024;
/** Inflate output chunks: as for gzip files (read-input.ts). */
const MAX_INFLATE_CHUNK = 256 * 1024;

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

/** A log entry to read. */
export interface SupportZipEntry {
  /** The entry's name in the zip (with the root folder): what is looked up to read it. */
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

export interface SupportZipListing {
  /** The zip's path, as given. */
  zip: string;
  /** Log entries to read, in zip order; entries replaced by the marker are left out (nothing to read). */
  entries: SupportZipEntry[];
  /** Log and info entries that were truncated (see TruncatedEntry). */
  truncated: TruncatedEntry[];
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

/** What an entry is to the analyzer, by its path under the root folder. */
export function entryRole(path: string): 'log' | 'info' | 'flag' | undefined {
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
  const zipfile = await openZip(zip);
  try {
    const all: yauzl.Entry[] = [];
    try {
      for await (const entry of zipfile.eachEntry()) all.push(entry);
    } catch (error) {
      throw zipError(zip, error);
    }
    const root = commonRoot(all.map((entry) => entry.fileName));
    const pathOf = (entry: yauzl.Entry): string => entry.fileName.slice(root.length);
    const logs = all.filter((entry) => !entry.fileName.endsWith('/') && entryRole(pathOf(entry)) === 'log');
    const infos = new Map(all.filter((entry) => entryRole(pathOf(entry)) === 'info').map((entry) => [pathOf(entry), entry]));
    if (logs.length === 0 && infos.size === 0) {
      throw new InputError(zip, 'not a Nexus support zip: it has no log/ entries (log/nexus.log, log/request.log...) and no info/sysinfo.json');
    }

    const truncated: TruncatedEntry[] = [];
    const entries: SupportZipEntry[] = [];
    for (const entry of logs) {
      const how = await truncation(zipfile, entry, `${zip}!${pathOf(entry)}`);
      if (how !== undefined) truncated.push({ name: entry.fileName, path: pathOf(entry), how });
      if (how !== 'replaced') entries.push({ name: entry.fileName, path: pathOf(entry), size: entry.uncompressedSize });
    }

    const info: SupportZipInfo = {};
    for (const path of [SYSINFO, JMX]) {
      const entry = infos.get(path);
      if (entry === undefined) continue;
      if (path === JMX && info.javaVersion !== undefined && info.javaVendor !== undefined && info.os !== undefined) break;
      const how = await truncation(zipfile, entry, `${zip}!${path}`);
      if (how !== undefined) {
        truncated.push({ name: entry.fileName, path, how });
        continue;
      }
      const json = await readJson(zipfile, entry, `${zip}!${path}`);
      const found = path === SYSINFO ? infoFromSysinfo(json) : infoFromJmx(json);
      for (const [key, value] of Object.entries(found) as [keyof SupportZipInfo, string][]) info[key] ??= value;
    }
    const truncationFlagged = all.some((entry) => pathOf(entry) === 'truncated');
    return { zip, entries, truncated, truncationFlagged, info, hasInfo: infos.size > 0 };
  } finally {
    zipfile.close();
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
 * Yields the bytes of one entry of a zip: inflated, gunzipped when its name ends in `.gz`, and
 * without a trailing `** TRUNCATED **` marker (a cut `.gz` yields what inflates before the cut).
 * Errors are InputErrors naming `label` (the input's `zip!path` name).
 */
export async function* readZipEntry(zip: string, entryName: string, label: string, options: ZipEntryReadOptions = {}): AsyncGenerator<Buffer> {
  const zipfile = await openZip(zip, label);
  try {
    let found: yauzl.Entry | undefined;
    try {
      for await (const entry of zipfile.eachEntry()) {
        if (entry.fileName === entryName) {
          found = entry;
          break;
        }
      }
    } catch (error) {
      throw zipError(label, error);
    }
    if (found === undefined) throw new InputError(label, 'no such entry in the zip');
    yield* streamEntry(zipfile, found, label, { ...options, gunzip: entryName.endsWith('.gz') });
  } finally {
    zipfile.close();
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

async function openZip(zip: string, label = zip): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(zip, { lazyEntries: true, autoClose: false, decodeStrings: true, strictFileNames: false });
  } catch (error) {
    throw zipError(label, error);
  }
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

/** The folder all entries sit in, with its slash (`support-20250910-013622-1/`), or '' when they do not share one. */
function commonRoot(names: readonly string[]): string {
  const first = names.find((name) => name.includes('/'));
  if (first === undefined) return '';
  const root = first.slice(0, first.indexOf('/') + 1);
  if (root === 'log/' || root === 'info/') return '';
  return names.every((name) => name.startsWith(root) || name === root.slice(0, -1)) ? root : '';
}

/** How the generator truncated an entry, if it did: only sizes it writes are checked (15, or 4 KiB chunks + 15). */
async function truncation(zipfile: yauzl.ZipFile, entry: yauzl.Entry, label: string): Promise<TruncatedEntry['how'] | undefined> {
  const size = entry.uncompressedSize;
  const marker = TRUNCATED_MARKER.length;
  if (size < marker || (size - marker) % GENERATOR_CHUNK_BYTES !== 0) return undefined;
  let cut = false;
  for await (const chunk of streamEntry(zipfile, entry, label, { gunzip: false, onTruncated: () => (cut = true) })) void chunk;
  if (!cut) return undefined;
  return size === marker ? 'replaced' : 'cut';
}

async function readJson(zipfile: yauzl.ZipFile, entry: yauzl.Entry, label: string): Promise<unknown> {
  if (entry.uncompressedSize > INFO_MAX_BYTES) return undefined;
  const pieces: Buffer[] = [];
  try {
    for await (const chunk of streamEntry(zipfile, entry, label, { gunzip: false })) pieces.push(Buffer.from(chunk));
    return JSON.parse(Buffer.concat(pieces).toString('utf8')) as unknown;
  } catch {
    return undefined; // info is a bonus: a damaged info file leaves its fields unknown
  }
}

interface StreamOptions extends ZipEntryReadOptions {
  gunzip: boolean;
}

/** Streams one entry of an open zip (see readZipEntry). */
async function* streamEntry(zipfile: yauzl.ZipFile, entry: yauzl.Entry, label: string, options: StreamOptions): AsyncGenerator<Buffer> {
  if (entry.isEncrypted()) throw new InputError(label, 'the zip entry is encrypted: it cannot be read');
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw new InputError(label, `the zip entry is compressed with method ${entry.compressionMethod}: only stored and deflated entries are read`);
  }
  let raw: Readable;
  try {
    // Inflated here rather than by yauzl, for larger chunks; sizes and CRC are checked by EntryCheck.
    raw = await zipfile.openReadStreamPromise(entry, { decodeFileData: false });
  } catch (error) {
    throw zipError(label, error);
  }
  const chunkSize = Math.min(options.chunkBytes ?? MAX_INFLATE_CHUNK, MAX_INFLATE_CHUNK);
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
