/**
 * Rule `blobstore-missing-blob`: blobs the database refers to are not in their blob store.
 * A blob store that lost files logs a line for every request that touches one, so this is a
 * storm rule: one incident per blob store while reads keep failing, with the count, the rate and
 * the distinct blobs (the first few and how many).
 *
 *   Blob default@<id> exists in metadata, but is missing from the blobstore          (MissingBlobException, 3.22+; also in stack traces)
 *   FileBlobStore - Can't open input stream to blob <id> as file <path> not found
 *   FileBlobStore - Attempt to access non-existent blob attributes file <path>.properties for blob <id>
 *   FileBlobStore / S3BlobStore - Attempt to access non-existent blob <id> (<path or attributes>)
 *   S3BlobStore - Unable to load S3BlobAttributes for blob id: <id>
 *   <format>ProxyFacet - Unable to find blob default@<id> for <path>, will check remote
 */
import type { AnyEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { howOften, listOf, plural } from './wording';

const IN_METADATA = ' exists in metadata, but is missing from the blobstore';
const INPUT_STREAM = "Can't open input stream to blob ";
const NON_EXISTENT = 'Attempt to access non-existent blob ';
const S3_ATTRIBUTES = 'Unable to load S3BlobAttributes for blob id: ';
const UNABLE_TO_FIND = 'Unable to find blob ';

interface Signal {
  store: string | null;
  blob: string;
  path: string | null;
}

interface State {
  store: string | null;
  /** A file or object path seen, for the explanation. */
  examplePath: string | null;
  /** S3 or file, when the logger said. */
  backend: 'file' | 's3' | null;
}

/** The next token (up to a space, `)` or `,`) from `at`. */
function tokenAt(text: string, at: number): string {
  let end = at;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code === 0x20 || code === 0x29 || code === 0x2c) break;
    end++;
  }
  return text.slice(at, end);
}

/** `/nexus-data/blobs/<store>/content/...` (or with backslashes): the store. */
export function storeOfPath(path: string): string | null {
  const normalized = path.replace(/\\/g, '/');
  const at = normalized.indexOf('/blobs/');
  if (at === -1) return null;
  const end = normalized.indexOf('/', at + 7);
  return end === -1 ? null : normalized.slice(at + 7, end) || null;
}

/** `default@<id>` -> [store, id]; a bare id -> [null, id]. */
function splitBlobRef(ref: string): [string | null, string] {
  const at = ref.indexOf('@');
  return at <= 0 ? [null, ref] : [ref.slice(0, at), ref.slice(at + 1)];
}

/** The missing blob a line (message or exception line) names, if any. */
export function parseMissingBlob(text: string): Signal | undefined {
  const inMetadata = text.indexOf(IN_METADATA);
  if (inMetadata !== -1) {
    const blobAt = text.lastIndexOf('Blob ', inMetadata);
    if (blobAt === -1) return undefined;
    const [store, blob] = splitBlobRef(text.slice(blobAt + 5, inMetadata));
    return { store, blob, path: null };
  }
  let at = text.indexOf(INPUT_STREAM);
  if (at !== -1) {
    const [store, blob] = splitBlobRef(tokenAt(text, at + INPUT_STREAM.length));
    const fileAt = text.indexOf(' as file ', at);
    const path = fileAt === -1 ? null : tokenAt(text, fileAt + 9);
    return { store: store ?? (path === null ? null : storeOfPath(path)), blob, path };
  }
  at = text.indexOf(NON_EXISTENT);
  if (at !== -1) {
    const rest = at + NON_EXISTENT.length;
    if (text.startsWith('attributes file ', rest)) {
      const path = tokenAt(text, rest + 16);
      const forAt = text.indexOf(' for blob ', rest);
      const [store, blob] = splitBlobRef(forAt === -1 ? '' : tokenAt(text, forAt + 10));
      return blob === '' ? undefined : { store: store ?? storeOfPath(path), blob, path };
    }
    const [store, blob] = splitBlobRef(tokenAt(text, rest));
    const open = text.indexOf('(', rest);
    const path = open === -1 ? null : tokenAt(text, open + 1);
    return blob === '' ? undefined : { store: store ?? (path === null ? null : storeOfPath(path)), blob, path };
  }
  at = text.indexOf(S3_ATTRIBUTES);
  if (at !== -1) {
    const [store, blob] = splitBlobRef(tokenAt(text, at + S3_ATTRIBUTES.length));
    return blob === '' ? undefined : { store, blob, path: null };
  }
  at = text.indexOf(UNABLE_TO_FIND);
  if (at !== -1 && text.includes(', will check remote', at)) {
    const [store, blob] = splitBlobRef(tokenAt(text, at + UNABLE_TO_FIND.length));
    return blob === '' ? undefined : { store, blob, path: null };
  }
  return undefined;
}

