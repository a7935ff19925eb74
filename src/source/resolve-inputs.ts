/**
 * Command-line inputs -> the list of things to read: `-` (stdin), files, directories
 * (their nexus*.log* files), and glob patterns (fast-glob). Fails before anything is read,
 * with an InputError naming the first input that cannot be used.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import fg from 'fast-glob';
import { InputError, toInputError } from './input-error';

export const STDIN = '-';

/**
 * The files a log directory contributes, live and rotated: nexus.log, request.log,
 * outbound-request.log, audit.log (also in audit/), the task logs in tasks/, and support zips.
 */
export const DIRECTORY_PATTERNS = ['{nexus,request,outbound-request,audit}*.log*', 'audit/audit*.log*', 'tasks/*.log', 'support-*.zip'];

export interface Input {
  /** As shown in evidence and messages: the path as given or found, or `-`. */
  name: string;
  /** Regular file (can be peeked and re-opened), stream-like (FIFO, device), or stdin. */
  kind: 'file' | 'stream' | 'stdin';
}

export async function resolveInputs(patterns: readonly string[]): Promise<Input[]> {
  const inputs: Input[] = [];
  const seen = new Set<string>();
  const add = (input: Input): void => {
    const identity = input.kind === 'stdin' ? STDIN : path.resolve(input.name);
    if (seen.has(identity)) return;
    seen.add(identity);
    inputs.push(input);
  };

  for (const pattern of patterns.length === 0 ? [STDIN] : patterns) {
    if (pattern === STDIN) {
      add({ name: STDIN, kind: 'stdin' });
      continue;
    }
    const stats = await statOrUndefined(pattern);
    if (stats?.isDirectory()) {
      const found = await fg(DIRECTORY_PATTERNS, { cwd: pattern, onlyFiles: true, dot: false });
      if (found.length === 0) throw new InputError(pattern, 'directory has no Nexus log files (nexus*.log*, request*.log*, audit*.log*, tasks/*.log, support-*.zip)');
      for (const file of found.sort()) add(await checkedFile(path.join(pattern, file)));
    } else if (stats !== undefined) {
      add(await checkedFile(pattern, stats));
    } else if (fg.isDynamicPattern(pattern)) {
      const found = await fg(pattern, { onlyFiles: true, dot: true });
      if (found.length === 0) throw new InputError(pattern, 'no files match this pattern');
      for (const file of found.sort()) add(await checkedFile(file));
    } else {
      throw new InputError(pattern, 'no such file or directory');
    }
  }
  return inputs;
}

async function checkedFile(name: string, known?: Stats): Promise<Input> {
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
