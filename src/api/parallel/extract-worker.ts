/**
 * Worker thread of the reading pool: takes one file at a time (gzip or plain), extracts its
 * relevant events and clock ticks, and posts them in order in batches, then `done` or
 * `failed`. The rules run on the main thread.
 */
import { parentPort } from 'node:worker_threads';
import type { ExtractedRecord } from '../../analyzer';
import { buildDispatchPlan, type DispatchPlan } from '../../events/dispatch-plan';
import { EventExtractor } from '../../events/event-extractor';
import type { InputError } from '../../source/input-error';
import { readFileRange, readInput } from '../../source/read-input';
import { RECORD_BATCHES_IN_FLIGHT, type Credit, type ExtractJob, type WorkerMessage } from './messages';

/** Records per message: few enough to keep memory flat, many enough to make messages rare. */
const BATCH = 512;

/** The plan of the last job: the segments of one run share it, and its literal sets are compiled once. */
let cached: { key: string; plan: DispatchPlan } | null = null;
function planOf(job: ExtractJob): DispatchPlan {
  const key = JSON.stringify(job.plan.rules);
  if (cached?.key !== key) cached = { key, plan: buildDispatchPlan(job.plan.rules) };
  return cached.plan;
}

/** Record messages the current job may still send before it waits for the main thread (flow control). */
let allowance = RECORD_BATCHES_IN_FLIGHT;
let jobId = -1;
let wake: (() => void) | null = null;

function credited(credit: Credit): void {
  if (credit.id !== jobId) return; // a credit for a job already finished
  allowance += credit.credit;
  const resume = wake;
  wake = null;
  resume?.();
}

async function extract(job: ExtractJob, post: (message: WorkerMessage) => void): Promise<void> {
  jobId = job.id;
  allowance = RECORD_BATCHES_IN_FLIGHT;
  let batch: ExtractedRecord[] = [];
  const push = (record: ExtractedRecord): void => {
    batch.push(record);
    if (batch.length >= BATCH) {
      post({ type: 'records', records: batch });
      allowance--;
      batch = [];
    }
  };
  const extractor = new EventExtractor(
    { event: (event, rules) => push([event, rules]), tick: (time) => push(time) },
    {
      source: job.input.name,
      kind: job.kind,
      plan: planOf(job),
      maxLineBytes: job.plan.maxLineBytes,
      maxContinuationLines: job.plan.maxContinuationLines,
      ...(job.range === undefined ? {} : { segmentStart: job.range.start }),
    },
  );
  let failure: InputError | null = null;
  try {
    const chunks = job.range === undefined ? readInput(job.input) : readFileRange(job.input.name, job.range);
    for await (const chunk of chunks) {
      extractor.write(chunk);
      // Read on only while the main thread keeps up (a chunk can overdraw the allowance by its own records).
      while (allowance <= 0) await new Promise<void>((resolve) => (wake = resolve));
    }
  } catch (error) {
    failure = error as InputError; // what was read before the damage still counts
  }
  extractor.end();
  if (batch.length > 0) post({ type: 'records', records: batch });
  if (failure === null) post({ type: 'done', counters: extractor.sourceCounters });
  else {
    const code = (failure.cause as { code?: string } | undefined)?.code;
    post({ type: 'failed', counters: extractor.sourceCounters, code, message: failure.message });
  }
}

const port = parentPort;
if (port === null) throw new Error('extract-worker must run as a worker thread');
// One file at a time: the pool sends the next job only after `done` or `failed`.
port.on('message', (message: ExtractJob | Credit) => {
  if ('credit' in message) credited(message);
  else void extract(message, (out) => port.postMessage(out));
});
