/**
 * 16 hex characters identifying a list of parts: stable across runs, chunkings and machines.
 * Two 32-bit FNV-1a hashes with different seeds over the parts' UTF-16 code units (with a
 * separator between parts, and a marker for null). Not cryptographic: ids and fingerprints only
 * need to be stable and rarely collide, and this runs for every incident (SHA-256 cost ~8 % of
 * a storm's time, docs/performance.md).
 */
export function stableHash(parts: ReadonlyArray<string | number | null>): string {
  let a = 0x811c9dc5;
  let b = 0x9dc5811c;
  const mix = (code: number): void => {
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193) ^ (b >>> 15);
  };
  for (const part of parts) {
    if (part === null) mix(0);
    else {
      const text = typeof part === 'number' ? String(part) : part;
      for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i));
    }
    mix(0x1f);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** A 32-bit hash of a string (FNV-1a), for bounded memories of recent values. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
