/**
 * `analyzeFiles(patterns)`: resolve inputs, read them in log-time order (rotated days
 * first, .gz transparently) through one Analyzer, and yield incidents as they close.
 * Several files are read on worker threads at once; the rules still see them in order,
 * so the incidents are the same as reading them one by one.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { Analyzer, DEFAULTS, type AnalyzerOptions } from '../analyzer';
import type { Evidence, Incident } from '../incidents/incident';
import { followFile } from '../source/follow-file';
import { InputError } from '../source/input-error';
import { orderInputs } from '../source/order-inputs';
import { defaultJobs, extractInParallel, WORKER_SCRIPT } from '../source/parallel/parallel-extraction';
import { IDLE, nextOrIdle } from '../source/live-clock';
import { readInput, startsWithGzipMagic } from '../source/read-input';
import { isOutboundLogName, parseOutboundLine } from '../source/outbound-log';
import { isRequestLogName } from '../source/request-log';
import { resolveInputs, STDIN, type Input } from '../source/resolve-inputs';
import { LINE_HAS_LITERAL, LineSplitter } from '../lines/line-splitter';
import { isDockerPushIncident } from '../rules/builtin/docker-manifest-missing-layers';
import { DockerRequestScan, REQUEST_LITERALS } from '../rules/builtin/docker-request-evidence';
import { PROXY_CONDITIONAL_GET_IGNORED, redownloadIncident, type BlobDownload } from '../rules/builtin/proxy-conditional-get-ignored';
import { fileOutsideRange, inRange, type TimeRange } from '../source/time-range';

export interface AnalyzeFilesOptions extends AnalyzerOptions {
  /**
   * Called when an input fails while being read (e.g. corrupt gzip); analysis goes on with
   * the next input. Without it, the incidents found so far are yielded and the error is thrown.
   */
  onInputError?: (error: InputError) => void;
  /** Called once inputs are resolved and ordered, with their names, before any is read. */
  onInputs?: (names: readonly string[]) => void;
  /** Called before each input is read, with its name (for progress or logging). */
  onInput?: (name: string) => void;
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
   * Files read at once on worker threads. Default: one per core for plain files when there
   * are at least two, and gzip files in turn (their inflating already runs on libuv's
   * threads; docs/performance.md). A number forces it for every file; 1 reads all in turn.
   * The incidents are the same either way.
   */
  jobs?: number;
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
  /** Only incidents that began at or after this time (epoch ms or Date); earlier rotated days are not read. */
  since?: number | Date;
  /** Only incidents that began before this time (epoch ms or Date); later rotated days are not read. */
  until?: number | Date;
}

/**
 * Yields every incident in the given files, directories (their nexus*.log*), glob patterns
 * or `-` (stdin). Throws an InputError naming the input when one cannot be found or read.
 */
export async function* analyzeFiles(
  patterns: string | readonly string[],
  options: AnalyzeFilesOptions = {},
): AsyncGenerator<Incident, void, undefined> {
  const range: TimeRange = { since: epochOf(options.since), until: epochOf(options.until) };
  if (options.follow === true) {
    yield* followOne(typeof patterns === 'string' ? [patterns] : patterns, range, options);
    return;
  }
  const all = (await orderInputs(await resolveInputs(typeof patterns === 'string' ? [patterns] : patterns))).filter(
    (input) => !fileOutsideRange(input.name, range),
  );
  const requestLogs = all.filter((input) => isRequestLogName(input.name));
  const outboundLogs = all.filter((input) => isOutboundLogName(input.name));
  const logs = all.filter((input) => !isRequestLogName(input.name) && !isOutboundLogName(input.name));
  options.onInputs?.([...logs, ...requestLogs, ...outboundLogs].map((input) => input.name));
  const incidents = analyzeLogs(logs, range, options);
  if (requestLogs.length === 0 && outboundLogs.length === 0) {
    yield* incidents;
    return;
  }
  // request.log tells why: read it once the incidents are known, then report them with it.
  const held: Incident[] = [];
  try {
    for await (const incident of incidents) held.push(incident);
    yield* requestLogs.length === 0 ? held : await withRequestEvidence(held, requestLogs, options);
  } catch (error) {
    yield* held; // nothing found so far is lost
    throw error;
  }
  if (outboundLogs.length > 0 && (options.rules ?? []).some((rule) => rule.id === PROXY_CONDITIONAL_GET_IGNORED)) {
    yield* keepWithin(range)(await blobRedownloads(outboundLogs, options));
  }
}

