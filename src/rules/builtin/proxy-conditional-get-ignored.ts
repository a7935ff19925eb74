/**
 * Rule `proxy-conditional-get-ignored` (NEXUS-13363): a proxy revalidates a cached layer with a
 * conditional GET (`If-Modified-Since` / `If-None-Match`) and the remote answers `200` with the
 * whole blob instead of `304 Not Modified`, so unchanged, immutable layers are downloaded again.
 *
 * Read from Apache HttpClient's header log (org.apache.http.headers at DEBUG), one line per
 * header, per connection:
 *
 *   http-outgoing-5 >> GET /v2/library/nginx/blobs/sha256:... HTTP/1.1
 *   http-outgoing-5 >> Host: nexus-a.example.com:14440
 *   http-outgoing-5 >> If-Modified-Since: Wed, 10 May 2017 09:00:00 GMT
 *   http-outgoing-5 << HTTP/1.1 200 OK
 *   http-outgoing-5 << Content-Length: 52428800
 *
 * Each exchange is a group keyed by node, thread and connection; one answered 200 to a
 * conditional request for a blob is an incident, with the remote, the digest and the bytes.
 */
import { toIsoUtc } from '../../events/timestamp';
import { INCIDENT_SCHEMA_VERSION, type CloseReason, type Evidence, type Incident } from '../../incidents/incident';
import { stableHash } from '../../incidents/stable-hash';
import type { CorrelationRule, GroupSpan } from '../rule';

export const PROXY_CONDITIONAL_GET_IGNORED = 'proxy-conditional-get-ignored';

export interface ConditionalGetIncident extends Incident {
  rule: typeof PROXY_CONDITIONAL_GET_IGNORED;
  /** The `Host` the request went to. */
  remote: string | null;
  path: string;
  digest: string | null;
  /** The conditional header sent, e.g. `If-Modified-Since: Wed, 10 May 2017 09:00:00 GMT`. */
  conditional: string;
  status: number;
  /** Content-Length of the 200: the bytes downloaded again; null when not logged. */
  bytes: number | null;
}

type Signal =
  | { kind: 'request'; connection: string; method: string; path: string }
  | { kind: 'host'; connection: string; host: string }
  | { kind: 'conditional'; connection: string; header: string }
  | { kind: 'status'; connection: string; status: number }
  | { kind: 'length'; connection: string; bytes: number };

interface Exchange {
  node: string | null;
  thread: string;
  user: string | null;
  method: string | null;
  path: string | null;
  host: string | null;
  conditional: string | null;
  status: number | null;
  bytes: number | null;
  evidence: Evidence[];
}

const LINE = /^(http-outgoing-\d+) (>>|<<) (.*)$/;
const REQUEST = /^(GET|HEAD) (\S+) HTTP\/[\d.]+$/;
const HEADER = /^([\w-]+): (.*)$/;
const STATUS = /^HTTP\/[\d.]+ (\d{3})\b/;
const DIGEST = /\/blobs\/(sha256:[0-9a-f]{64})/;

export function proxyConditionalGetIgnoredRule(): CorrelationRule<Signal, Exchange> {
  return {
    id: PROXY_CONDITIONAL_GET_IGNORED,
    title: 'Conditional GET of a cached layer answered 200: unchanged layers downloaded again',
    severity: 'warning',
    // One literal searched per chunk, not gated on DEBUG: DEBUG lines can be a quarter of a log,
    // and a per-line search of six literals there cost 5 s per GB (docs/performance.md).
    // Header lines exist only while org.apache.http.headers logs at DEBUG.
    prefilter: ['http-outgoing-'],
    windowMs: 5_000,

    match(event) {
      const line = LINE.exec(event.message);
      if (line === null) return undefined;
      const [, connection, direction, rest] = line as unknown as [string, string, string, string];
      if (direction === '>>') {
        const request = REQUEST.exec(rest);
        if (request !== null) return { kind: 'request', connection, method: request[1] as string, path: request[2] as string };
        const header = HEADER.exec(rest);
        if (header === null) return undefined;
        const name = (header[1] as string).toLowerCase();
        if (name === 'host') return { kind: 'host', connection, host: header[2] as string };
        if (name === 'if-modified-since' || name === 'if-none-match') return { kind: 'conditional', connection, header: rest };
        return undefined;
      }
      const status = STATUS.exec(rest);
      if (status !== null) return { kind: 'status', connection, status: Number(status[1]) };
      const header = HEADER.exec(rest);
      if (header !== null && (header[1] as string).toLowerCase() === 'content-length') return { kind: 'length', connection, bytes: Number(header[2]) };
      return undefined;
    },

    keyOf(signal, event) {
      return `${event.node ?? ''}\u0000${event.thread}\u0000${signal.connection}`;
    },

    open(_signal, event) {
      return { node: event.node, thread: event.thread, user: event.user, method: null, path: null, host: null, conditional: null, status: null, bytes: null, evidence: [] };
    },

    // A connection is reused: its next request starts a new exchange.
    continues: (exchange, signal) => !(signal.kind === 'request' && exchange.method !== null),

    add(exchange, signal, event) {
      if (exchange.evidence.length < 16) exchange.evidence.push({ source: event.source, line: event.line, offset: event.offset, text: event.text });
      switch (signal.kind) {
        case 'request':
          exchange.method = signal.method;
          exchange.path = signal.path;
          return false;
        case 'host':
          exchange.host = signal.host;
          return false;
        case 'conditional':
          exchange.conditional = signal.header;
          return false;
        case 'status':
          exchange.status = signal.status;
          return signal.status !== 200; // a 304 (or an error) needs nothing more
        case 'length':
          exchange.bytes = signal.bytes;
          return exchange.status !== null;
      }
    },

    toIncident(exchange, reason, span) {
      const wasted = exchange.conditional !== null && exchange.status === 200 && exchange.path !== null && DIGEST.test(exchange.path);
      return wasted ? buildIncident(exchange, reason, span) : null;
    },
  };
}

