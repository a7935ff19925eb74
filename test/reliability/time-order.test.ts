/**
 * The time policy (docs/reliability.md): windows run on log time; the watermark is the latest
 * time seen; a late event is never dropped: it joins its key's open group when within the
 * window of that group's last event, else starts a new group; exact repeats of a recent line
 * (a shipper that retried) are counted and not correlated twice.
 */
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';
import { isDockerPushIncident } from '../../src/rules/builtin/docker-manifest-missing-layers';
import { analyze, infoLine, missingLayerLine, rejectionLine } from '../support/helpers';

const shape = (incidents: Incident[]) =>
  incidents.filter(isDockerPushIncident).map((i) => [i.image, i.missingLayers.length, i.request !== null, i.closeReason]);

describe('time order', () => {
  it('a DST change in a non-UTC offset does not split a push: offsets make time monotonic', () => {
    // 01:59:59.998 EDT (-0400) is 05:59:59.998Z; the repeated 01:00 hour in EST (-0500) is 06:00Z.
    const text = [
      missingLayerLine('2025-11-02 01:59:59,998-0400', 'l1', 'img', '1'),
      rejectionLine('2025-11-02 01:00:00,003-0500', 'img', '1'),
    ].join('\n');
    const [incident] = analyze(text);
    expect(shape(analyze(text))).toEqual([['img', 1, true, 'matched']]);
    expect([incident?.firstSeen, incident?.lastSeen]).toEqual(['2025-11-02T05:59:59.998Z', '2025-11-02T06:00:00.003Z']);
  });

  it('a clock stepped back inside a push (further than the reorder window) still joins it; first/last seen are min and max', () => {
    const text = [
      missingLayerLine('2025-03-01 10:00:05,000+0000', 'l1', 'img', '1'),
      rejectionLine('2025-03-01 10:00:00,500+0000', 'img', '1'), // NTP stepped the clock back 4.5 s
    ].join('\n');
    const analyzer = new Analyzer();
    const out = [...analyzer.write(text), ...analyzer.end()];
    expect(shape(out)).toEqual([['img', 1, true, 'matched']]);
    expect([out[0]?.firstSeen, out[0]?.lastSeen]).toEqual(['2025-03-01T10:00:00.500Z', '2025-03-01T10:00:05.000Z']);
    expect(analyzer.stats.lateEvents).toBe(1);
  });

  it('lines out of order within the reorder window (an excerpt pasted by level, threads racing) are correlated in time order', () => {
    const text = [
      rejectionLine('2025-03-01 10:00:00,900+0000', 'img', '1'), // pasted first, logged last
      missingLayerLine('2025-03-01 10:00:00,100+0000', 'l1', 'img', '1'),
      missingLayerLine('2025-03-01 10:00:00,200+0000', 'l2', 'img', '1'),
    ].join('\n');
    expect(shape(analyze(text))).toEqual([['img', 2, true, 'matched']]);
  });

  it('a late line further back than the window starts a new group instead of joining', () => {
    const text = [
      missingLayerLine('2025-03-01 10:00:30,000+0000', 'l1', 'img', '1'),
      rejectionLine('2025-03-01 10:00:00,000+0000', 'img', '1'),
    ].join('\n');
    expect(shape(analyze(text))).toEqual([
      ['img', 0, true, 'matched'],
      ['img', 1, false, 'end-of-input'],
    ]);
  });

  it('one stray line dated 9999 from another thread cannot close other groups; a real jump is believed at its second line', () => {
    const stray = [
      missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'img', '1'),
      missingLayerLine('9999-03-01 10:00:00,000+0000', 'l9', 'other', '9', { thread: 'stray' }),
      rejectionLine('2025-03-01 10:00:05,000+0000', 'img', '1'),
    ].join('\n');
    expect(shape(analyze(stray))).toEqual([
      ['img', 1, true, 'matched'],
      ['other', 1, false, 'end-of-input'],
    ]);
    const restart = [
      missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'img', '1'),
      infoLine('2025-03-03 08:00:00,000+0000', 'two days later'),
      infoLine('2025-03-03 08:00:00,001+0000', 'and again'),
      missingLayerLine('2025-03-03 08:00:01,000+0000', 'l2', 'next', '1', { thread: 'other' }),
      rejectionLine('2025-03-03 08:00:01,005+0000', 'next', '1', { thread: 'other' }),
    ].join('\n');
    expect(shape(analyze(restart))).toEqual([
      ['img', 1, false, 'window'],
      ['next', 1, true, 'matched'],
    ]);
  });

  it('late events are never dropped: a whole late push on another thread is still found', () => {
    const text = [
      infoLine('2025-03-01 12:00:00,000+0000', 'the watermark moves to noon'),
      missingLayerLine('2025-03-01 09:00:00,000+0000', 'l1', 'old', '1', { thread: 'late' }),
      rejectionLine('2025-03-01 09:00:00,004+0000', 'old', '1', { thread: 'late' }),
    ].join('\n');
    expect(shape(analyze(text))).toEqual([['old', 1, true, 'matched']]);
  });

  it('lines repeated by a shipper that retried are not correlated twice', () => {
    const push = [
      missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'img', '1'),
      missingLayerLine('2025-03-01 10:00:00,001+0000', 'l2', 'img', '1'),
      rejectionLine('2025-03-01 10:00:00,002+0000', 'img', '1'),
    ];
    const analyzer = new Analyzer();
    const once = [...analyzer.write([...push, push[1], ...push].join('\n')), ...analyzer.end()];
    expect(shape(once)).toEqual([['img', 2, true, 'matched']]);
    expect(analyzer.stats.duplicateEvents).toBe(4);
  });

  it('the same message at another millisecond is a new event, not a repeat', () => {
    const text = [
      missingLayerLine('2025-03-01 10:00:00,000+0000', 'l1', 'img', '1'),
      rejectionLine('2025-03-01 10:00:00,002+0000', 'img', '1'),
      missingLayerLine('2025-03-01 10:05:00,000+0000', 'l1', 'img', '1'),
      rejectionLine('2025-03-01 10:05:00,002+0000', 'img', '1'),
    ].join('\n');
    expect(shape(analyze(text))).toEqual([
      ['img', 1, true, 'matched'],
      ['img', 1, true, 'matched'],
    ]);
  });

  it('merged files that overlap in time: each push is still one incident', () => {
    const analyzer = new Analyzer();
    const out = [
      ...analyzer.beginSource('node-a.log'),
      ...analyzer.write([missingLayerLine('2025-03-01 10:00:00,000+0000', 'a1', 'a', '1', { node: 'node-a' }), rejectionLine('2025-03-01 10:00:00,004+0000', 'a', '1', { node: 'node-a' }), infoLine('2025-03-01 11:00:00,000+0000', 'later', { node: 'node-a' })].join('\n')),
      ...analyzer.beginSource('node-b.log'),
      ...analyzer.write([missingLayerLine('2025-03-01 10:30:00,000+0000', 'b1', 'b', '1', { node: 'node-b' }), rejectionLine('2025-03-01 10:30:00,004+0000', 'b', '1', { node: 'node-b' })].join('\n')),
      ...analyzer.end(),
    ];
    expect(shape(out)).toEqual([
      ['a', 1, true, 'matched'],
      ['b', 1, true, 'matched'],
    ]);
  });
});
