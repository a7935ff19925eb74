/**
 * Rule `blobstore-missing-blob`: a blob the database knows is not in the blob store
 * (`Blob ... exists in metadata, but is missing from the blobstore`, FileBlobStore `Can't open
 * input stream to blob ... as file ... not found`, `Attempt to access non-existent blob
 * attributes file ... for blob ...`), counted per blob while reads keep failing.
 */
import type { DeclarativeRuleSpec } from '../declarative';

export const blobstoreMissingBlob: DeclarativeRuleSpec = {
  id: 'blobstore-missing-blob',
  title: 'Blob missing from its blob store',
  severity: 'error',
  kind: 'threshold',
  threshold: 1,
  windowMs: 60 * 60_000,
  levels: ['WARN', 'ERROR'],
  prefilter: ['exists in metadata, but is missing from the blobstore', "Can't open input stream to blob", 'Attempt to access non-existent blob attributes file'],
  match: {
    message:
      '^(?:Blob (?<blob>\\S+) exists in metadata, but is missing from the blobstore' +
      "|Can't open input stream to blob (?<blob2>\\S+) as file (?<file>\\S+) not found" +
      '|Attempt to access non-existent blob attributes file (?<file2>\\S+) for blob (?<blob3>\\S+))',
  },
  key: '{blob|blob2|blob3}',
  summary: 'Blob {blob|blob2|blob3} is missing from its blob store: {count} failed read(s).',
  diagnosis: {
    cause: 'blob-missing-from-blob-store',
    explanation:
      'The database refers to blob {blob|blob2|blob3}, but the blob store does not have it (file {file|file2}). ' +
      'Downloads of the component it belongs to fail. Usual causes: files deleted or lost on the storage (a full or ' +
      'remounted disk, an NFS or S3 problem, a restore of the database without the blob store), or two Nexus instances ' +
      'sharing one blob store.',
    confidence: 'medium',
    remediation: [
      'Check the blob store storage for the file ({file|file2}): disk space, mounts, permissions, recent restores.',
      "Run the task 'Repair - Reconcile component database from blob store' for this blob store.",
      'For proxy repositories the content is fetched again from the remote once the stale record is gone; for hosted ones, upload it again or restore it from backup.',
    ],
    references: [{ title: 'docs/rules/blobstore-missing-blob.md', url: null }],
  },
};
