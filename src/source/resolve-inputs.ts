/**
 * Command-line inputs -> the list of things to read: `-` (stdin), files, directories
 * (their nexus*.log* files), and glob patterns (fast-glob). A support zip (zip magic bytes)
 * becomes one input per log entry, read in place (support-zip.ts). Fails before anything is
 * read, with an InputError naming the first input that cannot be used.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { InputError, toInputError } from './input-error';
import { listSupportZip, startsWithZipMagic, type SupportZipListing } from './support-zip';

export const STDIN = '-';

/**
 * The files a log directory contributes, live and rotated: nexus.log, request.log,
 * outbound-request.log, audit.log (also in audit/), the task logs in tasks/, and support zips.
 */
export const DIRECTORY_PATTERNS = ['{nexus,request,outbound-request,audit}*.log*', 'audit/audit*.log*', 'tasks/*.log', 'support-*.zip'];

export type Input = PathInput | ZipEntryInput;

export interface PathInput {
  /** As shown in evidence and messages: the path as given or found, or `-`. */
  name: string;
  /** Regular file (can be peeked and re-opened), stream-like (FIFO, device), or stdin. */
  kind: 'file' | 'stream' | 'stdin';
}

/** A log entry of a support zip, read in place (like a file: it can be peeked and re-opened). */
export interface ZipEntryInput {
  /** `<zip path>!<entry path under the zip's root folder>`, e.g. `support-20250910-013622-1.zip!log/request.log`. */
  name: string;
  kind: 'zip-entry';
  /** The zip's path, as given or found. */
  zip: string;
  /** The entry's full name in the zip (with its root folder). */
  entry: string;
}

/**
 * `onSupportZip`: each support zip listed (once per zip, before anything is read), with its
 * info and truncated entries.
 */
export async function resolveInputs(
  patterns: readonly string[],
  onSupportZip?: (listing: SupportZipListing) => void,
  onUnreadable?: (folder: string, message: string) => void,
): Promise<Input[]> {
  const inputs: Input[] = [];
  const seen = new Set<string>();
  const add = (input: Input): void => {
    const identity = input.kind === 'stdin' ? STDIN : input.kind === 'zip-entry' ? `${path.resolve(input.zip)}!${input.entry}` : path.resolve(input.name);
    if (seen.has(identity)) return;
    seen.add(identity);
    inputs.push(input);
  };
  const addFile = async (name: string, known?: Stats): Promise<void> => {
    const input = await checkedFile(name, known);
    if (input.kind !== 'file' || !(await isZip(name))) {
      add(input);
      return;
    }
    if (seen.has(`${path.resolve(name)}!`)) return;
    seen.add(`${path.resolve(name)}!`);
    const listing = await listSupportZip(name);
    onSupportZip?.(listing);
    for (const entry of listing.entries) add({ name: `${name}!${entry.path}`, kind: 'zip-entry', zip: name, entry: entry.name });
  };

  for (const pattern of patterns.length === 0 ? [STDIN] : patterns) {
    if (pattern === STDIN) {
      add({ name: STDIN, kind: 'stdin' });
      continue;
    }
    const stats = await statOrUndefined(pattern);
    if (stats?.isDirectory()) {
      await checkListable(pattern);
      // Subfolders that cannot be listed are named, and the rest is read.
      for (const sub of ['audit', 'tasks']) {
        const folder = path.join(pattern, sub);
        if ((await statOrUndefined(folder))?.isDirectory() === true && !(await listable(folder))) onUnreadable?.(folder, `${folder}: cannot list this folder (permission denied): its logs are not read`);
      }
      const found = await globbed(pattern, () => glob()(DIRECTORY_PATTERNS, { ...GLOB_OPTIONS, cwd: pattern, dot: false }));
      if (found.length === 0) throw new InputError(pattern, 'directory has no Nexus log files (nexus*.log*, request*.log*, audit*.log*, tasks/*.log, support-*.zip)');
      for (const file of found.sort()) await addFile(path.join(pattern, file));
    } else if (stats !== undefined) {
      await addFile(pattern, stats);
    } else if (glob().isDynamicPattern(pattern)) {
      const found = await globbed(pattern, () => glob()(pattern, { ...GLOB_OPTIONS, dot: true }));
      if (found.length === 0) throw new InputError(pattern, 'no files match this pattern');
      for (const file of found.sort()) await addFile(file);
    } else {
      throw new InputError(pattern, 'no such file or directory');
    }
  }
  return inputs;
}

/**
 * Symbolic links are not followed into (a link back to a parent would make `**` endless, as
 * `find -L` warns), and a subfolder that cannot be listed does not end the search.
 */
const GLOB_OPTIONS = { onlyFiles: true, followSymbolicLinks: false, suppressErrors: true } as const;

/** A search that fails anyway (the pattern's own base cannot be read) is an input error naming it. */
async function globbed(pattern: string, search: () => Promise<string[]>): Promise<string[]> {
  try {
    return await search();
  } catch (error) {
    throw toInputError(pattern, error);
  }
}

async function listable(folder: string): Promise<boolean> {
  try {
    await fs.access(folder, constants.R_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function checkListable(folder: string): Promise<void> {
  if (!(await listable(folder))) throw new InputError(folder, 'cannot list this folder (permission denied)');
}

/** fast-glob, loaded when a folder or a pattern is given: its modules cost ~80 ms of start-up a plain file does not need. */
function glob(): typeof import('fast-glob') {
  return require('fast-glob') as typeof import('fast-glob');
}

async function checkedFile(name: string, known?: Stats): Promise<PathInput> {
  try {
    const stats = known ?? (await fs.stat(name));
    await fs.access(name, constants.R_OK);
    return { name, kind: stats.isFile() ? 'file' : 'stream' };
  } catch (error) {
    throw toInputError(name, error);
  }
}

async function statOrUndefined(name: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw toInputError(name, error);
  }
}

/** A zip by its magic bytes; a `.zip` name without them is an error rather than a log read as text. */
async function isZip(name: string): Promise<boolean> {
  let zip: boolean;
  try {
    zip = await startsWithZipMagic(name);
  } catch (error) {
    throw toInputError(name, error);
  }
  if (!zip && /\.zip$/i.test(name)) throw new InputError(name, 'not a zip file (it does not start with the zip signature "PK")');
  return zip;
}
