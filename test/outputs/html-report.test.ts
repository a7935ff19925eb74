import { HtmlReport } from '../../src/outputs/html-report';
import { dockerManifestMissingLayers } from '../../src/rules/builtin/docker-manifest-missing-layers';
import { analyze, missingLayerLine, rejectionLine } from '../support/helpers';

const stats = { lines: 3, bytes: 100, events: 3, relevantEvents: 3, unparsedLines: 0, truncatedLines: 0, foreignLines: 0, incidents: 1, incidentsByRule: {}, openGroups: 0, openGroupBytes: 0, evicted: 0, lateEvents: 0, duplicateEvents: 0, discarded: 0, lifecycleRecords: 0 };

function render(text: string): string {
  const report = new HtmlReport();
  for (const incident of analyze(text, { rules: [dockerManifestMissingLayers()] })) report.add(incident);
  return report.render({ stats, inputs: ['nexus.log'], generatedAt: new Date('2026-01-01T00:00:00Z') });
}

describe('HTML report', () => {
  const push = [missingLayerLine('2025-06-01 10:00:00,000+0000', 'l1', 'team/app', '1.0'), rejectionLine('2025-06-01 10:00:00,005+0000', 'team/app', '1.0')].join('\n');

  it('is one self-contained page: no external script, style, font or image', () => {
    const html = render(push);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=|<link\b|@import|url\(|<img\b|<iframe\b/i);
    expect(html).toContain('<svg id="timeline"');
    expect(html.match(/<tr class="incident /g)).toHaveLength(1);
  });

  it('escapes log text, so a hostile line cannot inject markup or script', () => {
    const hostile = push.replace('team/app', 'x/<script>alert(1)</script>');
    const html = render(hostile);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('says when there is nothing to show', () => {
    const html = render('2025-01-01 10:00:00,000+0000 INFO  [main]  *SYSTEM a.B - started');
    expect(html).toContain('No incidents: nothing failed in the logs read.');
  });
});
