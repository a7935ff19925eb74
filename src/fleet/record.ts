/**
 * What goes over the network: one lifecycle record of one incident, with the node it comes
 * from and the node's record sequence (1, 2, 3...: a gap or a repeat is visible downstream).
 */
import type { Incident } from '../incidents/incident';
import { checkNodeName } from './names';

export interface FleetRecord {
  /** Envelope version. */
  v: 1;
  node: string;
  /** The node's record number, from 1, kept across restarts by the checkpoint. */
  seq: number;
  incident: Incident;
}

export function encodeRecord(record: FleetRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** Parses and checks a record; throws a message naming what is wrong (the consumer terminates such a message). */
export function decodeRecord(data: Uint8Array): FleetRecord {
  const value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Partial<FleetRecord>;
  if (value === null || typeof value !== 'object' || value.v !== 1) throw new Error('not a fleet record (v must be 1)');
  if (typeof value.node !== 'string') throw new Error('fleet record without node');
  checkNodeName(value.node);
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 1) throw new Error('fleet record without a positive seq');
  const incident = value.incident;
  if (incident === null || typeof incident !== 'object') throw new Error('fleet record without incident');
  for (const field of ['id', 'fingerprint', 'rule', 'lifecycle'] as const) {
    if (typeof incident[field] !== 'string') throw new Error(`fleet record incident without ${field}`);
  }
  if (typeof incident.revision !== 'number' || typeof incident.count !== 'number') throw new Error('fleet record incident without revision or count');
  return value as FleetRecord;
}
