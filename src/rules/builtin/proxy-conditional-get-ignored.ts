/**
 * Rule `proxy-conditional-get-ignored` (NEXUS-13363): a proxy revalidates a cached layer with a
 * conditional GET (`If-Modified-Since` / `If-None-Match`) and the remote answers `200` with the
 * whole blob instead of `304 Not Modified`, so unchanged, immutable layers are downloaded again.
 *
 * From Apache HttpClient's header log (org.apache.http.headers at DEBUG), one line per header,
 * per connection:
 *
 *   http-outgoing-5 >> GET /v2/library/nginx/blobs/sha256:... HTTP/1.1
 *   http-outgoing-5 >> Host: nexus-a.example.com:14440
 *   http-outgoing-5 >> If-Modified-Since: Wed, 10 May 2017 09:00:00 GMT
 *   http-outgoing-5 << HTTP/1.1 200 OK
 *   http-outgoing-5 << Content-Length: 52428800
 *
 * or from outbound-request.log (3.59+): the same blob URL downloaded in full (200) more than
 * once. One incident per node (header log) or remote (outbound log) while it goes on.
 */
import { thousands } from '../../format-number';
import type { AnyEvent } from '../../events/log-event';
import type { Rule } from '../rule';
import { listOf, plural } from './wording';
import { urlParts } from './remote-failures';

export const PROXY_CONDITIONAL_GET_IGNORED = 'proxy-conditional-get-ignored';

const CONNECTION = 'http-outgoing-';
const BLOBS = '/blobs/sha256:';
/** Exchanges in flight remembered per node. */
const MAX_EXCHANGES = 256;

type Signal =
  | { kind: 'header'; connection: string; direction: '>>' | '<<'; line: string }
  | { kind: 'download'; host: string; url: string; bytes: number | null };

interface Exchange {
  path: string | null;
  host: string | null;
  conditional: string | null;
  status: number | null;
}

interface State {
  source: 'headers' | 'outbound';
  exchanges: Record<string, Exchange>;
  /** Wasted downloads by remote host. */
  wasted: Record<string, { count: number; bytes: number; digests: string[] }>;
  conditional: string | null;
  host: string | null;
  /** outbound: bytes of all the downloads, and of the first of each URL is not known: counted at describe. */
  bytes: number;
}

function digestOf(path: string): string | null {
  const at = path.indexOf(BLOBS);
  return at === -1 ? null : path.slice(at + 7, at + 7 + 71);
}

function wasteOf(state: State, exchange: Exchange, bytes: number | null): void {
  if (exchange.conditional === null || exchange.status !== 200 || exchange.path === null) return;
  const digest = digestOf(exchange.path);
  if (digest === null) return;
  const host = exchange.host ?? 'the remote';
  const entry = state.wasted[host] ?? { count: 0, bytes: 0, digests: [] };
  entry.count++;
  entry.bytes += bytes ?? 0;
  if (entry.digests.length < 10 && !entry.digests.includes(digest)) entry.digests.push(digest);
  state.wasted[host] = entry;
  state.conditional ??= exchange.conditional;
}

