/**
 * The edge: follows one node's nexus.log, analyzes it here (lifecycle records on), and
 * publishes every record to JetStream exactly once, with a checkpoint that survives kill -9.
 *
 * The protocol (docs/fleet.md, "Exactly once"): records are produced by steps (a chunk read,
 * a tick of the live clock). A commit takes the analyzer's snapshot and every record produced
 * and not yet acknowledged, saves them together as the checkpoint, and only then publishes those
 * records. So anything that may have reached the server is in a saved checkpoint; a restart
 * restores it, republishes its records byte for byte (the server drops the ids it has; records
 * at or below the node's last seq in the stream are not even sent), and reads on from its
 * offset. Steps after the last checkpoint were never published: they are produced again, and
 * their records may differ (the live clock is wall time), which is fine since nobody saw them.
 *
 * Backpressure: records wait in memory until acknowledged. While NATS is unreachable, commits
 * fail and are retried with backoff; reading goes on until `maxBacklog` records wait, then
 * stops (the log file is the buffer) until they are through.
 */
import { promises as fs } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Analyzer, DEFAULTS, type AnalyzerOptions } from '../analyzer';
import type { Incident } from '../incidents/incident';
import type { Metrics } from '../outputs/metrics';
import { followFile, type FollowWarning } from '../source/follow-file';
import { IDLE, nextOrIdle } from '../source/live-clock';
import { Backoff, retrying, sleep } from './backoff';
import type { CheckpointStore, EdgeCheckpoint, FilePosition } from './checkpoint';
import { KvCheckpointStore } from './checkpoint-kv';
import { CHECKPOINT_BUCKET } from './names';
import { ensureStream, errorText, managerOf, type StreamSettings } from './nats';
import { RecordPublisher } from './publisher';
import type { FleetRecord } from './record';

export interface EdgeOptions {
  /** The file followed (a folder's nexus.log is resolved by the caller). */
  path: string;
  node: string;
  nc: NatsConnection;
  stream: StreamSettings;
  /** Default: the KV bucket NEXUS_EDGE_CHECKPOINTS, key = node. */
  store?: CheckpointStore;
  /** Window, rules... as the analyzer takes them; `lifecycle` is always on. */
  analyzer?: AnalyzerOptions;
  /** Without a checkpoint: read the file from its start instead of its end. */
  fromStart?: boolean;
  signal: AbortSignal;
  /** Records waiting for their acknowledgement before reading stops. Default 10,000. */
  maxBacklog?: number;
  /** How long a record may wait to be batched with the next ones before it is published. Default 50 ms. */
  commitMs?: number;
  /** How often the position is saved while nothing is published. Default 1,000 ms. */
  checkpointMs?: number;
  /** Time given to the last commit after a stop. Default 5,000 ms. */
  stopGraceMs?: number;
  backoff?: Backoff;
  /** Messages for the operator (stderr). */
  status?: (level: 'info' | 'warn', message: string) => void;
  onWarning?: (warning: FollowWarning) => void;
  /** Called once the checkpoint is restored and the file is open (or waited for). */
  onReady?: (info: { resumed: boolean; position: number | null; republished: number }) => void;
  metrics?: Metrics;
}

export interface EdgeResult {
  /** Records produced by this run. */
  produced: number;
  /** Records acknowledged by this run (republished ones included). */
  published: number;
  /** Records still waiting when it stopped (they are in the last checkpoint saved, or produced again on restart). */
  waiting: number;
}

