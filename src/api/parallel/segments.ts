/**
 * One big nexus.log read on several cores: cut into segments of about `segmentBytes`, each
 * starting at a record line (a timestamp at the start of a line), so every event, stack trace
 * included, lies whole in one segment. Workers extract the segments in parallel; the main
 * thread correlates their records in file order, exactly as if the file were read in turn
 * (line numbers are made absolute there). Only for files whose first record sits at the start
 * of a line with `\n` endings: prefixed, quoted or CR-only layouts are read in turn.
 */
import { promises as fs } from 'node:fs';
import { isNexusRecordStart } from '../../events/event-extractor';
import type { ByteRange } from '../../source/read-input';

/** Segments of 32 MiB: long enough that a worker's start-up is noise, short enough that records read ahead stay small. */
export const SEGMENT_BYTES = 32 * 1024 * 1024;
/** How far past a cut a record line is looked for (a long stack trace); past it the cut is dropped. */
const SEARCH_BYTES = 4 * 1024 * 1024;
const WINDOW_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** The segments of a plain file, or null when it should be read in one piece. */
export async function planSegments(name: string, size: number, segmentBytes = SEGMENT_BYTES): Promise<ByteRange[] | null> {
  if (size < 2 * segmentBytes) return null;
  const handle = await fs.open(name, 'r');
  try {
    if (!(await readsAsPlainLines(handle))) return null;
    const starts = [0];
    for (let cut = segmentBytes; cut < size - segmentBytes / 2; cut += segmentBytes) {
      const start = await recordLineAtOrAfter(handle, cut, size);
      if (start !== null && start > (starts[starts.length - 1] as number)) starts.push(start);
    }
    if (starts.length < 2) return null;
    return starts.map((start, i) => ({ start, end: starts[i + 1] ?? size }));
  } finally {
    await handle.close();
  }
}

/** The head has `\n` line ends and its first record line starts at column 0 (no container prefix, no quote). */
async function readsAsPlainLines(handle: fs.FileHandle): Promise<boolean> {
  const head = Buffer.alloc(WINDOW_BYTES);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  let at = 0;
  while (at < bytesRead) {
    const newline = head.indexOf(NEWLINE, at);
    if (newline === -1) return false;
    const end = newline > at && head[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
    if (end > at) return isNexusRecordStart(head, at, end);
    at = newline + 1;
  }
  return false;
}

/** The offset of the first line at or after `from` that is a record line, or null within SEARCH_BYTES. */
async function recordLineAtOrAfter(handle: fs.FileHandle, from: number, size: number): Promise<number | null> {
  const window = Buffer.alloc(WINDOW_BYTES);
  // Read from the byte before `from`: a line starts at `from` when that byte ends a line.
  let base = from - 1;
  let inPartialLine = true;
  const limit = Math.min(size, from + SEARCH_BYTES);
  while (base < limit) {
    const { bytesRead } = await handle.read(window, 0, window.length, base);
    if (bytesRead === 0) return null;
    let at = 0;
    if (inPartialLine) {
      const newline = window.indexOf(NEWLINE);
      if (newline === -1 || newline >= bytesRead) {
        base += bytesRead;
        continue;
      }
      at = newline + 1;
      inPartialLine = false;
    }
    for (;;) {
      const newline = window.indexOf(NEWLINE, at);
      if (newline === -1 || newline >= bytesRead) break;
      const end = newline > at && window[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      if (isNexusRecordStart(window, at, end)) return base + at;
      at = newline + 1;
    }
    if (at === 0) return null; // a line longer than the window: no cut here
    base += at; // read on from the line in progress
  }
  return null;
}