/** One full download of a blob URL, from outbound-request.log. */
export interface BlobDownload {
  time: number;
  bytes: number | null;
  thread: string | null;
  evidence: Evidence;
}

/**
 * The same immutable blob URL downloaded in full (200) more than once, seen in
 * outbound-request.log: the layer was fetched again although it cannot have changed.
 */
export function redownloadIncident(url: string, downloads: readonly BlobDownload[]): ConditionalGetIncident {
  let remote: string | null = null;
  let path = url;
  try {
    const parsed = new URL(url);
    remote = parsed.host;
    path = parsed.pathname;
  } catch {
    // a relative or odd URL: keep it whole
  }
  const digest = DIGEST.exec(path)?.[1] ?? null;
  const again = downloads.slice(1);
  const known = again.filter((d) => d.bytes !== null);
  const bytes = known.length === 0 ? null : known.reduce((sum, d) => sum + (d.bytes as number), 0);
  const first = downloads[0] as BlobDownload;
  const last = downloads[downloads.length - 1] as BlobDownload;
  const size = bytes === null ? 'the whole blob each time' : `${bytes} bytes`;
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: stableHash([PROXY_CONDITIONAL_GET_IGNORED, 'outbound', url, first.time]),
    fingerprint: stableHash([PROXY_CONDITIONAL_GET_IGNORED, remote, digest]),
    rule: PROXY_CONDITIONAL_GET_IGNORED,
    severity: 'warning',
    lifecycle: 'closed',
    revision: downloads.length,
    occurrences: 1,
    summary: `${remote ?? 'A remote'} sent layer ${digest ?? path} in full ${downloads.length} times: ${size} downloaded again.`,
    firstSeen: toIsoUtc(first.time),
    lastSeen: toIsoUtc(last.time),
    closeReason: 'end-of-input',
    node: null,
    thread: first.thread,
    user: null,
    remote,
    path,
    digest,
    conditional: 'not logged (outbound-request.log)',
    status: 200,
    bytes,
    evidence: downloads.slice(0, 32).map((d) => d.evidence),
    evidenceOmitted: Math.max(0, downloads.length - 32),
    diagnosis: {
      ...conditionalGetDiagnosis(remote, 'fetched it again'),
      evidence: downloads.slice(0, 32).map((_d, index) => index),
    },
  };
}

function conditionalGetDiagnosis(remote: string | null, what: string): Omit<ConditionalGetIncident['diagnosis'], 'evidence'> {
  return {
    cause: 'conditional-get-answered-200',
    explanation:
      `The proxy revalidated a cached layer and ${remote ?? 'the remote'} ${what} (200) instead of 304 Not Modified. ` +
      'Layers are immutable by digest, so every revalidation downloads unchanged content again. Known when the remote is ' +
      'another Nexus Repository 3.2.1 to 3.3.1 (NEXUS-13363, fixed in 3.5.0).',
    confidence: 'medium',
    remediation: [
      `If ${remote ?? 'the remote'} is a Nexus Repository older than 3.5.0, upgrade it.`,
      "Set the proxy repository's component max age to -1 for Docker layers: content addressed by digest never changes, so it never needs revalidating.",
    ],
    references: [
      { title: 'NEXUS-13363: Conditional GET requests for Docker image layers always download the layer when proxying another Nexus', url: null },
      { title: 'docs/rules/proxy-conditional-get-ignored.md', url: null },
    ],
  };
}

function buildIncident(exchange: Exchange, reason: CloseReason | null, span: GroupSpan): ConditionalGetIncident {
  const path = exchange.path as string;
  const digest = DIGEST.exec(path)?.[1] ?? null;
  const remote = exchange.host;
  const size = exchange.bytes === null ? 'the whole blob' : `${exchange.bytes} bytes`;
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: stableHash([PROXY_CONDITIONAL_GET_IGNORED, exchange.node, exchange.thread, span.firstTime, path]),
    fingerprint: stableHash([PROXY_CONDITIONAL_GET_IGNORED, remote, digest]),
    rule: PROXY_CONDITIONAL_GET_IGNORED,
    severity: 'warning',
    lifecycle: 'closed',
    revision: 0,
    occurrences: 1,
    summary: `${remote ?? 'The remote'} answered a conditional GET of layer ${digest ?? path} with 200: ${size} downloaded again instead of 304 Not Modified.`,
    firstSeen: toIsoUtc(span.firstTime),
    lastSeen: toIsoUtc(span.lastTime),
    closeReason: reason,
    node: exchange.node,
    thread: exchange.thread,
    user: exchange.user,
    remote,
    path,
    digest,
    conditional: exchange.conditional as string,
    status: 200,
    bytes: exchange.bytes,
    evidence: exchange.evidence.slice(),
    evidenceOmitted: 0,
    diagnosis: {
      ...conditionalGetDiagnosis(remote, `sent it again after ${exchange.conditional as string}`),
      evidence: exchange.evidence.map((_line, index) => index),
    },
  };
}
