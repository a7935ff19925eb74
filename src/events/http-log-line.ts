/**
 * request.log and outbound-request.log lines, every layout Nexus has used:
 *
 *   request.log  3.17+: %clientHost %l %user [%date] "%requestURL" %statusCode %header{Content-Length} %bytesSent %elapsedTime "%header{User-Agent}" [%thread]
 *                3.13+: without [%thread];  3.3+: without Content-Length;  older: without User-Agent
 *   outbound-request.log (3.59+): [%date] %user "%method %url %protocol" %status %bytes %elapsed "%userAgent" [%thread]
 *
 * Dates are `09/Apr/2026:14:23:42 +0000`, second precision, written when the request COMPLETED.
 * Parsed by hand (no regex): a request log can be gigabytes, and a line a user controls (the
 * path, the user agent) must not cost more than its length.
 */
import type { OutboundEvent, RequestEvent } from './log-event';

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const QUOTE = 0x22;
const SPACE = 0x20;

function digit(code: number): number {
  const value = code - 0x30;
  return value >= 0 && value <= 9 ? value : -1;
}

/** `dd/MMM/yyyy:HH:mm:ss +zzzz` at text[at]: epoch ms, or NaN. */
export function parseAccessLogDate(text: string, at: number): number {
  if (text.length < at + 26 || text[at + 2] !== '/' || text[at + 6] !== '/' || text[at + 11] !== ':' || text[at + 20] !== ' ') return Number.NaN;
  const two = (i: number): number => {
    const a = digit(text.charCodeAt(at + i));
    const b = digit(text.charCodeAt(at + i + 1));
    return a < 0 || b < 0 ? Number.NaN : a * 10 + b;
  };
  const month = MONTHS[text.slice(at + 3, at + 6)];
  const year = two(7) * 100 + two(9);
  const sign = text[at + 21] === '-' ? -1 : text[at + 21] === '+' ? 1 : Number.NaN;
  const offset = sign * (two(22) * 60 + two(24));
  if (month === undefined) return Number.NaN;
  return Date.UTC(year, month, two(0), two(12), two(15), two(18)) - offset * 60_000;
}

/**
 * The status of an access-log line on raw bytes: the three digits after the first quoted field
 * (the request), or -1. For dispatch: no decode.
 */
export function statusOfLine(buf: Uint8Array, start: number, end: number): number {
  let at = start;
  while (at < end && buf[at] !== QUOTE) at++;
  for (at++; at < end; at++) {
    if (buf[at] !== QUOTE || buf[at + 1] !== SPACE) continue;
    const a = digit(buf[at + 2] as number);
    const b = digit(buf[at + 3] as number);
    const c = digit(buf[at + 4] as number);
    if (a >= 0 && b >= 0 && c >= 0 && (at + 5 >= end || buf[at + 5] === SPACE)) return a * 100 + b * 10 + c;
  }
  return -1;
}

/** The quoted request or URL field from text[open] (a quote): [content end, or -1]. */
function closingQuote(text: string, open: number): number {
  let at = open + 1;
  for (;;) {
    at = text.indexOf('" ', at);
    if (at === -1) return -1;
    if (digit(text.charCodeAt(at + 2)) >= 0) return at;
    at++;
  }
}

/** The fields after the status: numbers, then `"user agent"`, then `[thread]`. */
function tailFields(text: string, from: number): { numbers: string[]; userAgent: string | null; thread: string | null } {
  const numbers: string[] = [];
  let at = from;
  let userAgent: string | null = null;
  let thread: string | null = null;
  while (at < text.length) {
    while (text.charCodeAt(at) === SPACE) at++;
    if (at >= text.length) break;
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      let close = at + 1;
      while (close < text.length && !(text.charCodeAt(close) === QUOTE && text.charCodeAt(close - 1) !== 0x5c)) close++;
      userAgent = text.slice(at + 1, close);
      at = close + 1;
    } else if (code === 0x5b) {
      const close = text.lastIndexOf(']');
      thread = text.slice(at + 1, close > at ? close : text.length);
      break;
    } else {
      let next = text.indexOf(' ', at);
      if (next === -1) next = text.length;
      numbers.push(text.slice(at, next));
      at = next;
    }
  }
  return { numbers, userAgent: userAgent === '' || userAgent === '-' ? null : userAgent, thread };
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '-' || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

type Origin = { source: string; line: number; offset: number };

