/**
 * The edge's checkpoint in a JetStream KV bucket, keyed by node. Stored gzipped; one that does
 * not fit in a message (the analyzer's open state may reach tens of MB in a storm) is split
 * over part keys of a new generation, and the node's key, written last, names them: a crash
 * half way leaves the previous checkpoint in force, and the orphan parts are removed later.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KV } from '@nats-io/kv';
import { checkCheckpoint, type CheckpointStore, type EdgeCheckpoint } from './checkpoint';
import { CHECKPOINT_BUCKET } from './names';

interface Manifest {
  parts: number;
  generation: string;
}

/** Room left in a message for subject and headers. */
const ENVELOPE_BYTES = 4096;

export class KvCheckpointStore implements CheckpointStore {
  readonly where: string;
  private generation = 0;
  /** Parts of an earlier run or a crashed save may be there: looked for once. */
  private partsMayExist = true;

  /** `maxPayload`: the server's message limit (the connection's `info.max_payload`). */
  constructor(
    private readonly kv: KV,
    private readonly node: string,
    private readonly maxPayload: number,
  ) {
    this.where = `kv ${CHECKPOINT_BUCKET}/${node}`;
  }

  async load(): Promise<EdgeCheckpoint | null> {
    const entry = await this.kv.get(this.node);
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return null;
    let zipped: Buffer;
    if (isGzip(entry.value)) zipped = Buffer.from(entry.value);
    else {
      const manifest = JSON.parse(Buffer.from(entry.value).toString('utf8')) as Manifest;
      const parts: Buffer[] = [];
      for (let i = 0; i < manifest.parts; i++) {
        const part = await this.kv.get(this.partKey(manifest.generation, i));
        if (part === null || part.operation !== 'PUT') throw new Error(`checkpoint ${this.where}: part ${i} of generation ${manifest.generation} is missing`);
        parts.push(Buffer.from(part.value));
      }
      zipped = Buffer.concat(parts);
    }
    return checkCheckpoint(JSON.parse(gunzipSync(zipped).toString('utf8')), this.node);
  }

  async save(checkpoint: EdgeCheckpoint): Promise<void> {
    // Level 1: checkpoints are written often; JSON of incidents still shrinks several times.
    const zipped = gzipSync(JSON.stringify(checkpoint), { level: 1 });
    const room = Math.max(1024, this.maxPayload - ENVELOPE_BYTES);
    if (zipped.length <= room) {
      await this.kv.put(this.node, zipped);
      if (this.partsMayExist) {
        await this.removeParts(null);
        this.partsMayExist = false;
      }
      return;
    }
    const generation = `${Date.now().toString(36)}${(++this.generation).toString(36)}`;
    const count = Math.ceil(zipped.length / room);
    for (let i = 0; i < count; i++) await this.kv.put(this.partKey(generation, i), zipped.subarray(i * room, (i + 1) * room));
    const manifest: Manifest = { parts: count, generation };
    await this.kv.put(this.node, JSON.stringify(manifest)); // the commit point
    this.partsMayExist = true;
    await this.removeParts(generation);
  }

  private partKey(generation: string, index: number): string {
    return `${this.node}.part.${generation}.${index}`;
  }

  /** Removes the part keys of other generations than `keep` (older checkpoints, crashed saves). */
  private async removeParts(keep: string | null): Promise<void> {
    const stale: string[] = [];
    for await (const key of await this.kv.keys(`${this.node}.part.>`)) {
      if (keep === null || !key.startsWith(`${this.node}.part.${keep}.`)) stale.push(key);
    }
    for (const key of stale) await this.kv.purge(key);
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