export async function runEdge(options: EdgeOptions): Promise<EdgeResult> {
  const status = options.status ?? (() => undefined);
  const { signal, nc, node } = options;
  const js = jetstream(nc);
  const jsm = await managerOf(nc);
  const publisher = new RecordPublisher(js, jsm, options.stream.name);
  const say = (verb: string) => (error: unknown) => status('warn', `cannot ${verb} (${errorText(error)}); retrying with backoff`);
  const back = () => status('info', 'NATS reachable again');

  if ((await retrying(() => ensureStream(jsm, options.stream), signal, { onFailure: say(`create or find stream ${options.stream.name}`), onRecovery: back })) === undefined) {
    return { produced: 0, published: 0, waiting: 0 };
  }
  const store =
    options.store ??
    (await retrying(async () => new KvCheckpointStore(await new Kvm(js).create(CHECKPOINT_BUCKET, { history: 1 }), node, nc.info?.max_payload ?? 1024 * 1024), signal, {
      onFailure: say(`open the checkpoint bucket ${CHECKPOINT_BUCKET}`),
      onRecovery: back,
    }));
  if (store === undefined) return { produced: 0, published: 0, waiting: 0 };
  const loaded = await retrying(() => store.load(), signal, { onFailure: say(`load the checkpoint (${store.where})`), onRecovery: back });
  if (signal.aborted) return { produced: 0, published: 0, waiting: 0 };
  const edge = new Edge(options, store, publisher, loaded ?? null, status);
  return edge.run();
}

class Edge {
  private readonly analyzer: Analyzer;
  private pending: FleetRecord[];
  private nextSeq: number;
  private readonly file: FilePosition;
  private readonly maxBacklog: number;
  private readonly commitMs: number;
  private readonly checkpointMs: number;
  private produced = 0;
  private published = 0;
  /** Offset and nextSeq of the last checkpoint saved: nothing new means no save. */
  private savedOffset = -1;
  private savedSeq = -1;
  private lastSave = 0;
  private firstWaitingAt = Number.POSITIVE_INFINITY;
  private stopping = false;
  /** The reader is at the end of the log: records go out after `commitMs`; while it reads on, they are batched (a commit costs a snapshot). */
  private caughtUp = false;
  private wake: (() => void) | null = null;
  /** Resolved once the file is open at its start position: no checkpoint before (it would hold offset 0). */
  private opened: () => void = () => undefined;
  private readonly ready = new Promise<void>((resolve) => {
    this.opened = resolve;
  });
  private drained: (() => void) | null = null;

  constructor(
    private readonly options: EdgeOptions,
    private readonly store: CheckpointStore,
    private readonly publisher: RecordPublisher,
    private readonly checkpoint: EdgeCheckpoint | null,
    private readonly status: (level: 'info' | 'warn', message: string) => void,
  ) {
    const analyzerOptions: AnalyzerOptions = { ...options.analyzer, lifecycle: true };
    if (checkpoint === null) {
      this.analyzer = new Analyzer({ ...analyzerOptions, source: options.path });
      this.pending = [];
      this.nextSeq = 1;
      this.file = { path: options.path, dev: null, ino: null, offset: 0 };
    } else {
      this.analyzer = Analyzer.restore(checkpoint.analyzer, analyzerOptions);
      this.pending = checkpoint.pending;
      this.nextSeq = checkpoint.nextSeq;
      this.file = { ...checkpoint.file, path: options.path };
      this.savedOffset = checkpoint.file.offset;
      this.savedSeq = checkpoint.nextSeq;
    }
    this.maxBacklog = Math.max(1, options.maxBacklog ?? 10_000);
    this.commitMs = options.commitMs ?? 50;
    this.checkpointMs = options.checkpointMs ?? 1000;
    options.metrics?.watchAnalyzer(() => this.analyzer);
  }

  async run(): Promise<EdgeResult> {
    const { signal } = this.options;
    let republished = 0;
    if (this.pending.length > 0) {
      // Records of the last checkpoint the stream already holds are not sent again at all:
      // the server's duplicate window covers the rest, however long the edge was down.
      const last = await retrying(() => this.publisher.lastSeq(this.options.node), signal, {
        onFailure: (error) => this.status('warn', `cannot read the stream (${errorText(error)}); retrying with backoff`),
      });
      if (last === undefined) return this.result();
      this.pending = this.pending.filter((record) => record.seq > last);
      republished = this.pending.length;
      if (republished > 0) this.firstWaitingAt = Date.now();
    }
    this.options.metrics?.publish.backlog(this.pending.length);
    const start = await this.startPosition();
    signal.addEventListener('abort', () => this.opened(), { once: true });
    const committing = this.ready.then(() => this.commitLoop());
    try {
      await this.readLoop(start, republished);
    } finally {
      this.stopping = true;
      this.poke();
      await committing;
    }
    return this.result();
  }

