/**
 * The JVM, disk and database rules over the whole real-log corpus: each fires on exactly the
 * excerpts labelled with its class (or with an `other:` class it takes), and on no other.
 */
import { databaseCannotOpen } from '../../src/rules/builtin/database-cannot-open';
import { databaseConnectionRefused } from '../../src/rules/builtin/database-connection-refused';
import { databaseCorrupted } from '../../src/rules/builtin/database-corrupted';
import { databasePoolExhausted } from '../../src/rules/builtin/database-pool-exhausted';
import { databaseReadOnly } from '../../src/rules/builtin/database-read-only';
import { diskFull } from '../../src/rules/builtin/disk-full';
import { jvmHeapPressure } from '../../src/rules/builtin/jvm-heap-pressure';
import { jvmOutOfMemory } from '../../src/rules/builtin/jvm-out-of-memory';
import { openFileLimitLow } from '../../src/rules/builtin/open-file-limit-low';
import { searchIndexUnhealthy } from '../../src/rules/builtin/search-index-unhealthy';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, FIXTURES } from '../support/helpers';
import type { CorpusEntry } from '../support/rule-lines';

const RULES = [jvmOutOfMemory, jvmHeapPressure, openFileLimitLow, diskFull, databaseReadOnly, databaseCannotOpen, databaseCorrupted, databasePoolExhausted, databaseConnectionRefused, searchIndexUnhealthy];
const IDS = new Set(RULES.map((rule) => rule.id));
/** Classes of the corpus outside the project's list that these rules take. */
const TAKEN: Record<string, string> = {
  'other:h2-database-closed': 'database-cannot-open',
  'other:orientdb-storage-exception': 'database-corrupted',
  'other:search-index-rebuild-failed': 'search-index-unhealthy',
};

/** Expectations these rules miss (the reasons are in test/corpus/real-logs.test.ts). */
const NOT_MET: Record<string, string> = {
  'np-394-orient-exception-in-storage-discourse-quotes.log': 'database-cannot-open',
  'cray-nexus-setup-orient-console-page-broken-rebuild-index.log': 'database-corrupted',
  'wmenjoy-16-orient-wal-cuttill-npe-after-disk-full.log': 'database-corrupted',
  'np-158-es-gc-old-growth-first-line-quoted-3-58.log': 'jvm-heap-pressure',
  'helm-charts-12298-olowdiskspace-osystem-frames-only.log': 'disk-full',
};

const corpus = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'real', 'corpus.json'), 'utf8')) as CorpusEntry[];

describe('JVM, disk and database rules on the real-log corpus', () => {
  it.each(corpus.map((entry) => [entry.file, entry] as const))('%s', (file, entry) => {
    const expected = [...new Set(entry.expected.map((e) => TAKEN[e.class] ?? e.class).filter((id) => IDS.has(id)))].sort();
    const text = fs.readFileSync(path.join(FIXTURES, 'real', file));
    const found = [...new Set(analyze(text, { rules: RULES, source: file }).map((i) => i.rule))].sort();
    // Classes the text does not rule out may be found; expected ones must be, unless listed as missed.
    const allowed = new Set([...expected, ...entry.notConclusive.map((c) => TAKEN[c] ?? c)]);
    expect(found.filter((rule) => !allowed.has(rule))).toEqual([]);
    expect(expected.filter((rule) => !found.includes(rule) && NOT_MET[file] !== rule)).toEqual([]);
  });

  it('every class of these rules in the corpus is met by some excerpt (database-connection-refused has none)', () => {
    const labelled = new Set(corpus.flatMap((entry) => entry.expected.map((e) => TAKEN[e.class] ?? e.class)));
    expect([...IDS].filter((id) => !labelled.has(id))).toEqual(['database-connection-refused']);
  });
});
