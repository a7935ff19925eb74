/** --summary: the triage view (server runs, what to do first, by class, recurring, what was read). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';
import { SummaryCollector } from '../../src/outputs/summary';
import { dockerManifestMissingLayers } from '../../src/rules/builtin/docker-manifest-missing-layers';
import { blobstoreMissingBlob } from '../../src/rules/builtin/blobstore-missing-blob';
import type { AnyRule, Rule } from '../../src/rules/rule';
import { missingLayerLine, rejectionLine, SAMPLES } from '../support/helpers';

function summarize(text: string | Buffer, rules: AnyRule[] = [dockerManifestMissingLayers()], width = 80): string {
  const analyzer = new Analyzer({ rules });
  const collector = new SummaryCollector();
  for (const incident of [...analyzer.write(text), ...analyzer.end()]) collector.add(incident as Incident);
  return collector.format({ stats: analyzer.stats, inputs: 1, width });
}

/** A toy server-run rule: `started <version>` opens a run, `stopped` ends it cleanly. */
const runs: Rule<{ stop: boolean; version: string }, { version: string; stopped: boolean }> = {
  id: 'toy-runs',
  title: 'toy runs',
  severity: 'info',
  category: 'server',
  reads: [{ levels: ['INFO'], literals: [{ text: 'started ', at: 'start' }, { text: 'stopped', at: 'start' }] }],
  windowMs: Number.POSITIVE_INFINITY,
  match: (e) => (e.kind === 'nexus' ? { stop: e.message.startsWith('stopped'), version: e.message.slice(8) } : undefined),
  key: () => 'server',
  open: (s) => ({ version: s.version, stopped: false }),
  continues: (_state, s) => s.stop,
  add: (state, s) => {
    state.stopped = s.stop;
    return s.stop;
  },
  describe: (state, group) => ({
    subject: { type: 'server', name: 'nexus' },
    fingerprint: [group.firstTime],
    summary: `Nexus ${state.version} ${state.stopped ? 'stopped cleanly' : group.reason === 'superseded' ? 'died without a clean stop' : 'running'}`,
    severity: state.stopped || group.reason !== 'superseded' ? 'info' : 'error',
    diagnosis: { cause: 'run', explanation: '', confidence: 'high', remediation: [] },
  }),
};

describe('--summary (triage view)', () => {
  it('the samples: counts by severity, what to do first with cause and first fix, by class, and what was read; fits 80 columns', () => {
    const bytes = Buffer.concat([readFileSync(path.join(SAMPLES, 'nexus.log')), gunzipSync(readFileSync(path.join(SAMPLES, 'nexus-2026-11-19.log.gz')))]);
    const text = summarize(bytes);
    expect(text).toContain('9 incidents (9 error) from 47 lines in 1 input');
    expect(text).toContain('What to do first');
    expect(text).toMatch(/ 1\. error {2}Docker push rejected: manifest refers to missing layers\n {8}about: image docker-hosted\/[^\n]*\n[^\n]*\n[^\n]* and 4 more\n {8}7 incidents, 20 lines\. Worst: /);
    expect(text).toContain('cause: layer-check-answered-by-other-repository');
    expect(text).toContain('fix: Send the layer checks and the push to the same hosted repository');
    expect(text).toMatch(/By class\n {4}class +incidents +lines +last seen \(UTC\)\n {4}docker +9 +22 +2026-11-20 12:00:00/);
    expect(text).toContain('read: 47 lines, 38 records, 22 relevant, 0 unparsed');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('names failures that recur (same fingerprint) with their count and first/last time', () => {
    const attempt = (minute: string, thread: string): string =>
      [missingLayerLine(`2025-06-01 10:${minute}:00,000+0000`, 'l1', 'team/app', '1.0', { thread }), rejectionLine(`2025-06-01 10:${minute}:00,005+0000`, 'team/app', '1.0', { thread })].join('\n');
    const text = summarize([attempt('00', 't1'), attempt('05', 't2'), attempt('10', 't3')].join('\n'));
    expect(text).toContain('   3x  docker-manifest-missing-layers  image docker-hosted/team/app:1.0\n           2025-06-01 10:00:00 .. 2025-06-01 10:10:00 UTC\n');
  });

  it('server runs come first and a run that died is marked; the problems follow, the cause before its consequences', () => {
    const at = (time: string, level: string, logger: string, message: string): string => `2025-06-01 ${time},000+0000 ${level.padEnd(5)} [main]  *SYSTEM org.sonatype.nexus.${logger} - ${message}`;
    const text = summarize(
      [
        at('10:00:00', 'INFO', 'Boot', 'started 3.77.1'),
        at('10:05:00', 'WARN', 'blobstore.file.FileBlobStore', "Can't open input stream to blob 1b as file /nexus-data/blobs/default/content/vol-1/chap-2/1b.bytes not found"),
        at('11:00:00', 'INFO', 'Boot', 'started 3.77.1'),
        at('12:00:00', 'INFO', 'Boot', 'stopped'),
      ].join('\n'),
      [runs, blobstoreMissingBlob],
    );
    expect(text).toMatch(/Server runs\n {2}x 2025-06-01 10:00:00 \.\. 2025-06-01 10:00:00\n {6}Nexus 3\.77\.1 died without a clean stop\n {3} 2025-06-01 11:00:00 \.\. 2025-06-01 12:00:00\n {6}Nexus 3\.77\.1 stopped cleanly/);
    expect(text.indexOf('Server runs')).toBeLessThan(text.indexOf('What to do first'));
    expect(text).toMatch(/Blobs missing from their blob store\n {8}about: blob store default/);
  });

  it('says so when there is nothing', () => {
    expect(summarize('2025-01-01 10:00:00,000+0000 INFO  [main]  *SYSTEM a.B - started\n')).toBe('Summary\n  0 incidents from 1 lines in 1 input\n');
  });
});