function backendOf(event: AnyEvent): 'file' | 's3' | null {
  if (event.kind !== 'nexus' && event.kind !== 'task') return null;
  if (event.logger.endsWith('FileBlobStore')) return 'file';
  if (event.logger.includes('S3BlobStore') || event.message.includes('S3BlobAttributes')) return 's3';
  return null;
}

export const blobstoreMissingBlob: Rule<Signal, State> = {
  id: 'blobstore-missing-blob',
  title: 'Blobs missing from their blob store',
  severity: 'error',
  category: 'blobstore',
  reads: [
    {
      levels: ['WARN', 'ERROR'],
      literals: [IN_METADATA.trim(), INPUT_STREAM.trim(), NON_EXISTENT.trim(), S3_ATTRIBUTES.trim(), ', will check remote'],
      continuation: true,
    },
  ],
  windowMs: 60 * 60_000,
  causedBy: [
    { rule: 'disk-full', withinMs: 24 * 60 * 60_000 },
    { rule: 'blobstore-write-failed', withinMs: 60 * 60_000, sameSubject: true },
  ],

  match(event) {
    if (event.kind !== 'nexus' && event.kind !== 'task') return undefined;
    const found = parseMissingBlob(event.message);
    if (found !== undefined) return found;
    for (const line of event.continuation) {
      const inTrace = parseMissingBlob(line);
      if (inTrace !== undefined) return inTrace;
    }
    return undefined;
  },

  key(signal) {
    return signal.store ?? '';
  },

  open(signal, event) {
    return { store: signal.store, examplePath: signal.path, backend: backendOf(event) };
  },

  distinct(signal) {
    return { blob: signal.blob };
  },

  add(state, signal, event) {
    if (state.examplePath === null && signal.path !== null) state.examplePath = signal.path;
    state.backend ??= backendOf(event);
  },

  describe(state, group) {
    const blobs = group.distinct.blob ?? { values: [], total: 0 };
    const store = state.store;
    const storeName = store === null ? 'a blob store' : `blob store ${store}`;
    const many = blobs.total >= 100;
    const summary =
      `${store === null ? 'A blob store' : `Blob store ${store}`} is missing ${plural(blobs.total, 'blob')} the database refers to` +
      ` (${listOf(blobs.values, blobs.total, 2)}): ${howOften(group.count, group.firstTime, group.lastTime)} a read failed.`;
    const path = state.examplePath === null ? '' : ` (for example ${state.examplePath})`;
    return {
      subject: { type: 'blobstore', name: store ?? 'unknown' },
      fingerprint: [store],
      summary,
      severity: many ? 'critical' : 'error',
      facts: {
        'blob store': store ?? 'not named in the log',
        'missing blobs': `${blobs.total}${blobs.capped === true ? '+' : ''}`,
        'failed reads': group.count,
        ...(state.backend === null ? {} : { backend: state.backend === 's3' ? 'S3' : 'file' }),
      },
      diagnosis: {
        cause: many ? 'blob-store-content-lost' : 'blob-missing-from-blob-store',
        explanation:
          `The database refers to ${plural(blobs.total, 'blob')} that ${storeName} does not have${path}. Downloads of the components ` +
          'they belong to fail (proxy repositories fetch them from the remote again). ' +
          (many
            ? 'Hundreds of blobs missing at once means the storage itself is missing or different: a volume or mount that is not there, a blob store path changed, a restore of the database without its blob store, or a bucket or prefix changed.'
            : 'Usual causes: files deleted or lost on the storage (a full or remounted disk, an NFS or S3 problem, a restore of the database without the blob store), a repository moved to another blob store, or two Nexus instances sharing one blob store.'),
        confidence: 'medium',
        remediation: [
          many
            ? `Check that the storage of ${storeName} is mounted and is the right one (the path in the log lines, its permissions, the bucket and prefix for S3) before anything else.`
            : `Check the storage of ${storeName} for the files named in the evidence: disk space, mounts, permissions, recent restores.`,
          `Run the task 'Repair - Reconcile component database from blob store' for ${storeName} (it removes the records of blobs that are gone).`,
          'For proxy repositories the content is fetched again from the remote once the stale record is gone; for hosted ones, upload it again or restore it from backup.',
        ],
      },
    };
  },
};