/** The incidents of nexus.log files (every layout), in time order. */
async function* analyzeLogs(inputs: readonly Input[], range: TimeRange, options: AnalyzeFilesOptions): AsyncGenerator<Incident> {
  const analyzer = new Analyzer(options);
  options.analyzer?.(analyzer);
  const jobs = Math.max(1, Math.floor(options.jobs ?? defaultJobs()));
  const parallel = jobs > 1 && inputs.length > 1 && existsSync(WORKER_SCRIPT) && (await worthWorkers(inputs, options.jobs !== undefined));
  const within = keepWithin(range);
  const sources = parallel ? readInParallel(analyzer, inputs, jobs, options) : readInTurn(analyzer, inputs, options);
  for await (const step of sources) {
    if (step.error !== undefined && inputFailed(step.error, options)) {
      yield* within(analyzer.end()); // nothing found so far is lost
      throw step.error;
    }
    yield* within(step.incidents);
  }
  yield* within(options.signal?.aborted ? analyzer.shutdown() : analyzer.end());
}

/** True when the error must end the run: no onInputError to hand it to, and not stopped on request. */
function inputFailed(error: InputError, options: AnalyzeFilesOptions): boolean {
  if (options.signal?.aborted) return false; // stopped on request: not an input error
  if (options.onInputError === undefined) return true;
  options.onInputError(error);
  return false;
}

/** Scans request logs for what the push incidents need, and returns the incidents enriched. */
async function withRequestEvidence(incidents: readonly Incident[], requestLogs: readonly Input[], options: AnalyzeFilesOptions): Promise<Incident[]> {
  const pushes = incidents.filter(isDockerPushIncident).filter((incident) => incident.lifecycle === 'closed');
  if (pushes.length === 0) return [...incidents];
  const scan = new DockerRequestScan(pushes);
  await scanLines(requestLogs, REQUEST_LITERALS, (text, where) => scan.line(text, where), options);
  return incidents.map((incident) => (isDockerPushIncident(incident) && incident.lifecycle === 'closed' ? scan.enrich(incident) : incident));
}

/** outbound-request.log: blob URLs downloaded in full more than once (proxy-conditional-get-ignored). */
async function blobRedownloads(outboundLogs: readonly Input[], options: AnalyzeFilesOptions): Promise<Incident[]> {
  const downloads = new Map<string, BlobDownload[]>();
  await scanLines(
    outboundLogs,
    ['/blobs/sha256:'],
    (text, where) => {
      const record = parseOutboundLine(text);
      if (record === undefined || record.method !== 'GET' || record.status !== 200) return;
      const list = downloads.get(record.url) ?? [];
      list.push({ time: record.time, bytes: record.bytes, thread: record.thread, evidence: { ...where, text } });
      downloads.set(record.url, list);
    },
    options,
  );
  return [...downloads].filter(([, list]) => list.length > 1).map(([url, list]) => redownloadIncident(url, list));
}

/** Reads inputs line by line, handing on only the lines that hold one of the literals. */
async function scanLines(
  inputs: readonly Input[],
  literals: readonly string[],
  onLine: (text: string, where: Omit<Evidence, 'text'>) => void,
  options: AnalyzeFilesOptions,
): Promise<void> {
  const readOptions = options.signal === undefined ? {} : { signal: options.signal };
  for (const input of inputs) {
    options.onInput?.(input.name);
    const splitter = new LineSplitter(
      {
        line: (buf, start, end, line, offset, flags) => {
          if (flags & LINE_HAS_LITERAL) onLine(buf.toString('utf8', start, end), { source: input.name, line, offset });
        },
      },
      { literals, maxLineBytes: options.maxLineBytes ?? DEFAULTS.maxLineBytes },
    );
    try {
      for await (const chunk of readInput(input, readOptions)) splitter.write(chunk);
      splitter.end();
    } catch (error) {
      if (inputFailed(error as InputError, options)) throw error;
    }
  }
}

