/**
 * `--since` / `--until` values, parsed with date-fns (user-facing dates; never per line):
 * ISO dates and times, `yesterday`, `today`, `now`, and durations back from now (`90m`, `2h`,
 * `3d`, `1w`). Times without an offset are local, as an operator types them.
 */
// One module per function: the whole date-fns bundle, loaded at start-up, made every garbage
// collection of a 1 GB gzip run slower (1.36 s -> 1.78 s, docs/performance.md).
import { isValid } from 'date-fns/isValid';
import { parseISO } from 'date-fns/parseISO';
import { startOfToday } from 'date-fns/startOfToday';
import { startOfYesterday } from 'date-fns/startOfYesterday';
import { sub } from 'date-fns/sub';

const DURATION = /^(\d+)\s*(s|m|min|h|d|w)$/i;
/** An ISO date or date-time, whole: date-fns reads `...+02:00junk` leniently and drops the offset. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-](\d{2})(?::?(\d{2}))?)?)?$/i;
const UNITS: Record<string, 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks'> = {
  s: 'seconds',
  m: 'minutes',
  min: 'minutes',
  h: 'hours',
  d: 'days',
  w: 'weeks',
};

/** Epoch ms for a --since/--until value; throws an Error with a clear message when unreadable. */
export function parseTimeOption(value: string, now: Date = new Date()): number {
  const text = value.trim();
  const lower = text.toLowerCase();
  if (lower === 'now') return now.getTime();
  if (lower === 'today') return startOfToday().getTime();
  if (lower === 'yesterday') return startOfYesterday().getTime();
  const duration = DURATION.exec(text);
  if (duration !== null) {
    const unit = UNITS[(duration[2] as string).toLowerCase()] as string;
    const back = sub(now, { [unit]: Number(duration[1]) });
    if (!isValid(back)) throw new Error(`'${value}' goes back further than a date can (before the year -271821)`);
    return back.getTime();
  }
  const iso = ISO_TIME.exec(text);
  if (iso === null || Number(iso[1] ?? 0) > 14 || Number(iso[2] ?? 0) > 59) {
    throw new Error(`'${value}' is not a time: use an ISO date or time (2025-09-10, 2025-09-10T01:30, 2025-09-10T01:30+02:00), today, yesterday, or a duration such as 2h or 3d`);
  }
  const date = parseISO(text.replace(' ', 'T'));
  if (isValid(date)) return date.getTime();
  throw new Error(`'${value}' is not a time: use an ISO date or time (2025-09-10, 2025-09-10T01:30), today, yesterday, or a duration such as 2h or 3d`);
}
