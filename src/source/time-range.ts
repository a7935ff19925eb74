/**
 * Time ranges (`--since` / `--until`, or the `since` / `until` options): which incidents to
 * report, and which rotated files cannot hold any of them and need not be read.
 */

export interface TimeRange {
  /** Epoch ms, inclusive; undefined: no lower bound. */
  since: number | undefined;
  /** Epoch ms, exclusive; undefined: no upper bound. */
  until: number | undefined;
}

export function inRange(epochMs: number, range: TimeRange): boolean {
  return (range.since === undefined || epochMs >= range.since) && (range.until === undefined || epochMs < range.until);
}

/** Rotated `nexus-YYYY-MM-DD.log[.gz]` names: the day they hold, or undefined for other names. */
export function rotatedDay(fileName: string): { start: number; end: number } | undefined {
  const match = /nexus-(\d{4})-(\d{2})-(\d{2})(?:\.\d+)?\.log(?:\.gz)?$/.exec(fileName);
  if (match === null) return undefined;
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  // The name is the server's local day: widen by the largest UTC offsets (-12:00 .. +14:00).
  return { start: start - 14 * 3_600_000, end: start + 24 * 3_600_000 + 12 * 3_600_000 };
}

/** True when a rotated file's day lies wholly outside the range, so it need not be read. */
export function fileOutsideRange(fileName: string, range: TimeRange): boolean {
  const day = rotatedDay(fileName);
  if (day === undefined) return false;
  return (range.until !== undefined && day.start >= range.until) || (range.since !== undefined && day.end <= range.since);
}