/** One request.log line; undefined when it is not one. */
export function parseRequestLine(text: string, origin: Origin = { source: '-', line: 0, offset: 0 }): RequestEvent | undefined {
  const ipEnd = text.indexOf(' ');
  if (ipEnd <= 0) return undefined;
  const identEnd = text.indexOf(' ', ipEnd + 1);
  const dateOpen = text.indexOf(' [', identEnd);
  if (identEnd === -1 || dateOpen === -1 || dateOpen < identEnd) return undefined;
  const time = parseAccessLogDate(text, dateOpen + 2);
  if (Number.isNaN(time) || text[dateOpen + 28] !== ']' || text[dateOpen + 30] !== '"') return undefined;
  const open = dateOpen + 30;
  const close = closingQuote(text, open);
  if (close === -1) return undefined;
  const request = text.slice(open + 1, close);
  const methodEnd = request.indexOf(' ');
  const pathEnd = methodEnd === -1 ? -1 : request.indexOf(' ', methodEnd + 1);
  const status = Number(text.slice(close + 2, close + 5));
  const tail = tailFields(text, close + 5);
  // [Content-Length] bytesSent elapsed: the last two numbers are bytes and elapsed.
  const n = tail.numbers.length;
  const user = text.slice(identEnd + 1, dateOpen);
  return {
    kind: 'request',
    ...origin,
    time,
    text,
    clientIp: text.slice(0, ipEnd),
    user: user === '-' ? null : user,
    method: methodEnd === -1 ? request : request.slice(0, methodEnd),
    path: methodEnd === -1 ? '' : request.slice(methodEnd + 1, pathEnd === -1 ? request.length : pathEnd),
    status,
    bytes: n >= 2 ? numberOrNull(tail.numbers[n - 2]) : null,
    elapsed: numberOrNull(tail.numbers[n - 1]) ?? 0,
    userAgent: tail.userAgent,
    thread: tail.thread,
  };
}

/** One outbound-request.log line; undefined when it is not one. */
export function parseOutboundLine(text: string, origin: Origin = { source: '-', line: 0, offset: 0 }): OutboundEvent | undefined {
  if (text.charCodeAt(0) !== 0x5b || text[27] !== ']') return undefined;
  const time = parseAccessLogDate(text, 1);
  if (Number.isNaN(time)) return undefined;
  const userEnd = text.indexOf(' "', 29);
  if (userEnd === -1) return undefined;
  const open = userEnd + 1;
  const close = closingQuote(text, open);
  if (close === -1) return undefined;
  const request = text.slice(open + 1, close);
  const methodEnd = request.indexOf(' ');
  const urlEnd = methodEnd === -1 ? -1 : request.indexOf(' ', methodEnd + 1);
  const tail = tailFields(text, close + 5);
  const user = text.slice(29, userEnd);
  return {
    kind: 'outbound',
    ...origin,
    time,
    text,
    user: user === '-' ? null : user,
    method: methodEnd === -1 ? request : request.slice(0, methodEnd),
    url: methodEnd === -1 ? '' : request.slice(methodEnd + 1, urlEnd === -1 ? request.length : urlEnd),
    status: Number(text.slice(close + 2, close + 5)),
    bytes: numberOrNull(tail.numbers[0]),
    elapsed: numberOrNull(tail.numbers[1]) ?? 0,
    userAgent: tail.userAgent,
    thread: tail.thread,
  };
}

/** Epoch ms of an access-log line (request or outbound), from its `[date]`; NaN when none. */
export function timeOfAccessLine(text: string): number {
  const open = text.indexOf('[');
  return open === -1 ? Number.NaN : parseAccessLogDate(text, open + 1);
}

export interface BlobPath {
  /** From `/repository/<name>/v2/...`; null on a connector port (`/v2/...`). */
  repository: string | null;
  image: string;
  digest: string;
}

const BLOB_PATH = /^(?:\/repository\/([^/]+))?\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})/;

export function parseBlobPath(path: string): BlobPath | undefined {
  const match = BLOB_PATH.exec(path);
  if (match === null) return undefined;
  return { repository: match[1] ?? null, image: match[2] as string, digest: match[3] as string };
}

/** `/repository/<name>/...` -> name; null for other paths. */
export function repositoryOfPath(path: string): string | null {
  if (!path.startsWith('/repository/')) return null;
  const end = path.indexOf('/', 12);
  return path.slice(12, end === -1 ? path.length : end) || null;
}
