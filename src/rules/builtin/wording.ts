/** Small pieces of wording the rules share. */
import { thousands } from '../../format-number';

export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return count === 1 ? `1 ${noun}` : `${thousands(count)} ${nouns}`;
}

/** `38 min`, `2 h 5 min`, `12 s`, `3 d 4 h`: a duration for a person. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'an unknown time'; // lines with no time (loose text)
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** `first, second and 3 more`. */
export function listOf(values: readonly string[], total = values.length, shown = 3): string {
  const head = values.slice(0, shown);
  const rest = total - head.length;
  if (rest > 0) return `${head.join(', ')} and ${thousands(rest)} more`;
  if (head.length <= 1) return head.join('');
  return `${head.slice(0, -1).join(', ')} and ${head[head.length - 1] as string}`;
}

/** The storm part of a summary: `412 times in 38 min (10.8/min)`, or `once`. */
export function howOften(count: number, firstTime: number, lastTime: number): string {
  if (count === 1) return 'once';
  const span = lastTime - firstTime;
  if (span < 60_000) return `${thousands(count)} times`;
  return `${thousands(count)} times in ${duration(span)} (${(count / (span / 60_000)).toFixed(1)}/min)`;
}

/** The text between `open` and the next `close` after it in `text`, or null. */
export function between(text: string, open: string, close: string, from = 0): string | null {
  const start = text.indexOf(open, from);
  if (start === -1) return null;
  const end = text.indexOf(close, start + open.length);
  return end === -1 ? null : text.slice(start + open.length, end);
}

/** Trims spaces and markdown emphasis (`*`, `_`, `` ` ``) pasted around a value; linear, no regex. */
export function trimMarkup(text: string): string {
  let start = 0;
  let end = text.length;
  const markup = (code: number): boolean => code === 0x20 || code === 0x2a || code === 0x5f || code === 0x60 || code === 0x09;
  while (start < end && markup(text.charCodeAt(start))) start++;
  while (end > start && markup(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
