import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';
import { SummaryCollector } from '../../src/outputs/summary';
import { missingLayerLine, rejectionLine, SAMPLES } from '../support/helpers';

function summarize(text: string | Buffer, width = 80): string {
  const analyzer = new Analyzer();
  const collector = new SummaryCollector();
  for (const incident of [...analyzer.write(text), ...analyzer.end()]) collector.add(incident as Incident);
  return collector.format({ stats: analyzer.stats, inputs: 1, width });
}

describe('--summary table', () => {
  it('counts by rule, by repository and image, users, and what was read; fits 80 columns', () => {
    const bytes = Buffer.concat([
      readFileSync(path.join(SAMPLES, 'nexus.log')),
      gunzipSync(readFileSync(path.join(SAMPLES, 'nexus-2026-11-19.log.gz'))),
    ]);
    const text = summarize(bytes);
    expect(text).toContain('9 incidents from 47 lines (38 events, 0 unparsed) in 1 input'); // 33 + 14 lines, 9 of them stack-trace lines
    expect(text).toMatch(/docker-manifest-missing-layers +9\n/);
    expect(text).toMatch(/docker-hosted +team-a\/api-server:1\.4\.2 +1 {2}2026-11-20 08:14:32/);
    expect(text).toContain('ci-bot 4, release-bot 3, dev-jane 1, jenkins 1'); // the gateway push read after its 400 counts twice
    expect(text).toContain('none recorded: client addresses come from request.log');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('names failures that recur (same fingerprint) with their count and first/last time', () => {
    const attempt = (minute: string, thread: string): string =>
      [
        missingLayerLine(`2025-06-01 10:${minute}:00,000+0000`, 'l1', 'team/app', '1.0', { thread }),
        rejectionLine(`2025-06-01 10:${minute}:00,005+0000`, 'team/app', '1.0', { thread }),
      ].join('\n');
    const text = summarize([attempt('00', 't1'), attempt('05', 't2'), attempt('10', 't3')].join('\n'));
    expect(text).toContain('   3x  docker-hosted  team/app:1.0\n           2025-06-01 10:00:00 .. 2025-06-01 10:10:00 UTC\n');
  });

  it('says so when there is nothing', () => {
    expect(summarize('2025-01-01 10:00:00,000+0000 INFO  [main]  *SYSTEM a.B - started\n')).toBe(
      'Summary\n  0 incidents from 1 lines (1 events, 0 unparsed) in 1 input\n',
    );
  });
});