/** `follow`: one file, read live until the signal aborts; the open groups are then reported. */
async function* followOne(patterns: readonly string[], range: TimeRange, options: AnalyzeFilesOptions): AsyncGenerator<Incident> {
  if (patterns.length !== 1 || patterns[0] === STDIN) {
    throw new InputError(patterns.join(' ') || '(none)', 'follow takes exactly one file or log folder');
  }
  const target = await followTarget(patterns[0] as string);
  options.onInputs?.([target]);
  const analyzer = new Analyzer({ ...options, source: target });
  options.analyzer?.(analyzer);
  options.onInput?.(target);
  const within = keepWithin(range);
  const chunks = followFile(target, {
    ...(options.fromStart === undefined ? {} : { fromStart: options.fromStart }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  for await (const step of readLive(analyzer, chunks, options.liveIdleMs ?? DEFAULTS.liveIdleMs)) yield* within(step.incidents);
  yield* within(options.signal?.aborted ? analyzer.shutdown() : analyzer.end());
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
  return (incidents) => incidents.filter((incident) => inRange(Date.parse(incident.firstSeen), range));
}

function epochOf(time: number | Date | undefined): number | undefined {
  return time instanceof Date ? time.getTime() : time;
}

/** Workers read files only (not pipes), and by default only when two or more are plain text. */
async function worthWorkers(inputs: readonly Input[], forced: boolean): Promise<boolean> {
  if (!inputs.every((input) => input.kind === 'file')) return false;
  if (forced) return true;
  const gzipped = await Promise.all(inputs.map((input) => startsWithGzipMagic(input.name).catch(() => true)));
  return gzipped.filter((isGzip) => !isGzip).length >= 2;
}

/** Incidents closed by a piece of input, or the error that ended an input. */
interface Step {
  incidents: readonly Incident[];
  error?: InputError;
}

async function* readInTurn(analyzer: Analyzer, inputs: readonly Input[], options: AnalyzeFilesOptions): AsyncGenerator<Step> {
  const readOptions = {
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  for (const input of inputs) {
    if (options.signal?.aborted) return;
    options.onInput?.(input.name);
    yield { incidents: analyzer.beginSource(input.name) };
    try {
      const chunks = readInput(input, readOptions);
      if (input.kind === 'file') for await (const chunk of chunks) yield { incidents: analyzer.write(chunk) };
      else yield* readLive(analyzer, chunks, options.liveIdleMs ?? DEFAULTS.liveIdleMs);
    } catch (error) {
      yield { incidents: [], error: error as InputError };
    }
  }
}


/** A stream that may go quiet: between chunks, the analyzer's live clock runs (`Analyzer.advance`). */
async function* readLive(analyzer: Analyzer, chunks: AsyncGenerator<Buffer>, idleMs: number): AsyncGenerator<Step> {
  let next = chunks.next();
  try {
    for (;;) {
      const result = await nextOrIdle(next, idleMs);
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
    void chunks.return(undefined); // a consumer that stopped early: release the stream
  }
}

async function* readInParallel(analyzer: Analyzer, inputs: readonly Input[], jobs: number, options: AnalyzeFilesOptions): AsyncGenerator<Step> {
  const extraction = extractInParallel(inputs, analyzer.extractorOptions(), jobs, options.signal);
  try {
    for (const file of extraction.files) {
      if (options.signal?.aborted) return;
      options.onInput?.(file.input.name);
      yield { incidents: analyzer.beginSource(file.input.name) };
      for await (const records of file.records) yield { incidents: analyzer.ingest(records) };
      const outcome = await file.outcome;
      yield { incidents: analyzer.ingest([], outcome.counters), ...(outcome.error === null ? {} : { error: outcome.error }) };
    }
  } finally {
    extraction.close(); // also when the consumer stops early: idle workers would keep the process alive
  }
}
