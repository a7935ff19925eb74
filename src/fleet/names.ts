/**
 * The names the edge and the central agree on: stream, subjects, buckets, consumer, and the
 * message id of a lifecycle record. One place, so the two sides cannot drift.
 */
import { hostname } from 'node:os';
import type { Incident } from '../incidents/incident';

export const DEFAULT_STREAM = 'NEXUS_INCIDENTS';
export const SUBJECT_PREFIX = 'nexus.incidents';
/** Edge checkpoints, one key per node (large ones split over part keys). */
export const CHECKPOINT_BUCKET = 'NEXUS_EDGE_CHECKPOINTS';
/** The central's merged state, one key per fingerprint, shared by every central instance. */
export const FLEET_BUCKET = 'NEXUS_FLEET';
/** The durable consumer every central instance pulls from (each record goes to one of them). */
export const DEFAULT_DURABLE = 'nexus-fleet';

/** A node name is a subject token and a KV key: letters, digits, `_` and `-`. */
const NODE = /^[A-Za-z0-9_-]{1,64}$/;

export function checkNodeName(name: string): string {
  if (!NODE.test(name)) throw new RangeError(`node name '${name}' must be 1-64 letters, digits, '_' or '-' (it is a NATS subject token and a KV key)`);
  return name;
}

/** The default node name: this host's name, made a valid token (`nexus-1.example.com` -> `nexus-1_example_com`). */
export function defaultNodeName(): string {
  const name = hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return name === '' ? 'node' : name;
}

export function nodeSubject(node: string): string {
  return `${SUBJECT_PREFIX}.${node}`;
}

export function nodeOfSubject(subject: string): string | null {
  return subject.startsWith(`${SUBJECT_PREFIX}.`) ? subject.slice(SUBJECT_PREFIX.length + 1) : null;
}

/**
 * The message id the server deduplicates on: node, incident id, revision and lifecycle. The
 * same record published twice (a republish after a crash) has the same id; two records of one
 * incident never do (revision grows; a close caused by its last line shares that line's
 * revision with no other record, and the lifecycle letter keeps them apart anyway). The node
 * keeps two nodes with identical log lines apart.
 */
export function messageId(node: string, incident: Pick<Incident, 'id' | 'revision' | 'lifecycle'>): string {
  return `${node}.${incident.id}.${incident.revision}.${incident.lifecycle}`;
}
