/**
 * outbound-request.log (3.59+): the requests Nexus itself sent to remotes.
 *
 *   [dd/MMM/yyyy:HH:mm:ss Z] <user> "<METHOD> <absolute url> HTTP/1.1" <status> <bytes> <ms> "<user agent>" [<thread>]
 */

export interface OutboundRecord {
  /** Completion time, epoch ms (second precision). */
  time: number;
  user: string | null;
  method: string;
  url: string;
  status: number;
  bytes: number | null;
  elapsed: number;
  userAgent: string | null;
  thread: string | null;
}

export function isOutboundLogName(name: string): boolean {
  return /(^|[/\\])outbound-request[^/\\]*\.log/.test(name);
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const LINE =
  /^\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] (\S+) "(\S+) (\S+)[^"]*" (\d{3}) (\S+) (\d+)(?: "((?:[^"\\]|\\.)*)")?(?: \[(.+)\])?$/;

export function parseOutboundLine(line: string): OutboundRecord | undefined {
  const m = LINE.exec(line);
  if (m === null) return undefined;
  const month = MONTHS[m[2] as string];
  if (month === undefined) return undefined;
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return {
    time: Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000,
    user: m[10] === '-' ? null : (m[10] as string),
    method: m[11] as string,
    url: m[12] as string,
    status: Number(m[13]),
    bytes: m[14] === '-' ? null : Number(m[14]),
    elapsed: Number(m[15]),
    userAgent: m[16] === undefined || m[16] === '' ? null : m[16],
    thread: m[17] ?? null,
  };
}
