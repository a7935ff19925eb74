/**
 * `analyzeFiles(patterns)`: resolve inputs, read them in order through one Analyzer, and yield
 * incidents as they close. nexus.log files (and task logs) come first, in log-time order (rotated
 * days first, .gz transparently); then request.log, outbound-request.log and audit.log, each on
 * its own clock. Rules that sharpen their incidents from a secondary input (a failed push from
 * request.log) hold those incidents until it has been read. Several plain files are read on
 * worker threads at once; the rules still see them in order, so the incidents are the same.
 * A support zip's log entries are read in place, like files named `<zip>!<entry path>`.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { Analyzer, DEFAULTS, type AnalyzerOptions } from '../analyzer';
import { addCounters, NO_SOURCE_COUNTERS, type SourceCounters } from '../events/event-sink';
import type { InputKind } from '../events/log-event';
import type { Incident } from '../incidents/incident';
import { followFile, type FollowReady, type FollowWarning } from '../source/follow-file';
import { InputError, toInputError } from '../source/input-error';
import { IDLE, nextOrIdle } from '../source/live-clock';
import { readInput, startsWithGzipMagic, type ByteRange } from '../source/read-input';
import { resolveInputs, STDIN, type Input } from '../source/resolve-inputs';
import { skippedMessage, startsWithZipMagic, truncationMessage, type SupportZipInfo, type SupportZipListing } from '../source/support-zip';
import { fileOutsideRange, inRange, type TimeRange } from '../source/time-range';
import { planInputs, type PlannedInput } from './inputs';
import { defaultJobs, extractInParallel, WORKER_SCRIPT } from './parallel/parallel-extraction';
import { planSegments, SEGMENT_BYTES } from './parallel/segments';

export interface AnalyzeFilesOptions extends AnalyzerOptions {
  /**
   * Called when an input fails while being read (e.g. corrupt gzip, unreadable): analysis goes on
   * with the next input. Without it, the incidents found so far are yielded and the error is thrown.
   */
  onInputError?: (error: InputError) => void;
  /** Called once inputs are resolved and ordered, with their names, before any is read. */
  onInputs?: (names: readonly string[]) => void;
  /** Called before each input is read, with its name and what it holds. */
  onInput?: (name: string, kind: InputKind) => void;
  /**
   * `follow`: a condition of the file system worth a word (unreadable, vanished, replaced); reading goes on.
   * Support zips: an entry the zip's generator truncated (`path` is `<zip>!<entry path>`), a zip without logs.
   */
  onWarning?: (warning: FollowWarning) => void;
  /**
   * Called once per support zip, before any input is read: the server it comes from (from
   * `info/sysinfo.json`, `info/jmx.json`; every field optional), the zip's path, and the paths
   * of its truncated entries (also reported one by one through `onWarning`).
   */
  onSupportZip?: (info: SupportZipInfo & { path: string; truncated: string[] }) => void;
  /** Stream read for `-`. Default process.stdin. */
  stdin?: Readable;
  /** Receives the analyzer once created, e.g. to read its stats at the end. */
  analyzer?: (analyzer: Analyzer) => void;
  /**
   * Stops reading (e.g. on SIGTERM): every open group is then yielded with closeReason
   * `shutdown`, and the iteration ends normally.
   */
  signal?: AbortSignal;
  /**
   * Files read at once on worker threads. Default: one per core for two plain files or more,
   * gzip files in turn (their inflating already runs on libuv's threads; docs/performance.md).
   * A number forces it for every file, and also cuts a plain nexus.log of twice `segmentBytes`
   * or more into segments read in parallel; 1 reads all in turn; more than the cores is taken
   * as one per core. The incidents are the same either way.
   */
  jobs?: number;
  /** Bytes per segment when a big file is read on several cores (default 32 MiB; files under twice this are not cut). */
  segmentBytes?: number;
  /**
   * For live streams (stdin, FIFOs): after this many ms without data, the event in progress
   * is complete and event time moves on with the wall clock, so an incident is reported
   * without waiting for the next log line. Default 10. Files are not affected.
   */
  liveIdleMs?: number;
  /**
   * Follow one file (or a folder's nexus.log) like `tail -F`, across rotation and truncation,
   * until `signal` aborts. Starts at its end unless `fromStart`; the file may not exist yet.
   */
  follow?: boolean;
  fromStart?: boolean;
  /**
   * `follow`: called once the file is open at its start position (`position`: the byte offset
   * reading starts at), or found missing or unreadable and waited for (`position: null`, then
   * read from its start): from then on every byte written to it is read.
   */
  onReady?: (ready: FollowReady) => void;
  /** Only incidents that began at or after this time (epoch ms or Date); earlier rotated days are not read. */
  since?: number | Date;
  /** Only incidents that began before this time (epoch ms or Date); later rotated days are not read. */
  until?: number | Date;
}

