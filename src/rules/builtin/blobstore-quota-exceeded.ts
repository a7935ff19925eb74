/**
 * Rule `blobstore-quota-exceeded`: a blob store over its soft quota. Nexus checks the quota of
 * every blob store every 60 s (`nexus.blobstore.quota.warnIntervalSeconds`) and logs a warning
 * each time it is violated, so this is a storm rule: one incident per blob store while the
 * warnings go on, with the first and last figures (is it growing?).
 *
 *   BS-7  WARN Blob store {name} is using {used} space and has a limit of {limit}                                   (Space Used quota)
 *   BS-7  WARN Blob store {name} is limited to having {limit} available space, and has {avail} space remaining      (Space Remaining quota)
 *         logger: BlobStoreQuotaUsageChecker (3.41+), before that the blob store's own (FileBlobStore, S3BlobStore...)
 *   BS-8  RoundRobinFillPolicy INFO Skipping blobStore {name} due to soft-quota violation[: {BS-7 text}]            (a group member skipped)
 *
 * A soft quota does not stop writes (only a group's fill policy skips the member): it warns
 * before the disk is full. Parsed with indexOf only.
 */
import type { Rule } from '../rule';
import { howOften, plural } from './wording';

const BLOB_STORE = 'Blob store ';
const USING = ' is using ';
const LIMIT_OF = ' space and has a limit of ';
const LIMITED_TO = ' is limited to having ';
const AVAILABLE = ' available space, and has ';
const REMAINING = ' space remaining';
const SKIPPING = 'Skipping blobStore ';
const SOFT_QUOTA = ' due to soft-quota violation';

export type QuotaKind = 'space-used' | 'space-remaining';

interface QuotaFigures {
  kind: QuotaKind;
  /** Space used (space-used) or left (space-remaining), as logged (`10.52 GB`). */
  value: string;
  limit: string;
}

interface Signal {
  store: string;
  figures: QuotaFigures | null;
  /** A group blob store skipped this member for a new blob. */
  skipped: boolean;
}

interface State {
  store: string;
  kind: QuotaKind | null;
  first: QuotaFigures | null;
  last: QuotaFigures | null;
  warnings: number;
  skips: number;
}

/** `Blob store X is using A space and has a limit of L` / `... is limited to having L available space, and has A space remaining`. */
export function parseQuotaViolation(text: string): { store: string; figures: QuotaFigures } | undefined {
  if (!text.startsWith(BLOB_STORE)) return undefined;
  const using = text.indexOf(USING, BLOB_STORE.length);
  if (using !== -1) {
    const limitAt = text.indexOf(LIMIT_OF, using);
    if (limitAt === -1) return undefined;
    return {
      store: text.slice(BLOB_STORE.length, using),
      figures: { kind: 'space-used', value: text.slice(using + USING.length, limitAt), limit: text.slice(limitAt + LIMIT_OF.length).trim() },
    };
  }
  const limited = text.indexOf(LIMITED_TO, BLOB_STORE.length);
  if (limited === -1) return undefined;
  const availableAt = text.indexOf(AVAILABLE, limited);
  const remainingAt = availableAt === -1 ? -1 : text.indexOf(REMAINING, availableAt);
  if (remainingAt === -1) return undefined;
  return {
    store: text.slice(BLOB_STORE.length, limited),
    figures: { kind: 'space-remaining', value: text.slice(availableAt + AVAILABLE.length, remainingAt), limit: text.slice(limited + LIMITED_TO.length, availableAt) },
  };
}

/** `Skipping blobStore X due to soft-quota violation[: <BS-7 text>]`. */
function parseSkip(text: string): Signal | undefined {
  if (!text.startsWith(SKIPPING)) return undefined;
  const due = text.indexOf(SOFT_QUOTA, SKIPPING.length);
  if (due === -1) return undefined;
  const store = text.slice(SKIPPING.length, due);
  const rest = text.slice(due + SOFT_QUOTA.length);
  const detail = rest.startsWith(': ') ? parseQuotaViolation(rest.slice(2)) : undefined;
  return { store, figures: detail?.figures ?? null, skipped: true };
}

function describeFigures(figures: QuotaFigures): string {
  return figures.kind === 'space-used' ? `uses ${figures.value} of its ${figures.limit} limit` : `has ${figures.value} free where its quota asks for ${figures.limit}`;
}

