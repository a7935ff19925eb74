import { parseTimeOption } from '../../src/cli/time-option';
import { fileOutsideRange, inRange } from '../../src/source/time-range';

describe('--since / --until values', () => {
  it('an ISO time must be whole: trailing text or an impossible offset is an error, not dropped', () => {
    expect(() => parseTimeOption('2025-09-10T01:30:00+02:00junk')).toThrow(/is not a time/);
    expect(() => parseTimeOption('2025-09-10T01:30:00+02:00[America/New_York]')).toThrow(/is not a time/);
    expect(() => parseTimeOption('2025-09-10T01:30:00+25:00')).toThrow(/is not a time/);
    expect(parseTimeOption('2025-09-10T01:30:00+02:00')).toBe(Date.UTC(2025, 8, 9, 23, 30));
    expect(parseTimeOption('2025-09-10 01:30:00.123Z')).toBe(Date.UTC(2025, 8, 10, 1, 30, 0, 123));
  });

  it('a duration going back further than a date can is an error, not a silent NaN', () => {
    expect(() => parseTimeOption('999999999d')).toThrow(/goes back further than a date can/);
    expect(() => parseTimeOption('10000000000000000000000d')).toThrow(/goes back further than a date can/);
  });

  const now = new Date('2026-11-22T12:00:00Z');

  it('reads durations back from now', () => {
    expect(parseTimeOption('2h', now)).toBe(Date.parse('2026-11-22T10:00:00Z'));
    expect(parseTimeOption('3d', now)).toBe(Date.parse('2026-11-19T12:00:00Z'));
    expect(parseTimeOption('90m', now)).toBe(Date.parse('2026-11-22T10:30:00Z'));
    expect(parseTimeOption('1w', now)).toBe(Date.parse('2026-11-15T12:00:00Z'));
  });

  it('reads ISO dates and times, with or without an offset', () => {
    expect(parseTimeOption('2025-09-10T01:36:22Z', now)).toBe(Date.parse('2025-09-10T01:36:22Z'));
    expect(parseTimeOption('2025-09-10T01:36:22+02:00', now)).toBe(Date.parse('2025-09-09T23:36:22Z'));
    expect(parseTimeOption('2025-09-10 01:36', now)).toBe(new Date(2025, 8, 10, 1, 36).getTime()); // local, as typed
    expect(parseTimeOption('2025-09-10', now)).toBe(new Date(2025, 8, 10).getTime());
  });

  it('reads yesterday, today and now', () => {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    expect(parseTimeOption('today')).toBe(midnight.getTime());
    expect(parseTimeOption('yesterday')).toBe(new Date(midnight.getFullYear(), midnight.getMonth(), midnight.getDate() - 1).getTime());
    expect(parseTimeOption('now', now)).toBe(now.getTime());
  });

  it('explains what it cannot read', () => {
    expect(() => parseTimeOption('last tuesday', now)).toThrow(/'last tuesday' is not a time: use an ISO date/);
    expect(() => parseTimeOption('2h30', now)).toThrow(/not a time/);
  });

  it('ranges are since-inclusive and until-exclusive', () => {
    expect(inRange(10, { since: 10, until: 20 })).toBe(true);
    expect(inRange(20, { since: 10, until: 20 })).toBe(false);
    expect(inRange(5, { since: undefined, until: undefined })).toBe(true);
  });

  it('rotated days wholly outside the range are skipped, allowing for any UTC offset', () => {
    const range = { since: Date.parse('2025-09-10T00:00:00Z'), until: Date.parse('2025-09-11T00:00:00Z') };
    expect(fileOutsideRange('/log/nexus-2025-09-08.log.gz', range)).toBe(true);
    expect(fileOutsideRange('/log/nexus-2025-09-09.log.gz', range)).toBe(false); // may hold 10 Sept UTC
    expect(fileOutsideRange('/log/nexus-2025-09-10.log.gz', range)).toBe(false);
    expect(fileOutsideRange('/log/nexus-2025-09-11.log.gz', range)).toBe(false); // may hold 10 Sept UTC
    expect(fileOutsideRange('/log/nexus-2025-09-12.log.gz', range)).toBe(true);
    expect(fileOutsideRange('/log/nexus.log', range)).toBe(false);
  });
});
