/**
 * Counts closed incidents per fingerprint, so a CI job retrying one broken push 50 times
 * shows `occurrences: 50` on its last incident. Bounded: past `capacity` fingerprints the
 * least recently seen is forgotten (its count starts again if it comes back).
 */
export class RecurrenceCounter {
  private readonly counts = new Map<string, number>();
  private readonly capacity: number;

  constructor(capacity = 10_000) {
    this.capacity = Math.max(1, capacity);
  }

  /** Counts one more closed incident with this fingerprint; returns the count including it. */
  record(fingerprint: string): number {
    const count = (this.counts.get(fingerprint) ?? 0) + 1;
    this.counts.delete(fingerprint); // re-insert: most recently seen goes last
    this.counts.set(fingerprint, count);
    if (this.counts.size > this.capacity) this.counts.delete(this.counts.keys().next().value as string);
    return count;
  }

  /** The counts, least recently seen first, as plain JSON. */
  state(): Array<[string, number]> {
    return [...this.counts];
  }

  restoreState(entries: ReadonlyArray<[string, number]>): void {
    this.counts.clear();
    for (const [fingerprint, count] of entries) this.counts.set(fingerprint, count);
  }

  /** What `record` would return, without counting. */
  peek(fingerprint: string): number {
    return (this.counts.get(fingerprint) ?? 0) + 1;
  }
}
