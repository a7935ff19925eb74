/**
 * Orders files by their first log timestamp, so rotated days come before the live
 * nexus.log and a push that spans a rotation is read in order. Streams (stdin, FIFOs)
 * cannot be peeked: they keep their place after the files.
 */
import { startsWithTimestamp, parseTimestamp } from '../events/timestamp';
import { readInput } from './read-input';
import type { Input } from './resolve-inputs';

/** How far into a file to look for its first timestamp. */
const PEEK_BYTES = 256 * 1024;

export async function orderInputs(inputs: readonly Input[]): Promise<Input[]> {
  const keyed = await Promise.all(
    inputs.map(async (input, position) => ({
      input,
      position,
      first: input.kind === 'file' ? await firstTimestamp(input) : undefined,
    })),
  );
  keyed.sort((a, b) => {
    const aTime = a.first ?? Number.POSITIVE_INFINITY;
    const bTime = b.first ?? Number.POSITIVE_INFINITY;
    if (aTime !== bTime) return aTime < bTime ? -1 : 1;
    return a.position - b.position;
  });
  return keyed.map((entry) => entry.input);
}

/** Epoch ms of the first Nexus timestamp in the file's first 256 KiB; undefined if none or unreadable. */
export async function firstTimestamp(input: Input): Promise<number | undefined> {
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of readInput(input, { chunkBytes: 64 * 1024 })) {
      pieces.push(chunk);
      size += chunk.length;
      if (size >= PEEK_BYTES) break;
    }
  } catch {
    return undefined; // the real read reports the problem with the file's name
  }
  const head = Buffer.concat(pieces, size);
  let start = 0;
  while (start < head.length) {
    let end = head.indexOf(0x0a, start);
    if (end === -1) end = head.length;
    if (startsWithTimestamp(head, start, end)) {
      return parseTimestamp(head.toString('latin1', start, Math.min(end, start + 40)))?.epochMs;
    }
    start = end + 1;
  }
  return undefined;
}
