/**
 * The central's merged state in a KV bucket, one key per fingerprint, shared by every central
 * instance: each merge is a compare-and-set on the key's revision, redone on a conflict, so two
 * instances merging records of the same failure at once both count. A local cache of what this
 * instance wrote last saves the read in the common case (one instance, or instances that see
 * different failures).
 */
import type { KV } from '@nats-io/kv';
import { fleetIncident, mergeRecord, type FleetIncident, type FleetState } from './fleet-merge';
import { isWrongLastSequence } from './nats';
import type { FleetRecord } from './record';

/** Conflicts tolerated on one key before the batch is given up (and redelivered later). */
const MAX_TRIES = 50;
const CACHE_SIZE = 10_000;

export interface MergeOutcome {
  /** The fleet incident after the records, when they changed it. */
  changed: FleetIncident | null;
  /** The records that changed the state (the others were merged already, by this or another instance). */
  applied: FleetRecord[];
  duplicates: number;
  /** Times the key was written by another instance in between. */
  conflicts: number;
}

export class FleetStore {
  private readonly cache = new Map<string, { state: FleetState; revision: number }>();

  constructor(private readonly kv: KV) {}

  /** Merges records of one fingerprint (in stream order) and writes the result. */
  async merge(fingerprint: string, records: readonly FleetRecord[]): Promise<MergeOutcome> {
    let conflicts = 0;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const current = this.cache.get(fingerprint) ?? (await this.read(fingerprint));
      let state = current?.state ?? null;
      const applied: FleetRecord[] = [];
      for (const record of records) {
        const next = mergeRecord(state, record);
        if (next === null) continue;
        state = next;
        applied.push(record);
      }
      const duplicates = records.length - applied.length;
      if (state === null || state === current?.state) return { changed: null, applied, duplicates, conflicts };
      try {
        const value = JSON.stringify(state);
        const revision = current === null ? await this.kv.create(fingerprint, value) : await this.kv.update(fingerprint, value, current.revision);
        this.remember(fingerprint, state, revision);
        return { changed: fleetIncident(state), applied, duplicates, conflicts };
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
        conflicts++;
        this.cache.delete(fingerprint); // another instance wrote it: read it again
      }
    }
    throw new Error(`fleet incident ${fingerprint}: still written by other instances after ${MAX_TRIES} tries`);
  }

  /** Every fleet incident in the bucket (the summary and report at the end of a live run). */
  async all(): Promise<FleetIncident[]> {
    const out: FleetIncident[] = [];
    for await (const key of await this.kv.keys()) {
      const entry = await this.read(key);
      if (entry !== null) out.push(fleetIncident(entry.state));
    }
    return out.sort((a, b) => (a.firstSeen ?? '').localeCompare(b.firstSeen ?? '') || a.id.localeCompare(b.id));
  }

  private async read(fingerprint: string): Promise<{ state: FleetState; revision: number } | null> {
    const entry = await this.kv.get(fingerprint);
    if (entry === null || entry.operation !== 'PUT') return null;
    return { state: entry.json<FleetState>(), revision: entry.revision };
  }

  private remember(fingerprint: string, state: FleetState, revision: number): void {
    this.cache.delete(fingerprint);
    this.cache.set(fingerprint, { state, revision });
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
  }
}
