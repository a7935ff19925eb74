/**
 * Reads several files (or segments of one big file) at once on a pool of worker threads (one
 * per worker at a time, as many workers as cores) and hands their extracted records back per
 * file, in the files' order. Files are read ahead of the one being correlated by at most `jobs`, so memory does
 * not grow with the number of files however slow the consumer.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExtractedRecord, ReadingPlan } from '../../analyzer';
import { NO_SOURCE_COUNTERS, type SourceCounters } from '../../events/event-sink';
import type { InputKind } from '../../events/log-event';
import { InputError } from '../../source/input-error';
import type { ByteRange } from '../../source/read-input';
import type { Input } from '../../source/resolve-inputs';
import type { Credit, ExtractJob, WorkerMessage } from './messages';

/** The compiled worker; absent when running from TypeScript sources (tests), then files are read in turn. */
export const WORKER_SCRIPT = path.join(__dirname, 'extract-worker.js');

export interface FileOutcome {
  counters: SourceCounters;
  /** Set when the file failed part-way; the records before the damage were delivered. */
  error: InputError | null;
}

/** One file's records, then how it ended. */
export interface FileExtraction {
  input: Input;
  /** Iterate to the end before awaiting `outcome`. */
  records: AsyncIterable<ExtractedRecord[]>;
  outcome: Promise<FileOutcome>;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** Worker messages for one file, with one reader. */
class MessageQueue {
  private readonly items: WorkerMessage[] = [];
  private waiting: ((message: WorkerMessage) => void) | null = null;

  put(message: WorkerMessage): void {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting !== null) waiting(message);
    else this.items.push(message);
  }

  next(): Promise<WorkerMessage> {
    const item = this.items.shift();
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => (this.waiting = resolve));
  }
}

interface PoolWorker {
  worker: Worker;
  /** Index of the file it is reading, or -1 when idle. */
  file: number;
}

export interface ParallelExtraction {
  files: FileExtraction[];
  /** Stops the workers; call it when done, also when stopping early. */
  close(): void;
}

export function extractInParallel(
  inputs: ReadonlyArray<{ input: Input; kind: InputKind; range?: ByteRange }>,
  plan: ReadingPlan,
  jobs: number,
  signal?: AbortSignal,
): ParallelExtraction {
  const queues = inputs.map(() => new MessageQueue());
  /** Files whose `done` or `failed` was queued. */
  const settled = inputs.map(() => false);
  const pool: PoolWorker[] = [];
  let nextToStart = 0;
  let beingRead = 0; // index of the file whose records are being consumed
  let closed = false;

  const settle = (index: number, message: WorkerMessage): void => {
    if (settled[index] === true) return;
    settled[index] = true;
    (queues[index] as MessageQueue).put(message);
  };
  const stopped = (index: number, why: string): WorkerMessage => ({
    type: 'failed',
    counters: { ...NO_SOURCE_COUNTERS },
    code: undefined,
    message: `${(inputs[index] as { input: Input }).input.name}: ${why}`,
  });

  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const member of pool) {
      member.file = -1;
      void member.worker.terminate();
    }
    // Wake any reader still waiting on a file (after an abort it stops without reporting it).
    inputs.forEach((_input, index) => settle(index, stopped(index, 'reading stopped')));
  };

  const dispatch = (): void => {
    if (closed) return;
    for (const member of pool) {
      if (member.file !== -1) continue;
      if (nextToStart >= inputs.length || nextToStart >= beingRead + jobs || signal?.aborted === true) break;
      member.file = nextToStart++;
      const planned = inputs[member.file] as { input: Input; kind: InputKind; range?: ByteRange };
      const job: ExtractJob = { id: member.file, input: planned.input, kind: planned.kind, plan, ...(planned.range === undefined ? {} : { range: planned.range }) };
      member.worker.postMessage(job);
    }
    if (nextToStart >= inputs.length && pool.every((member) => member.file === -1)) close();
  };

  const failTheFile = (member: PoolWorker, why: string): void => {
    if (member.file === -1) return;
    const index = member.file;
    member.file = -1;
    settle(index, stopped(index, why));
  };

  for (let i = 0; i < Math.min(jobs, inputs.length); i++) {
    // A small young generation: a worker keeps only a line in progress and a batch of records, and
    // two workers with the default one add ~60 MB of peak RSS for nothing.
    const member: PoolWorker = { worker: new Worker(WORKER_SCRIPT, { resourceLimits: { maxYoungGenerationSizeMb: 8 } }), file: -1 };
    member.worker.on('message', (message: WorkerMessage) => {
      const index = member.file;
      if (index === -1) return;
      if (message.type === 'records') {
        (queues[index] as MessageQueue).put(message);
        return;
      }
      settle(index, message);
      member.file = -1;
      dispatch();
    });
    member.worker.on('error', (error) => failTheFile(member, error.message));
    member.worker.on('exit', () => failTheFile(member, 'reading stopped'));
    pool.push(member);
  }
  signal?.addEventListener('abort', close);
  dispatch();

  const files = inputs.map(({ input }, index) => {
    let resolveOutcome!: (outcome: FileOutcome) => void;
    const outcome = new Promise<FileOutcome>((resolve) => (resolveOutcome = resolve));
    const queue = queues[index] as MessageQueue;
    async function* records(): AsyncGenerator<ExtractedRecord[]> {
      beingRead = index;
      dispatch();
      for (;;) {
        const message = await queue.next();
        if (message.type === 'records') {
          yield message.records;
          // Consumed: the worker reading this file may send one more batch.
          const reader = pool.find((member) => member.file === index);
          if (reader !== undefined && !closed) reader.worker.postMessage({ credit: 1, id: index } satisfies Credit);
          continue;
        }
        const error =
          message.type === 'failed'
            ? new InputError(input.name, message.message.slice(input.name.length + 2), { cause: { code: message.code } })
            : null;
        resolveOutcome({ counters: message.counters, error });
        return;
      }
    }
    return { input, records: records(), outcome };
  });
  return { files, close };
}
