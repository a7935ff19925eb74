import { parseTimestamp, startsWithTimestamp, toIsoUtc } from '../../src/events/timestamp';

const ms = (text: string): number | undefined => parseTimestamp(text)?.epochMs;

describe('parseTimestamp', () => {
  it('reads the Nexus layout to epoch ms, applying the offset', () => {
    expect(ms('2025-09-10 01:36:22,857+0000')).toBe(Date.UTC(2025, 8, 10, 1, 36, 22, 857));
    expect(ms('2025-09-10 01:36:22,857-0400')).toBe(Date.UTC(2025, 8, 10, 5, 36, 22, 857));
    expect(ms('2025-09-10 01:36:22,857+0530')).toBe(Date.UTC(2025, 8, 9, 20, 6, 22, 857));
  });

  it('reports how many characters the timestamp took', () => {
    expect(parseTimestamp('2025-09-10 01:36:22,857+0000 INFO')?.length).toBe(28);
    expect(parseTimestamp('2025-09-10 01:36:22,857 INFO')?.length).toBe(23);
    expect(parseTimestamp('2025-09-10T01:36:22.857+02:00 x')?.length).toBe(29);
  });

  it('accepts the variants seen in pasted and console logs', () => {
    const utc = Date.UTC(2025, 8, 10, 1, 36, 22, 857);
    expect(ms('2025-09-10 01:36:22.857+0000')).toBe(utc);
    expect(ms('2025-09-10T01:36:22,857Z')).toBe(utc);
    expect(ms('2025-09-10 01:36:22,857')).toBe(utc); // no offset: read as UTC
    expect(ms('2025-09-10 03:36:22,857+02:00')).toBe(utc);
    expect(ms('2025-09-10 01:36:22,8+0000')).toBe(Date.UTC(2025, 8, 10, 1, 36, 22, 800));
    expect(ms('2025-09-10 01:36:22+0000')).toBe(Date.UTC(2025, 8, 10, 1, 36, 22, 0));
  });

  it('rejects what is not a timestamp', () => {
    for (const text of ['', 'hello', '2025-13-10 01:36:22,857+0000', '2025-09-10 25:36:22,857', '2025/09/10 01:36:22', '\tat x.y(Z.java:1)', '2025-09-10 01:36:22,+0000']) {
      expect(parseTimestamp(text)).toBeUndefined();
    }
  });

  it('rejects a timestamp cut inside its offset (fuzz finding)', () => {
    expect(parseTimestamp('2026-11-19 00:00:00,533+')).toBeUndefined();
    expect(parseTimestamp('2026-11-19 00:00:00,533+01')).toBeUndefined();
    expect(parseTimestamp('2026-11-19 00:00:00,533-00:')).toBeUndefined();
  });

  it('formats incident times as ISO-8601 UTC with milliseconds', () => {
    expect(toIsoUtc(Date.UTC(2025, 8, 10, 1, 36, 22, 7))).toBe('2025-09-10T01:36:22.007Z');
  });
});

describe('parseTimestamp: the calendar', () => {
  it('years 0000-0099 are those years (not 1900-1999), and a day the month does not have is no timestamp', () => {
    expect(toIsoUtc(parseTimestamp('0099-09-10 01:00:00,000+0000')?.epochMs as number)).toBe('0099-09-10T01:00:00.000Z');
    expect(toIsoUtc(parseTimestamp('0000-01-01 00:00:00,000+0000')?.epochMs as number)).toBe('0000-01-01T00:00:00.000Z');
    expect(parseTimestamp('2025-02-30 01:00:00,000+0000')).toBeUndefined();
    expect(parseTimestamp('2025-04-31 01:00:00,000+0000')).toBeUndefined();
    expect(parseTimestamp('2025-02-29 01:00:00,000+0000')).toBeUndefined();
    expect(parseTimestamp('2024-02-29 01:00:00,000+0000')).toBeDefined();
    expect(parseTimestamp('2000-02-29 01:00:00,000+0000')).toBeDefined();
    expect(parseTimestamp('1900-02-29 01:00:00,000+0000')).toBeUndefined();
  });
});

describe('startsWithTimestamp', () => {
  const bytes = (text: string): Buffer => Buffer.from(text);
  it('tells a header line from a continuation line on raw bytes', () => {
    const header = bytes('2025-09-10 01:36:22,857+0000 ERROR [x] y z - m');
    expect(startsWithTimestamp(header, 0, header.length)).toBe(true);
    for (const text of ['\tat org.x.Y.z(Y.java:10)', "r'}", 'Caused by: java.lang.X', '', '2025-09-10']) {
      const b = bytes(text);
      expect(startsWithTimestamp(b, 0, b.length)).toBe(false);
    }
  });
});