export const blobstoreQuotaExceeded: Rule<Signal, State> = {
  id: 'blobstore-quota-exceeded',
  title: 'Blob store over its soft quota',
  severity: 'warning',
  category: 'blobstore',
  reads: [
    {
      levels: ['WARN'],
      // 3.41+: BlobStoreQuotaUsageChecker; 3.14-3.40: the blob store's own logger (BlobStoreSupport passes its log).
      loggers: ['BlobStoreQuotaUsageChecker', 'FileBlobStore', 'S3BlobStore', 'GoogleCloudBlobStore', 'AzureBlobStore', 'BlobStoreGroup'],
      literals: [{ text: BLOB_STORE, at: 'start' }],
    },
    { levels: ['INFO'], loggers: ['RoundRobinFillPolicy'], literals: [{ text: SKIPPING, at: 'start' }] },
  ],
  // Warned every 60 s while violated: two hours of silence means it stopped (freed, or Nexus down).
  windowMs: 2 * 60 * 60_000,

  match(event) {
    if (event.kind !== 'nexus' && event.kind !== 'task') return undefined;
    if (event.level === 'INFO') return parseSkip(event.message);
    const violation = parseQuotaViolation(event.message);
    return violation === undefined ? undefined : { store: violation.store, figures: violation.figures, skipped: false };
  },

  key(signal) {
    return signal.store;
  },

  open(signal) {
    return { store: signal.store, kind: signal.figures?.kind ?? null, first: signal.figures, last: signal.figures, warnings: 0, skips: 0 };
  },

  add(state, signal) {
    if (signal.skipped) state.skips++;
    else state.warnings++;
    if (signal.figures !== null) {
      state.first ??= signal.figures;
      state.last = signal.figures;
      state.kind = signal.figures.kind;
    }
  },

  describe(state, group) {
    const store = state.store;
    const last = state.last;
    const kindName = state.kind === 'space-used' ? 'Space Used' : state.kind === 'space-remaining' ? 'Space Remaining' : null;
    const now = last === null ? 'is over its soft quota' : `is over its soft quota: it ${describeFigures(last)}`;
    const trend = state.first !== null && last !== null && state.first.value !== last.value ? ` (${state.first.value} at first, ${last.value} at last)` : '';
    const warned = state.warnings > 0 ? `; warned ${howOften(state.warnings, group.firstTime, group.lastTime)}` : '';
    const skipped = state.skips > 0 ? `; its group blob store skipped it for ${plural(state.skips, 'new blob')}` : '';
    const cause = state.kind === 'space-remaining' ? 'soft-quota-space-remaining' : state.kind === 'space-used' ? 'soft-quota-space-used' : 'group-member-over-quota';
    const fixSpace =
      state.kind === 'space-remaining'
        ? `Give the volume of blob store ${store} more space: its free space is below the quota, so the disk itself is filling (writes fail once it is full).`
        : `Free space in blob store ${store}: run the cleanup policies of the repositories that use it (task 'Admin - Cleanup repositories using their associated policies'), then 'Admin - Compact blob store' for ${store} (deleted blobs free space only after the compact).`;
    return {
      subject: { type: 'blobstore', name: store },
      fingerprint: [store, state.kind],
      summary: `Blob store ${store} ${now}${trend}${warned}${skipped}.`,
      facts: {
        'blob store': store,
        ...(kindName === null ? {} : { 'quota type': kindName }),
        ...(last === null ? {} : { [last.kind === 'space-used' ? 'used / limit' : 'free / quota']: `${last.value} / ${last.limit}` }),
        ...(state.first !== null && last !== null && state.first.value !== last.value ? { 'at first': state.first.value } : {}),
        warnings: state.warnings,
        ...(state.skips > 0 ? { 'skipped by the group fill policy': state.skips } : {}),
      },
      diagnosis: {
        cause,
        explanation:
          (state.kind === 'space-remaining'
            ? `The volume of blob store ${store} has less free space than its soft quota asks for.`
            : state.kind === 'space-used'
              ? `Blob store ${store} holds more than its soft quota allows.`
              : `Blob store ${store} violates its soft quota.`) +
          ' A soft quota only warns: writes go on until the storage itself is full' +
          (state.skips > 0 ? ', except that a group blob store (round robin fill policy) no longer writes new blobs to this member' : '') +
          '. Nexus repeats the warning every 60 s while the quota is violated.',
        confidence: 'high',
        remediation: [
          fixSpace,
          `Or raise the soft quota if the growth is expected: Administration > Repository > Blob Stores > ${store} > Soft Quota.`,
          state.kind === 'space-remaining'
            ? `Then run cleanup policies and 'Admin - Compact blob store' for ${store} so the space does not fill again.`
            : `Check which repositories write to ${store} and whether they have cleanup policies at all.`,
        ],
        references: [
          { title: 'Sonatype: Configuring Blob Stores (soft quotas)', url: 'https://help.sonatype.com/en/configuring-blob-stores.html' },
          { title: 'Sonatype: Storage Guide (compact blob store, soft deletes)', url: 'https://help.sonatype.com/en/storage-guide.html' },
        ],
      },
    };
  },
};