  private result(): EdgeResult {
    return { produced: this.produced, published: this.published, waiting: this.pending.length };
  }

  /** Where to read on: the checkpoint's offset in the same file; the start of a file that replaced it. */
  private async startPosition(): Promise<{ position?: number; fromStart?: boolean }> {
    if (this.checkpoint === null) return this.options.fromStart === true ? { fromStart: true } : {};
    const saved = this.checkpoint.file;
    let stats: { dev: number; ino: number; size: number };
    try {
      stats = await fs.stat(this.options.path);
    } catch {
      return { fromStart: true }; // not there now: whatever appears is read from its start
    }
    if (saved.ino !== null && (stats.ino !== saved.ino || stats.dev !== saved.dev)) {
      this.status('warn', `${this.options.path} was replaced since the checkpoint (rotated): reading the new file from its start; lines written to the old one after the checkpoint are not read`);
      this.file.offset = 0;
      return { position: 0 };
    }
    if (stats.size < saved.offset) {
      this.status('warn', `${this.options.path} is shorter than the checkpoint's offset (truncated): reading it from its start`);
      this.file.offset = 0;
      return { position: 0 };
    }
    return { position: saved.offset };
  }

  private async readLoop(start: { position?: number; fromStart?: boolean }, republished: number): Promise<void> {
    const { signal } = this.options;
    const idleMs = this.options.analyzer?.liveIdleMs ?? DEFAULTS.liveIdleMs;
    const chunks = followFile(this.options.path, {
      ...start,
      signal,
      ...(this.options.onWarning === undefined ? {} : { onWarning: this.options.onWarning }),
      onReady: (ready) => {
        this.file.offset = ready.position ?? 0;
        void this.identify().then(() => {
          this.opened();
          this.options.onReady?.({ resumed: this.checkpoint !== null, position: ready.position, republished });
        });
      },
    });
    let next = chunks.next();
    try {
      while (!signal.aborted) {
        if (this.pending.length >= this.maxBacklog) {
          await this.waitForRoom();
          continue;
        }
        const result = await nextOrIdle(next, idleMs);
        if (result === IDLE) {
          if (!this.caughtUp) {
            this.caughtUp = true;
            this.poke();
          }
          this.produce(this.analyzer.advance(Date.now()));
          continue;
        }
        if (result.done === true) break;
        const chunk = result.value;
        this.caughtUp = false;
        this.produce(this.analyzer.write(chunk));
        this.analyzer.dataArrived(Date.now());
        this.file.offset += chunk.length;
        next = chunks.next();
      }
    } finally {
      void chunks.return(undefined).catch(() => undefined);
    }
  }

  /** The identity of the file the offset counts in (taken once it is open). */
  private async identify(): Promise<void> {
    try {
      const stats = await fs.stat(this.options.path);
      this.file.dev = stats.dev;
      this.file.ino = stats.ino;
    } catch {
      this.file.dev = null;
      this.file.ino = null;
    }
  }

  private produce(incidents: readonly Incident[]): void {
    if (incidents.length === 0) return;
    if (this.pending.length === 0) this.firstWaitingAt = Date.now();
    for (const incident of incidents) {
      this.pending.push({ v: 1, node: this.options.node, seq: this.nextSeq++, incident });
      this.options.metrics?.incident(incident);
    }
    this.produced += incidents.length;
    this.options.metrics?.publish.backlog(this.pending.length);
    this.poke();
  }

  private poke(): void {
    this.wake?.();
  }

  /** Reading stops here while the backlog is full (the log file is the buffer). */
  private async waitForRoom(): Promise<void> {
    this.options.metrics?.publish.readingPaused(true);
    this.status('warn', `${this.pending.length} records wait to be published: reading stops until they are through`);
    while (this.pending.length >= this.maxBacklog && !this.options.signal.aborted) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        this.options.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    this.drained = null;
    this.options.metrics?.publish.readingPaused(false);
    if (!this.options.signal.aborted) this.status('info', 'reading again');
  }