/** Kinds read before the secondary logs, with the rules' clock of their own. */
const PRIMARY: readonly InputKind[] = ['nexus', 'task'];
const SECONDARY: readonly InputKind[] = ['request', 'outbound', 'audit'];

/**
 * Yields every incident in the given files, directories, glob patterns or `-` (stdin).
 * Throws an InputError naming the input when one cannot be found or read.
 */
export async function* analyzeFiles(patterns: string | readonly string[], options: AnalyzeFilesOptions = {}): AsyncGenerator<Incident, void, undefined> {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  const range: TimeRange = { since: epochOf(options.since, 'since'), until: epochOf(options.until, 'until') };
  if (options.jobs !== undefined && !(Number.isInteger(options.jobs) && options.jobs >= 1)) throw new RangeError(`jobs must be a whole number >= 1, got ${String(options.jobs)}`);
  if (range.since !== undefined && range.until !== undefined && range.since >= range.until) {
    throw new RangeError(`since (${new Date(range.since).toISOString()}) must be before until (${new Date(range.until).toISOString()})`);
  }
  if (options.follow === true) {
    yield* followOne(list, range, options);
    return;
  }
  const zips: SupportZipListing[] = [];
  const resolved = (
    await resolveInputs(
      list,
      (listing) => zips.push(listing),
      (folder, message) => options.onWarning?.({ path: folder, message }),
    )
  ).filter((input) => !fileOutsideRange(input.name, range));
  const knownCuts = reportSupportZips(zips, options);
  const planned = await planInputs(resolved, options.onInputError === undefined ? undefined : (error) => inputFailed(error, options));
  options.onInputs?.(planned.map((p) => p.input.name));
  const within = keepWithin(range);

  const analyzer = new Analyzer(options);
  options.analyzer?.(analyzer);
  const present = new Set(planned.map((p) => p.kind));
  for (const kind of SECONDARY) if (present.has(kind)) analyzer.parkFor(kind);

  let failure: InputError | undefined;
  const run = async function* (kinds: readonly InputKind[]): AsyncGenerator<Incident> {
    const inputs = planned.filter((p) => kinds.includes(p.kind));
    if (inputs.length === 0 || failure !== undefined) return;
    for await (const step of readInputs(analyzer, inputs, options, knownCuts)) {
      if (step.error !== undefined && mustStop(step.error, options)) {
        failure = step.error;
        return;
      }
      yield* within(step.incidents);
    }
  };

  try {
    yield* run(PRIMARY);
    for (const kind of SECONDARY) {
      if (failure !== undefined || options.signal?.aborted === true) break;
      if (!present.has(kind)) continue;
      yield* within(analyzer.endKinds(kind === 'request' ? PRIMARY : [...PRIMARY, ...SECONDARY.slice(0, SECONDARY.indexOf(kind))]));
      analyzer.beginEnrichment(kind);
      yield* run([kind]);
      yield* within(analyzer.releaseParked(kind));
    }
  } finally {
    // Nothing found so far is lost: on an error, on a stop, and at the end.
    if (!analyzer.hasEnded) yield* within(options.signal?.aborted === true ? analyzer.shutdown() : analyzer.end());
  }
  if (failure !== undefined) throw failure;
}

/** True when the error must end the run: no onInputError to hand it to, and not stopped on request. */
function mustStop(error: InputError, options: AnalyzeFilesOptions): boolean {
  if (options.signal?.aborted === true) return false; // stopped on request: not an input error
  if (options.onInputError === undefined) return true;
  options.onInputError(error);
  return false;
}

