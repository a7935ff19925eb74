/**
 * request.log, every layout Nexus has used, told apart per line:
 *
 *   3.17+: %clientHost %l %user [%date] "%requestURL" %statusCode %header{Content-Length} %bytesSent %elapsedTime "%header{User-Agent}" [%thread]
 *   3.13+: the same without [%thread];  3.3+: without Content-Length;  older: without User-Agent
 *
 * Dates are `09/Apr/2026:14:23:42 +0000`, second precision, written when the request
 * COMPLETED: it started `elapsed` ms earlier.
 */

export interface RequestRecord {
  clientIp: string;
  /** null when logged as `-`. */
  user: string | null;
  method: string;
  path: string;
  status: number;
  /** ms */
  elapsed: number;
  /** Completion time, epoch ms (second precision). */
  time: number;
  userAgent: string | null;
  thread: string | null;
}

/** The file names request logs have (request.log and its rotations). */
export function isRequestLogName(name: string): boolean {
  return /(^|[/\\])request[^/\\]*\.log/.test(name);
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const HEAD = /^(\S+) \S+ (\S+) \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "(\S+) (\S+)[^"]*" (\d{3}) (.*)$/;
const TAIL = /^((?:\S+ ){1,2}?)(\d+)(?: "((?:[^"\\]|\\.)*)")?(?: \[(.+)\])?$/;

export function parseRequestLine(line: string): RequestRecord | undefined {
  const head = HEAD.exec(line);
  if (head === null) return undefined;
  const month = MONTHS[head[4] as string];
  if (month === undefined) return undefined;
  // After the status: [Content-Length] bytesSent elapsed ["User-Agent"] [[thread]]
  const tail = TAIL.exec(head[15] as string);
  if (tail === null) return undefined;
  const sign = head[9] === '-' ? -1 : 1;
  const offsetMinutes = sign * (Number(head[10]) * 60 + Number(head[11]));
  const time =
    Date.UTC(Number(head[5]), month, Number(head[3]), Number(head[6]), Number(head[7]), Number(head[8])) - offsetMinutes * 60_000;
  return {
    clientIp: head[1] as string,
    user: head[2] === '-' ? null : (head[2] as string),
    method: head[12] as string,
    path: head[13] as string,
    status: Number(head[14]),
    elapsed: Number(tail[2]),
    time,
    userAgent: tail[3] === undefined || tail[3] === '' ? null : tail[3],
    thread: tail[4] ?? null,
  };
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