export const proxyConditionalGetIgnored: Rule<Signal, State> = {
  id: PROXY_CONDITIONAL_GET_IGNORED,
  title: 'Conditional GET of a cached layer answered 200: unchanged layers downloaded again',
  severity: 'warning',
  category: 'proxy',
  reads: [
    // Header lines exist only while org.apache.http.headers logs at DEBUG.
    { levels: ['DEBUG'], loggers: ['org.apache.http.headers'], literals: [{ text: CONNECTION, at: 'start' }] },
    { input: 'outbound', statuses: [[200, 200]], literals: [BLOBS] },
  ],
  windowMs: 60 * 60_000,
  distinctLimit: 10,

  match(event: AnyEvent) {
    if (event.kind === 'outbound') {
      if (event.method !== 'GET') return undefined;
      const host = urlParts(event.url)?.host ?? 'the remote';
      return { kind: 'download', host, url: event.url, bytes: event.bytes };
    }
    if (event.kind !== 'nexus' || !event.message.startsWith(CONNECTION)) return undefined;
    const space = event.message.indexOf(' ');
    const direction = event.message.slice(space + 1, space + 3);
    if (space === -1 || (direction !== '>>' && direction !== '<<')) return undefined;
    return { kind: 'header', connection: event.message.slice(0, space), direction, line: event.message.slice(space + 4) };
  },

  key(signal, event) {
    if (signal.kind === 'download') return `outbound\u0000${signal.host}`;
    return event.kind === 'nexus' ? (event.node ?? '') : '';
  },

  open(signal) {
    return { source: signal.kind === 'download' ? 'outbound' : 'headers', exchanges: {}, wasted: {}, conditional: null, host: signal.kind === 'download' ? signal.host : null, bytes: 0 };
  },

  distinct(signal) {
    return signal.kind === 'download' ? { url: signal.url } : undefined;
  },

  add(state, signal) {
    if (signal.kind === 'download') {
      state.bytes += signal.bytes ?? 0;
      return;
    }
    const { connection, direction, line } = signal;
    if (direction === '>>') {
      if (line.startsWith('GET ') || line.startsWith('HEAD ')) {
        // A connection is reused: its next request starts a new exchange.
        const path = line.slice(line.indexOf(' ') + 1, line.lastIndexOf(' HTTP/') === -1 ? line.length : line.lastIndexOf(' HTTP/'));
        if (!(connection in state.exchanges) && Object.keys(state.exchanges).length >= MAX_EXCHANGES) delete state.exchanges[Object.keys(state.exchanges)[0] as string];
        state.exchanges[connection] = { path, host: null, conditional: null, status: null };
        return;
      }
      const exchange = state.exchanges[connection];
      if (exchange === undefined) return;
      const lower = line.slice(0, 20).toLowerCase();
      if (lower.startsWith('host:')) exchange.host = line.slice(5).trim();
      else if (lower.startsWith('if-modified-since:') || lower.startsWith('if-none-match:')) exchange.conditional = line;
      return;
    }
    const exchange = state.exchanges[connection];
    if (exchange === undefined) return;
    if (line.startsWith('HTTP/')) {
      exchange.status = Number(line.slice(line.indexOf(' ') + 1, line.indexOf(' ') + 4));
      if (exchange.status !== 200) delete state.exchanges[connection]; // a 304 (or an error) needs nothing more
    } else if (line.toLowerCase().startsWith('content-length:')) {
      wasteOf(state, exchange, Number(line.slice(15).trim()));
      delete state.exchanges[connection];
    }
  },

  describe(state, group) {
    if (state.source === 'outbound') {
      const urls = group.distinct.url ?? { values: [], total: 0 };
      const again = group.count - urls.total;
      if (again <= 0 || urls.capped === true) return null;
      const host = state.host ?? 'the remote';
      return {
        subject: { type: 'remote', name: host },
        fingerprint: [host],
        summary: `${host} sent ${plural(again, 'layer')} in full again that Nexus had already downloaded (${plural(urls.total, 'blob URL')} fetched ${group.count} times).`,
        facts: { remote: host, 'downloads again': again, 'blob URLs': urls.total },
        diagnosis: diagnosis(host, 'fetched it again'),
      };
    }
    const hosts = Object.entries(state.wasted);
    if (hosts.length === 0) return null;
    hosts.sort((a, b) => b[1].count - a[1].count);
    const [host, waste] = hosts[0] as [string, { count: number; bytes: number; digests: string[] }];
    const total = hosts.reduce((sum, [, w]) => sum + w.count, 0);
    const bytes = hosts.reduce((sum, [, w]) => sum + w.bytes, 0);
    return {
      subject: { type: 'remote', name: host },
      fingerprint: hosts.map(([h]) => h).sort(),
      summary: `${host} answered ${plural(total, 'conditional GET')} of cached layers with 200: ${bytes > 0 ? `${thousands(bytes)} bytes` : 'whole layers'} downloaded again instead of 304 Not Modified.`,
      facts: { remote: host, 'layers downloaded again': total, bytes, layers: waste.digests.map((d) => d.slice(0, 19)), ...(hosts.length > 1 ? { 'other remotes': listOf(hosts.slice(1).map(([h]) => h)) } : {}) },
      diagnosis: diagnosis(host, `sent it again after ${state.conditional ?? 'a conditional GET'}`),
    };
  },
};

function diagnosis(remote: string, what: string) {
  return {
    cause: 'conditional-get-answered-200',
    explanation:
      `The proxy revalidated a cached layer and ${remote} ${what} (200) instead of 304 Not Modified. ` +
      'Layers are immutable by digest, so every revalidation downloads unchanged content again. Known when the remote is ' +
      'another Nexus Repository 3.2.1 to 3.3.1 (NEXUS-13363, fixed in 3.5.0).',
    confidence: 'medium' as const,
    remediation: [
      `If ${remote} is a Nexus Repository older than 3.5.0, upgrade it.`,
      "Set the proxy repository's component max age to -1 for Docker layers: content addressed by digest never changes, so it never needs revalidating.",
    ],
    references: [{ title: 'NEXUS-13363: Conditional GET requests for Docker image layers always download the layer when proxying another Nexus', url: null }],
  };
}