function inputFailed(error: InputError, options: AnalyzeFilesOptions): void {
  options.onInputError?.(error);
}

/** Incidents closed by a piece of input, or the error that ended an input. */
interface Step {
  incidents: readonly Incident[];
  error?: InputError;
}

/**
 * Support zips: their info to `onSupportZip`, their truncated entries and a zip without logs to
 * `onWarning`. Returns the names of the entries known to be cut (not to be reported again on reading).
 */
function reportSupportZips(zips: readonly SupportZipListing[], options: AnalyzeFilesOptions): Set<string> {
  const cuts = new Set<string>();
  for (const listing of zips) {
    options.onSupportZip?.({ ...listing.info, path: listing.zip, truncated: listing.truncated.map((entry) => entry.path) });
    for (const entry of listing.truncated) {
      options.onWarning?.({ path: `${listing.zip}!${entry.path}`, message: truncationMessage(listing.zip, entry) });
      cuts.add(`${listing.zip}!${entry.path}`);
    }
    for (const entry of listing.skipped) options.onWarning?.({ path: `${listing.zip}!${entry.path}`, message: skippedMessage(listing.zip, entry) });
    if (listing.entries.length === 0) {
      options.onWarning?.({ path: listing.zip, message: `${listing.zip}: no log to read in this support zip (no log/nexus.log, log/request.log, log/audit.log, log/tasks/*.log)` });
    }
  }
  return cuts;
}

async function* readInputs(analyzer: Analyzer, inputs: readonly PlannedInput[], options: AnalyzeFilesOptions, knownCuts: ReadonlySet<string>): AsyncGenerator<Step> {
  // More workers than cores only add memory (~40 MB each): `-j 100` on 100 files took 1.27 GB.
  const jobs = Math.max(1, Math.min(Math.floor(options.jobs ?? defaultJobs()), defaultJobs()));
  const pieces = jobs > 1 && existsSync(WORKER_SCRIPT) ? await piecesForWorkers(inputs, options.jobs !== undefined, options.segmentBytes ?? SEGMENT_BYTES) : null;
  yield* pieces !== null ? readInParallel(analyzer, pieces, jobs, options) : readInTurn(analyzer, inputs, options, knownCuts);
}

/** A file, or one segment of a big one, read by a worker. */
interface Piece extends PlannedInput {
  range?: ByteRange;
  /** The file's first piece (its source begins) and last (its counters are complete). */
  opensSource: boolean;
  closesSource: boolean;
}

/**
 * Workers read nexus and task logs that are files (not pipes, and not request or audit logs,
 * whose enrichment runs inline). Big plain files are cut into segments (parallel/segments.ts).
 * By default workers are used when that gives at least two plain pieces: gzip inflates on
 * libuv's threads already.
 */
