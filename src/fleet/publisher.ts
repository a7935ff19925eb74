/**
 * Publishes lifecycle records to the stream, each with its message id (the server drops a
 * republished one), a window of them in flight at once, and tells which were acknowledged.
 */
import { headers } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { messageId, nodeSubject } from './names';
import { decodeRecord, encodeRecord, type FleetRecord } from './record';

export interface PublishOutcome {
  /** Seqs of the records the server acknowledged (stored now, or found to be duplicates). */
  acked: Set<number>;
  /** How many of those it had already (republished after a crash or a lost acknowledgement). */
  duplicates: number;
  /** The first failure, when not every record was acknowledged. */
  error: unknown;
}

export interface PublisherOptions {
  /** Records awaiting their acknowledgement at once. Default 256. */
  inFlight?: number;
  /** Wait for one acknowledgement. Default 5 s. */
  timeoutMs?: number;
}

export class RecordPublisher {
  private readonly inFlight: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    options: PublisherOptions = {},
  ) {
    this.inFlight = Math.max(1, options.inFlight ?? 256);
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Publishes in order; stops sending after a failure (the rest waits for the next try). */
  async publish(records: readonly FleetRecord[]): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { acked: new Set(), duplicates: 0, error: undefined };
    const waiting = new Set<Promise<void>>();
    for (const record of records) {
      if (outcome.error !== undefined) break;
      if (waiting.size >= this.inFlight) await Promise.race(waiting);
      if (outcome.error !== undefined) break;
      const h = headers();
      h.set('Nexus-Node', record.node);
      h.set('Nexus-Seq', String(record.seq));
      const sent: Promise<void> = this.js
        .publish(nodeSubject(record.node), encodeRecord(record), { msgID: messageId(record.node, record.incident), headers: h, timeout: this.timeoutMs })
        .then(
          (ack) => {
            outcome.acked.add(record.seq);
            if (ack.duplicate) outcome.duplicates++;
          },
          (error: unknown) => {
            outcome.error ??= error;
          },
        )
        .finally(() => waiting.delete(sent));
      waiting.add(sent);
    }
    await Promise.all(waiting);
    return outcome;
  }

  /** The seq of the last record of `node` the stream holds, 0 when none (a new node, or retention removed them). */
  async lastSeq(node: string): Promise<number> {
    const last = await this.jsm.streams.getMessage(this.stream, { last_by_subj: nodeSubject(node) });
    if (last === null) return 0;
    try {
      return decodeRecord(last.data).seq;
    } catch {
      return 0; // not ours: rely on the server's duplicate window
    }
  }
}
