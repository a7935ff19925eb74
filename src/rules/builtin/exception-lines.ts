/**
 * Reading the exception lines of an event (its `continuation`, stack frames already left out by
 * the events stage): which line is an exception, the root cause, and short forms for summaries.
 * Linear, no regex: a line a client controls must cost no more than its length.
 */
import type { AnyEvent } from '../../events/log-event';

/** The event's message and exception lines, for rules that search both. */
export function textsOf(event: AnyEvent): string[] {
  if (event.kind !== 'nexus' && event.kind !== 'task') return [event.text];
  return [event.message, ...event.continuation];
}

function isNameChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x2e || code === 0x24 || code === 0x5f
  );
}

/**
 * `Caused by: x.y.ZException: msg` or `x.y.ZException: msg` (leading spaces and a `Caused by: `
 * or `Suppressed: ` taken off) -> `x.y.ZException: msg`; null when the line is not an exception.
 * An exception is a class name (letters, digits, `.`, `$`, `_`) whose simple name holds
 * `Exception` or `Error` (or is `Throwable`), alone or followed by `: `.
 */
export function asException(line: string): string | null {
  let at = 0;
  while (at < line.length && (line.charCodeAt(at) === 0x20 || line.charCodeAt(at) === 0x09)) at++;
  if (line.startsWith('Caused by: ', at)) at += 11;
  else if (line.startsWith('Suppressed: ', at)) at += 12;
  let end = at;
  while (end < line.length && isNameChar(line.charCodeAt(end))) end++;
  if (end === at || (end < line.length && !line.startsWith(': ', end) && line.charCodeAt(end) !== 0x3a)) return null;
  const name = line.slice(at, end);
  const simple = name.slice(name.lastIndexOf('.') + 1);
  if (!simple.includes('Exception') && !simple.includes('Error') && simple !== 'Throwable') return null;
  if (!name.includes('.') && !simple.includes('Exception') && !simple.endsWith('Error')) return null;
  return line.slice(at).trimEnd();
}

/** The exception lines among `lines`, in order. */
export function exceptionsOf(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const exception = asException(line);
    if (exception !== null) out.push(exception);
  }
  return out;
}

/** The root cause: the last `Caused by:` exception, else the first exception line; null when none. */
export function rootCause(lines: readonly string[]): string | null {
  let first: string | null = null;
  let caused: string | null = null;
  for (const line of lines) {
    const exception = asException(line);
    if (exception === null) continue;
    first ??= exception;
    if (line.trimStart().startsWith('Caused by: ')) caused = exception;
  }
  return caused ?? first;
}

/** `org.x.V2Exception$ManifestInvalid: manifest invalid` -> `V2Exception$ManifestInvalid: manifest invalid`, cut to `max` characters. */
export function shortException(exception: string, max = 200): string {
  const colon = exception.indexOf(':');
  const name = colon === -1 ? exception : exception.slice(0, colon);
  const simple = name.slice(name.lastIndexOf('.') + 1);
  const short = simple + (colon === -1 ? '' : exception.slice(colon));
  return short.length > max ? `${short.slice(0, max - 3)}...` : short;
}

/** True when any of `texts` holds any of `needles`. */
export function anyHolds(texts: readonly string[], needles: readonly string[]): boolean {
  for (const text of texts) for (const needle of needles) if (text.includes(needle)) return true;
  return false;
}

/** The first text holding `needle`, or null. */
export function firstHolding(texts: readonly string[], needle: string): string | null {
  for (const text of texts) if (text.includes(needle)) return text;
  return null;
}

/** The text between `'` quotes right after `prefix` in `text` (e.g. `task '` -> the task), or null. */
export function quotedAfter(text: string, prefix: string, from = 0): string | null {
  const at = text.indexOf(prefix, from);
  if (at === -1) return null;
  const start = at + prefix.length;
  const end = text.indexOf("'", start);
  return end === -1 ? null : text.slice(start, end);
}