async function piecesForWorkers(inputs: readonly PlannedInput[], forced: boolean, segmentBytes: number): Promise<Piece[] | null> {
  if (!inputs.every((p) => p.input.kind === 'file' && (p.kind === 'nexus' || p.kind === 'task'))) return null;
  const pieces: Piece[] = [];
  let plain = 0;
  for (const planned of inputs) {
    const gzipped = await startsWithGzipMagic(planned.input.name).catch(() => true);
    const size = gzipped ? 0 : await fsp.stat(planned.input.name).then((stats) => stats.size, () => 0);
    // Cutting one file pays only with real cores to spare: on this project's 2 vCPUs (one
    // physical core's two threads) it gained nothing and doubled peak RSS (docs/performance.md),
    // so it is done when asked for (`jobs`), not by default.
    const segments = forced && size > 0 ? await planSegments(planned.input.name, size, segmentBytes).catch(() => null) : null;
    if (!gzipped) plain += segments?.length ?? 1;
    if (segments === null) pieces.push({ ...planned, opensSource: true, closesSource: true });
    else segments.forEach((range, i) => pieces.push({ ...planned, range, opensSource: i === 0, closesSource: i === segments.length - 1 }));
  }
  return pieces.length > 1 && (forced || plain >= 2) ? pieces : null;
}
/** `follow`: one file, read live until the signal aborts; the open groups are then reported. */
async function* followOne(patterns: readonly string[], range: TimeRange, options: AnalyzeFilesOptions): AsyncGenerator<Incident> {
  if (patterns.length !== 1 || patterns[0] === STDIN) {
    throw new InputError(patterns.join(' ') || '(none)', 'follow takes exactly one file or log folder');
  }
  const target = await followTarget(patterns[0] as string);
  // Only a regular file can be a zip: opening a FIFO to look would block until a writer comes (and SIGTERM could not end the wait).
  const isFile = await fsp.stat(target).then((stats) => stats.isFile(), () => false);
  if (isFile && (await startsWithZipMagic(target).catch(() => false))) throw new InputError(target, 'a support zip cannot be followed: read it without --follow');
  if (isFile && (await startsWithGzipMagic(target).catch(() => false))) throw new InputError(target, 'a gzip file cannot be followed (it is not appended to): read it without --follow');
  options.onInputs?.([target]);
  const analyzer = new Analyzer({ ...options, source: target });
  options.analyzer?.(analyzer);
  options.onInput?.(target, 'nexus');
  const within = keepWithin(range);
  const chunks = followFile(target, {
    ...(options.fromStart === undefined ? {} : { fromStart: options.fromStart }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.onReady === undefined ? {} : { onReady: options.onReady }),
  });
  try {
    for await (const step of readLive(analyzer, chunks, options.liveIdleMs ?? DEFAULTS.liveIdleMs)) yield* within(step.incidents);
  } finally {
    if (!analyzer.hasEnded) yield* within(options.signal?.aborted === true ? analyzer.shutdown() : analyzer.end());
  }
}

/** A folder means its nexus.log; a file that does not exist yet is followed until it appears. */
async function followTarget(pattern: string): Promise<string> {
  try {
    return (await fsp.stat(pattern)).isDirectory() ? path.join(pattern, 'nexus.log') : pattern;
  } catch {
    return pattern;
  }
}

/** A filter keeping the incidents that began in the range (all of them when it is open). */
function keepWithin(range: TimeRange): (incidents: readonly Incident[]) => readonly Incident[] {
  if (range.since === undefined && range.until === undefined) return (incidents) => incidents;
  // An incident whose lines carry no time (loose text) cannot be placed: it is kept.
  return (incidents) => incidents.filter((incident) => incident.firstSeen === null || inRange(Date.parse(incident.firstSeen), range));
}

function epochOf(time: number | Date | undefined, name = 'since/until'): number | undefined {
  if (time === undefined) return undefined;
  const epoch = time instanceof Date ? time.getTime() : time;
  // A NaN, an invalid Date or a string would filter out everything without a word.
  if (typeof epoch !== 'number' || !Number.isFinite(epoch)) throw new RangeError(`${name} must be epoch milliseconds or a valid Date, got ${String(time)}`);
  return epoch;
}

