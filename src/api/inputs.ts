/**
 * Command-line inputs -> what to read, in which order: each input's kind (nexus.log, task log,
 * request.log, outbound-request.log, audit.log: by name, else by its first lines) and its first
 * record time, so rotated days come before the live file and a push that spans a rotation is
 * read in order. Heads are read a few files at a time (never one open file per input: a folder
 * of 20,000 files must not run out of descriptors), and an input whose head cannot be read is
 * reported, never silently put out of order.
 */
import { classifyKind, firstRecordTime, kindOfName } from '../events/classify-input';
import type { InputKind } from '../events/log-event';
import { toInputError, type InputError } from '../source/input-error';
import { readInput } from '../source/read-input';
import type { Input } from '../source/resolve-inputs';

export interface PlannedInput {
  input: Input;
  kind: InputKind;
  /** First record time, epoch ms; undefined for streams and inputs without one. */
  first: number | undefined;
}

/** How far into a file to look for its kind and first record. */
const PEEK_BYTES = 256 * 1024;
/** Files peeked at once. */
const PEEK_CONCURRENCY = 16;

/** The first bytes of an input (decompressed); throws an InputError when it cannot be read. */
async function head(input: Input): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const chunk of readInput(input, { chunkBytes: 64 * 1024 })) {
    pieces.push(Buffer.from(chunk));
    size += chunk.length;
    if (size >= PEEK_BYTES) break;
  }
  return Buffer.concat(pieces, size);
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const ORDER: readonly InputKind[] = ['nexus', 'task', 'request', 'outbound', 'audit'];

/**
 * Classifies and orders inputs: by kind (nexus logs first, the secondary logs after), then by
 * first record time, then as given; support zip entries like files. Streams cannot be peeked:
 * read as nexus logs, after the files.
 * `onUnreadable`: an input whose head cannot be read (it is left out); without it, that throws.
 */
export async function planInputs(inputs: readonly Input[], onUnreadable?: (error: InputError) => void): Promise<PlannedInput[]> {
  const planned = await mapLimited(inputs, PEEK_CONCURRENCY, async (input): Promise<PlannedInput | null> => {
    // A zip entry's kind is its path's in the zip (the zip's own folder says nothing).
    const named = kindOfName(input.kind === 'zip-entry' ? input.entry : input.name);
    if (input.kind === 'stdin' || input.kind === 'stream') return { input, kind: named ?? 'nexus', first: undefined };
    let bytes: Buffer;
    try {
      bytes = await head(input);
    } catch (error) {
      const problem = toInputError(input.name, error);
      if (onUnreadable === undefined) throw problem;
      onUnreadable(problem);
      return null;
    }
    const kind = classifyKind(named, bytes);
    return { input, kind, first: firstRecordTime(bytes, kind) };
  });
  const kept = planned.filter((p): p is PlannedInput => p !== null);
  const position = new Map(kept.map((p, i) => [p, i]));
  return kept.sort((a, b) => {
    const byKind = ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind);
    if (byKind !== 0) return byKind;
    const aTime = a.first ?? Number.POSITIVE_INFINITY;
    const bTime = b.first ?? Number.POSITIVE_INFINITY;
    if (aTime !== bTime) return aTime < bTime ? -1 : 1;
    return (position.get(a) as number) - (position.get(b) as number);
  });
}


