import { createHash } from 'node:crypto';

/** 16 hex characters of SHA-256 over the parts: stable across runs, chunkings and machines. */
export function stableHash(parts: ReadonlyArray<string | number | null>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part === null ? '\u0000null' : String(part));
    hash.update('\u001f');
  }
  return hash.digest('hex').slice(0, 16);
}
