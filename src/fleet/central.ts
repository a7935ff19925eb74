/**
 * The central: reads every node's lifecycle records from the stream and merges them by
 * fingerprint into fleet incidents.
 *
 * Live (`runCentral`): a durable pull consumer, shared by every central instance (each record is
 * delivered to one of them), and the merged state in a KV bucket (compare-and-set per
 * fingerprint), so instances running at once neither lose nor double a merge. A record is
 * acknowledged after its merge is written and the fleet incident it changed is output; a record
 * redelivered (an instance died before acknowledging) merges to no change and outputs nothing.
 *
 * Once (`readFleetOnce`): an ordered consumer of its own from the start of the stream to its
 * current end, merged in memory, each fleet incident once. Leaves the durable consumer alone.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { Metrics } from '../outputs/metrics';
import { Backoff, retrying, sleep } from './backoff';
import { FleetMerger, type FleetIncident } from './fleet-merge';
import { FleetStore } from './fleet-store';
import { FLEET_BUCKET, SUBJECT_PREFIX } from './names';
import { DEFAULT_MAX_AGE_MS, ensureStream, errorText, managerOf, type StreamSettings } from './nats';
import { decodeRecord, type FleetRecord } from './record';

export interface CentralOptions {
  nc: NatsConnection;
  stream: StreamSettings;
  /** The durable consumer's name: the same for every instance that shares the work. */
  durable: string;
  signal: AbortSignal;
  /** Writes one changed fleet incident (awaited before the records are acknowledged). */
  output: (incident: FleetIncident) => Promise<void>;
  /** Records fetched at once. Default 256. */
  batch?: number;
  /** How long an unacknowledged record waits before it goes to another instance. Default 30 s. */
  ackWaitMs?: number;
  status?: (level: 'info' | 'warn', message: string) => void;
  onReady?: () => void;
  metrics?: Metrics;
}

export interface CentralResult {
  records: number;
  outputs: number;
  duplicates: number;
  /** The merged state, for the summary and report at the end. */
  store: FleetStore | null;
}

export async function runCentral(options: CentralOptions): Promise<CentralResult> {
  const { nc, signal } = options;
  const status = options.status ?? (() => undefined);
  const result: CentralResult = { records: 0, outputs: 0, duplicates: 0, store: null };
  const js = jetstream(nc);
  const say = (verb: string) => (error: unknown) => status('warn', `cannot ${verb} (${errorText(error)}); retrying with backoff`);
  const setUp = await retrying(
    async () => {
      const jsm = await managerOf(nc);
      await ensureStream(jsm, options.stream);
      await ensureConsumer(jsm, options);
      const kv = await new Kvm(js).create(FLEET_BUCKET, { history: 1, ttl: options.stream.maxAgeMs ?? DEFAULT_MAX_AGE_MS });
      return { consumer: await js.consumers.get(options.stream.name, options.durable), store: new FleetStore(kv) };
    },
    signal,
    { onFailure: say(`set up stream ${options.stream.name}, consumer ${options.durable} and bucket ${FLEET_BUCKET}`), onRecovery: () => status('info', 'NATS reachable again') },
  );
  if (setUp === undefined) return result;
  const { consumer, store } = setUp;
  result.store = store;
  options.onReady?.();

  const backoff = new Backoff();
  let failing = false;
  const batch = Math.max(1, options.batch ?? 256);
  while (!signal.aborted) {
    let messages: JsMsg[] = [];
    try {
      const fetched = await consumer.fetch({ max_messages: batch, expires: 1000 });
      for await (const message of fetched) messages.push(message);
      if (messages.length > 0) {
        await processBatch(messages, store, options, result);
        options.metrics?.fleet.consumerPending((messages[messages.length - 1] as JsMsg).info.pending);
      }
      messages = [];
      if (failing) status('info', 'reading the stream again');
      failing = false;
      backoff.reset();
    } catch (error) {
      options.metrics?.fleet.error();
      if (!failing) status('warn', `cannot read or merge (${errorText(error)}); retrying with backoff (unacknowledged records come back)`);
      failing = true;
      await sleep(backoff.delay(), signal);
    }
  }
  return result;
}

/** The shared durable pull consumer: created by whichever instance comes first, then used as it is. */
async function ensureConsumer(jsm: JetStreamManager, options: CentralOptions): Promise<void> {
  try {
    await jsm.consumers.info(options.stream.name, options.durable);
    return;
  } catch {
    // absent: create it
  }
  try {
    await jsm.consumers.add(options.stream.name, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${SUBJECT_PREFIX}.>`,
      ack_wait: (options.ackWaitMs ?? 30_000) * 1_000_000,
      max_ack_pending: 20_000,
    });
  } catch (error) {
    await jsm.consumers.info(options.stream.name, options.durable).catch(() => Promise.reject(error)); // created meanwhile
  }
}

/** Decodes, merges per fingerprint in stream order, writes what changed, then acknowledges. */
async function processBatch(messages: readonly JsMsg[], store: FleetStore, options: CentralOptions, result: CentralResult): Promise<void> {
  const byFingerprint = new Map<string, FleetRecord[]>();
  for (const message of messages) {
    let record: FleetRecord;
    try {
      record = decodeRecord(message.data);
    } catch (error) {
      options.status?.('warn', `record ${message.seq} on ${message.subject} refused (${errorText(error)}): not merged`);
      options.metrics?.fleet.error();
      message.term();
      continue;
    }
    const list = byFingerprint.get(record.incident.fingerprint);
    if (list === undefined) byFingerprint.set(record.incident.fingerprint, [record]);
    else list.push(record);
    options.metrics?.fleet.record(record.node);
  }
  for (const [fingerprint, records] of byFingerprint) {
    const outcome = await store.merge(fingerprint, records);
    result.records += records.length;
    result.duplicates += outcome.duplicates;
    for (let i = 0; i < outcome.duplicates; i++) options.metrics?.fleet.duplicate();
    for (const record of outcome.applied) options.metrics?.incident(record.incident);
    for (let i = 0; i < outcome.conflicts; i++) options.metrics?.fleet.mergeConflict();
    if (outcome.changed !== null) {
      await options.output(outcome.changed);
      result.outputs++;
      options.metrics?.fleet.output();
    }
  }
  for (const message of messages) message.ack();
}

export interface OnceResult {
  incidents: FleetIncident[];
  records: number;
  duplicates: number;
}

/** Reads the stream from its start to its end as of now and merges it in memory. */
export async function readFleetOnce(nc: NatsConnection, stream: string, signal: AbortSignal): Promise<OnceResult> {
  const jsm = await managerOf(nc);
  const info = await jsm.streams.info(stream);
  const merger = new FleetMerger();
  let records = 0;
  const lastSeq = info.state.last_seq;
  if (info.state.messages === 0) return { incidents: [], records, duplicates: 0 };
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, { filter_subjects: `${SUBJECT_PREFIX}.>`, deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 1000 });
  const stop = (): void => void messages.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const message of messages) {
      try {
        merger.add(decodeRecord(message.data));
        records++;
      } catch {
        // a malformed record: not merged (the live central says so)
      }
      if (message.seq >= lastSeq || message.info.pending === 0) break;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    await messages.close();
  }
  return { incidents: merger.incidents(), records, duplicates: merger.duplicates };
}