  /** Commits one at a time, when records wait (batched for `commitMs`) or the position moved (every `checkpointMs`). */
  private async commitLoop(): Promise<void> {
    const backoff = this.options.backoff ?? new Backoff();
    let failing = false;
    let stopDeadline = Number.POSITIVE_INFINITY;
    for (;;) {
      const stopping = this.stopping || this.options.signal.aborted;
      if (stopping && stopDeadline === Number.POSITIVE_INFINITY) stopDeadline = Date.now() + (this.options.stopGraceMs ?? 5000);
      const wait = this.dueIn();
      if (wait === null) {
        if (this.stopping) return;
        await this.sleepUntilPoked(stopping ? 10 : this.checkpointMs);
        continue;
      }
      if (wait > 0 && !stopping) {
        await this.sleepUntilPoked(wait);
        continue;
      }
      try {
        await this.commit();
        if (failing) this.status('info', `NATS reachable again: ${this.published} records published in all, ${this.pending.length} waiting`);
        failing = false;
        backoff.reset();
      } catch (error) {
        this.options.metrics?.publish.publishError();
        if (!failing) {
          this.status('warn', `cannot publish (${errorText(error)}): ${this.pending.length} records wait; retrying with backoff, reading stops at ${this.maxBacklog}`);
        }
        failing = true;
        if (stopping && Date.now() >= stopDeadline) {
          this.status('warn', `stopped with ${this.pending.length} records unpublished: the next start publishes them`);
          return;
        }
        // Once stopping, the abort no longer cuts the wait short: the grace period paces the last tries.
        await sleep(Math.min(backoff.delay(), Math.max(0, stopDeadline - Date.now())), stopping ? undefined : this.options.signal);
      }
    }
  }

  /** ms until a commit is due (0: now), or null when there is nothing to commit. */
  private dueIn(): number | null {
    const now = Date.now();
    if (this.pending.length > 0) {
      // Catching up (a backlog of log, or a storm): one commit per second or per 1,000 records.
      const delay = this.caughtUp || this.pending.length >= 1000 ? this.commitMs : Math.max(this.commitMs, this.checkpointMs);
      return Math.max(0, this.firstWaitingAt + delay - now);
    }
    if (this.file.offset !== this.savedOffset || this.nextSeq !== this.savedSeq) return Math.max(0, this.lastSave + this.checkpointMs - now);
    return null;
  }

  private sleepUntilPoked(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Save (snapshot + waiting records), then publish those records: the write-ahead order that makes a restart exact. */
  private async commit(): Promise<void> {
    const batch = this.pending.slice();
    const checkpoint: EdgeCheckpoint = {
      version: 1,
      node: this.options.node,
      file: { ...this.file },
      analyzer: this.analyzer.snapshot(),
      pending: batch,
      nextSeq: this.nextSeq,
      savedAt: new Date().toISOString(),
    };
    await this.store.save(checkpoint);
    this.lastSave = Date.now();
    this.savedOffset = checkpoint.file.offset;
    this.savedSeq = checkpoint.nextSeq;
    this.options.metrics?.publish.checkpointSaved();
    if (batch.length === 0) return;
    const outcome = await this.publisher.publish(batch);
    if (outcome.acked.size > 0) {
      this.pending = this.pending.filter((record) => !outcome.acked.has(record.seq));
      this.published += outcome.acked.size;
      this.options.metrics?.publish.published(outcome.acked.size, outcome.duplicates);
      this.options.metrics?.publish.backlog(this.pending.length);
      this.firstWaitingAt = this.pending.length > 0 ? Date.now() : Number.POSITIVE_INFINITY;
      if (this.pending.length < this.maxBacklog) this.drained?.();
    }
    if (outcome.error !== undefined) throw outcome.error;
  }
}
