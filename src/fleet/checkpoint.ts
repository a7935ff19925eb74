/**
 * The edge's checkpoint: where reading goes on, the analyzer's open state, and the records of
 * the steps it covers that may not be acknowledged yet. Saved before those records are
 * published (write-ahead), so whatever reached the server is in a saved checkpoint and a restart
 * republishes exactly those bytes (docs/fleet.md, "Exactly once").
 */
import type { AnalyzerSnapshot } from '../analyzer';
import type { FleetRecord } from './record';

export interface FilePosition {
  path: string;
  /** Identity of the file at `path` that `offset` counts in; null when it was not there yet. */
  dev: number | null;
  ino: number | null;
  /** Bytes of that file read: reading goes on from here. */
  offset: number;
}

export interface EdgeCheckpoint {
  version: 1;
  node: string;
  file: FilePosition;
  analyzer: AnalyzerSnapshot;
  /** Records produced up to this checkpoint and possibly not acknowledged: published again first on restart. */
  pending: FleetRecord[];
  /** The seq of the next record produced after this checkpoint. */
  nextSeq: number;
  savedAt: string;
}

/** Where checkpoints live: a JetStream KV bucket (default) or a local file. */
export interface CheckpointStore {
  /** For messages: `kv NEXUS_EDGE_CHECKPOINTS/node-1`, `file /var/lib/...`. */
  readonly where: string;
  load(): Promise<EdgeCheckpoint | null>;
  /** Durable when it resolves (the server acknowledged it, or the file was synced and renamed). */
  save(checkpoint: EdgeCheckpoint): Promise<void>;
}

/** Refuses a checkpoint that is not one (a wrong file, another tool's key) with the field at fault. */
export function checkCheckpoint(value: unknown, node: string): EdgeCheckpoint {
  const c = value as Partial<EdgeCheckpoint> | null;
  if (c === null || typeof c !== 'object' || c.version !== 1) throw new Error('checkpoint: not an edge checkpoint (version must be 1)');
  if (c.node !== node) throw new Error(`checkpoint: it belongs to node '${String(c.node)}', not '${node}'`);
  if (c.file === undefined || typeof c.file.offset !== 'number' || c.file.offset < 0) throw new Error('checkpoint.file.offset: missing or negative');
  if (!Array.isArray(c.pending)) throw new Error('checkpoint.pending: not a list');
  if (!Number.isSafeInteger(c.nextSeq) || (c.nextSeq as number) < 1) throw new Error('checkpoint.nextSeq: not a positive integer');
  if (c.analyzer === undefined || c.analyzer === null) throw new Error('checkpoint.analyzer: missing');
  return c as EdgeCheckpoint;
}
