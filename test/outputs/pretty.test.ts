/** The pretty block: any rule's envelope, read by a person on an 80-column terminal. */
import { formatPretty, whenText, wrap } from '../../src/outputs/pretty';
import type { Incident } from '../../src/incidents/incident';
import { analyze, missingLayerLine, rejectionLine } from '../support/helpers';

function push(): Incident {
  const lines = [
    missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'team/app', '1.0'),
    missingLayerLine('2025-03-01 10:00:00,002+0000', 'l2', 'team/app', '1.0'),
    rejectionLine('2025-03-01 10:00:00,009+0000', 'team/app', '1.0'),
  ];
  return analyze(`${lines.join('\n')}\n`).find((i) => i.rule === 'docker-manifest-missing-layers') as Incident;
}

describe('formatPretty', () => {
  it('keeps every line within the width, with no colour unless asked', () => {
    const text = formatPretty(push(), { color: false, width: 80 });
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).not.toContain('\u001b[');
    expect(formatPretty(push(), { color: true, width: 80 })).toContain('\u001b[');
  });

  it('shows fact labels whole up to 23 characters, and cuts longer ones visibly', () => {
    const incident = { ...push(), facts: { 'missing layers logged': 5, 'a label that is far too long to show whole': 'x' } };
    const text = formatPretty(incident, { color: false, width: 100 });
    expect(text).toMatch(/^missing layers logged {2,}5$/m);
    expect(text).toMatch(/^a label that is far to…/m);
  });

  it('says when lines carry no time instead of printing null', () => {
    const incident = { ...push(), firstSeen: null, lastSeen: null, count: 3 };
    expect(whenText(incident)).toBe('time unknown: the lines carry no timestamp (3 lines)');
    expect(formatPretty(incident, { color: false })).toContain('time unknown');
  });

  it('does not repeat the subject as a fact', () => {
    const incident: Incident = { ...push(), subject: { type: 'repository', name: 'docker-group' }, facts: { repository: 'docker-group', 'failed requests': 1 } };
    const text = formatPretty(incident, { color: false, width: 100 });
    expect(text).toMatch(/^about +repository docker-group$/m);
    expect(text).not.toMatch(/^repository +docker-group$/m);
    expect(text).toMatch(/^failed requests +1$/m);
  });

  it('shows the control characters of log text instead of sending them to the terminal', () => {
    const incident: Incident = { ...push(), summary: 'push of team/app\u001b]8;;http://evil\u0007x\u001b[31m failed', facts: { image: 'a\u001b[2Jb' } };
    const text = formatPretty(incident, { color: false, width: 100 });
    expect(text).not.toMatch(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/);
    expect(text).toContain('team/app\\x1b]8;;http://evil\\x07x\\x1b[31m');
    expect(text).toContain('a\\x1b[2Jb');
    expect(formatPretty(incident, { color: false, width: 100 })).toBe(text); // the same on every call
  });

  it('wraps long words too', () => {
    expect(wrap('a '.repeat(50) + 'x'.repeat(120), 40).every((line) => line.length <= 40)).toBe(true);
  });
});