/** Whether a run was stopped (a function: TypeScript would keep an earlier check's narrowing). */
function stopped(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Bytes analyzed between two looks at the clock. */
const WRITE_SLICE_BYTES = 256 * 1024;
/** Work done in one turn of the event loop before it gets one (for signals). */
const TURN_BUDGET_MS = 100;

async function* readInTurn(analyzer: Analyzer, inputs: readonly PlannedInput[], options: AnalyzeFilesOptions, knownCuts: ReadonlySet<string>): AsyncGenerator<Step> {
  const readOptions = {
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    // A zip entry found cut only on reading (its size did not show it): reported then.
    onTruncated: (input: Input): void => {
      if (input.kind !== 'zip-entry' || knownCuts.has(input.name)) return;
      options.onWarning?.({ path: input.name, message: truncationMessage(input.zip, { name: input.entry, path: input.name.slice(input.zip.length + 1), how: 'cut' }) });
    },
  };
  for (const { input, kind } of inputs) {
    if (options.signal?.aborted === true) return;
    options.onInput?.(input.name, kind);
    yield { incidents: analyzer.beginSource(input.name, kind) };
    const chunks = readInput(input, readOptions);
    if (input.kind === 'stdin' || input.kind === 'stream') {
      try {
        yield* readLive(analyzer, chunks, options.liveIdleMs ?? DEFAULTS.liveIdleMs);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        yield { incidents: [], error };
      }
      continue;
    }
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (error) {
          // Only the read is an input error: a rule's bug below surfaces as itself.
          yield { incidents: [], error: toInputError(input.name, error) };
          break;
        }
        if (next.done === true) break;
        // A dense 1 MiB chunk (a storm of relevant lines) can take a few hundred ms: it is written
        // in slices, and once a slice ran past a turn's budget the event loop gets a turn, so a stop
        // (SIGTERM) is seen within about that budget. A quiet chunk takes a few ms: no extra turn.
        // Once stopped, no further slice is read: what is left to do is writing what was found.
        const chunk = next.value;
        let turnStarted = Date.now();
        for (let at = 0; at < chunk.length; at += WRITE_SLICE_BYTES) {
          if (Date.now() - turnStarted > TURN_BUDGET_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            turnStarted = Date.now();
          }
          if (stopped(options.signal)) return;
          yield { incidents: analyzer.write(chunk.subarray(at, Math.min(chunk.length, at + WRITE_SLICE_BYTES))) };
        }
      }
    } finally {
      // Stopped mid-file (or the consumer left): the reader closes its file now, not at garbage collection.
      await chunks.return(undefined);
    }
  }
}

/** A stream that may go quiet: between chunks, the analyzer's live clock runs (`Analyzer.advance`). */
async function* readLive(analyzer: Analyzer, chunks: AsyncGenerator<Buffer>, idleMs: number): AsyncGenerator<Step> {
  let next = chunks.next();
  try {
    for (;;) {
      let result: IteratorResult<Buffer> | typeof IDLE;
      try {
        result = await nextOrIdle(next, idleMs);
      } catch (error) {
        throw toInputError(analyzer.source, error);
      }
      if (result === IDLE) {
        yield { incidents: analyzer.advance(Date.now()) };
        continue;
      }
      if (result.done === true) return;
      yield { incidents: analyzer.write(result.value) };
      analyzer.dataArrived(Date.now());
      next = chunks.next();
    }
  } finally {
    void chunks.return(undefined).catch(() => undefined); // a consumer that stopped early: release the stream
  }
}

async function* readInParallel(analyzer: Analyzer, pieces: readonly Piece[], jobs: number, options: AnalyzeFilesOptions): AsyncGenerator<Step> {
  const extraction = extractInParallel(pieces, analyzer.readingPlan(), jobs, options.signal);
  let counters: SourceCounters = { ...NO_SOURCE_COUNTERS };
  let failure: InputError | null = null;
  try {
    for (const [index, file] of extraction.files.entries()) {
      if (options.signal?.aborted === true) return;
      const piece = pieces[index] as Piece;
      if (piece.opensSource) {
        options.onInput?.(file.input.name, piece.kind);
        yield { incidents: analyzer.beginSource(file.input.name, piece.kind) };
        counters = { ...NO_SOURCE_COUNTERS };
        failure = null;
      }
      // A segment counts its lines from 1: the lines of the segments before it make them the file's.
      const linesBefore = counters.lines;
      for await (const records of file.records) {
        if (stopped(options.signal)) return; // stopped: what the workers queued is not analysed on
        if (failure !== null) continue; // the file failed in an earlier segment: the rest is not read on
        if (linesBefore > 0) for (const record of records) if (typeof record !== 'number') record[0].line += linesBefore;
        yield { incidents: analyzer.ingest(records) };
      }
      const outcome = await file.outcome;
      if (failure !== null) continue; // reported with the segment that failed
      addCounters(counters, outcome.counters);
      failure = outcome.error;
      if (failure !== null) yield { incidents: analyzer.ingest([], counters), error: failure };
      else if (piece.closesSource) yield { incidents: analyzer.ingest([], counters) };
    }
  } finally {
    extraction.close(); // also when the consumer stops early: idle workers would keep the process alive
  }
}

export type { Input };
