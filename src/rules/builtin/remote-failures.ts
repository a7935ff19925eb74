/**
 * Why a proxy repository's remote failed, from the text Nexus logs (the exception of a fetch,
 * or the reason of a status change): the class decides the fix. Shared by the proxy rules.
 *
 * PX-3 (np:BlockingHttpClient): I/O errors read `{exceptionClass}: {message}`; an untrusted
 * certificate `Untrusted Remote`; HTTP errors their reason phrase (`Unauthorized`, `Service
 * Unavailable`) or `Unrecognized HTTP error, code {n}`.
 */
import type { Reference } from '../rule';

export type RemoteFailure =
  | 'tls-untrusted'
  | 'tls-handshake'
  | 'dns'
  | 'timeout'
  | 'refused'
  | 'connection-reset'
  | 'auth'
  | 'forbidden'
  | 'url-invalid'
  | 'rate-limited'
  | 'remote-5xx'
  | 'remote-http-error'
  | 'invalid-content'
  | 'io-error';

const STATUS = /\b([1-5]\d\d)\b/;

/** The host (and port) of an absolute URL and its path with the query, or null when it is not one: how the proxy rules name remotes. */
export function urlParts(url: string): { host: string; path: string } | null {
  try {
    const parsed = new URL(url);
    return { host: parsed.host, path: `${parsed.pathname}${parsed.search}` };
  } catch {
    return null; // a relative or odd URL
  }
}

/** The class of a remote failure from its text. */
export function classifyRemoteFailure(text: string): RemoteFailure {
  // The upstream URL cannot even be built (a path with a colon read as a URI scheme, NEXUS raw/yum proxies).
  if (text.includes('URI does not specify a valid host name') || text.includes('Illegal character in scheme name') || text.includes('URISyntaxException')) return 'url-invalid';
  if (text.includes('PKIX path building failed') || text.includes('SunCertPathBuilderException') || text.includes('Untrusted Remote') || text.includes('SSLPeerUnverifiedException') || text.includes('unable to find valid certification path')) {
    return 'tls-untrusted';
  }
  if (text.includes('SSLHandshakeException') || text.includes('SSLException') || text.includes('handshake_failure')) return 'tls-handshake';
  if (text.includes('UnknownHostException') || text.includes('Name or service not known') || text.includes('nodename nor servname')) return 'dns';
  if (text.includes('BypassHttpErrorException')) return 'remote-http-error';
  if (/\b(?:401|407)\b/.test(text) || text.includes('Unauthorized') || text.includes('Proxy Authentication Required')) return 'auth';
  if (/\b429\b/.test(text) || text.includes('Too Many Requests')) return 'rate-limited';
  if (/\b403\b/.test(text) || text.includes('Forbidden')) return 'forbidden';
  if (text.includes('SocketTimeoutException') || text.includes('ConnectTimeoutException') || text.includes('timed out') || text.includes('ConnectionPoolTimeoutException')) return 'timeout';
  if (text.includes('Connection refused') || text.includes('HttpHostConnectException') || text.includes('NoRouteToHostException')) return 'refused';
  if (text.includes('Connection reset') || text.includes('NoHttpResponseException') || text.includes('Broken pipe') || text.includes('failed to respond')) return 'connection-reset';
  const status = STATUS.exec(text.includes('HTTP/') ? text.slice(text.indexOf('HTTP/')) : text);
  if (text.includes('Service Unavailable') || text.includes('Bad Gateway') || text.includes('Gateway Timeout') || text.includes('Internal Server Error') || (status !== null && text.includes('HTTP/') && (status[1] as string).startsWith('5'))) {
    return 'remote-5xx';
  }
  if (text.includes('invalid header field') || text.includes('Invalid content') || text.includes('JsonParseException') || text.includes('Unexpected character') || text.includes('ZipException')) return 'invalid-content';
  return 'io-error';
}

export interface FailureAdvice {
  /** Stable cause id for the diagnosis. */
  cause: string;
  /** What it means, for an operator. */
  meaning: string;
  remediation: string[];
  references?: Reference[];
}

/** What a class of remote failure means and how to fix it; `remote` names the repository or URL. */
export function adviceFor(failure: RemoteFailure, remote: string): FailureAdvice {
  switch (failure) {
    case 'tls-untrusted':
      return {
        cause: 'remote-tls-untrusted',
        meaning: `Nexus does not trust the TLS certificate ${remote} presents (PKIX path building failed): often a TLS-intercepting corporate proxy, or a private CA.`,
        remediation: [
          `Add the remote's CA (or the intercepting proxy's CA) to the Nexus truststore: Administration > Security > SSL Certificates > Load from server, then enable "Use the Nexus Repository truststore" on the repository's HTTP settings.`,
          'Check that the system clock is right and that the certificate has not expired.',
        ],
        references: [{ title: 'Sonatype support: PKIX path building failed (article 23899141705363)', url: null }],
      };
    case 'tls-handshake':
      return {
        cause: 'remote-tls-handshake',
        meaning: `The TLS handshake with ${remote} failed: protocol or cipher mismatch, SNI, or a client certificate the remote expects.`,
        remediation: ['Check the remote URL and that the remote supports the TLS versions of the JVM Nexus runs on.', 'Check the outbound HTTP proxy settings (Administration > System > HTTP).'],
      };
    case 'dns':
      return {
        cause: 'remote-dns',
        meaning: `Nexus cannot resolve the host name of ${remote} (UnknownHostException).`,
        remediation: ['Check the remote URL for typos and the DNS resolver of the Nexus host or container.', 'If outbound traffic must go through an HTTP proxy, set it under Administration > System > HTTP.'],
      };
    case 'timeout':
      return {
        cause: 'remote-timeout',
        meaning: `${remote} did not answer in time (connect or read timeout): the remote is slow or unreachable, or a firewall drops the traffic.`,
        remediation: [
          'Check that the Nexus host can reach the remote (curl from the Nexus host or container, through the configured HTTP proxy if any).',
          'Raise the repository\'s HTTP timeout (HTTP client settings) if the remote is only slow.',
        ],
      };
    case 'refused':
      return {
        cause: 'remote-refused',
        meaning: `${remote} refused the connection: nothing listens on that host and port, or a firewall rejects it.`,
        remediation: ['Check the remote URL (host and port) and that the service is up.', 'Check firewalls and the outbound HTTP proxy settings.'],
      };
    case 'connection-reset':
      return {
        cause: 'remote-connection-reset',
        meaning: `The connection to ${remote} was dropped mid-request (reset, no response): an idle-connection timeout on a proxy or load balancer, or an overloaded remote.`,
        remediation: ['Check proxies and load balancers between Nexus and the remote for idle timeouts.', 'If it is rare, it is harmless: Nexus retries.'],
      };
    case 'auth':
      return {
        cause: 'remote-auth',
        meaning: `${remote} refused the credentials (401 Unauthorized or 407 Proxy Authentication Required): missing, expired or wrong.`,
        remediation: [
          'Set or renew the remote credentials on the repository (HTTP > Authentication), or the HTTP proxy credentials under Administration > System > HTTP for 407.',
          'For registries with tokens (Docker Hub, vendors), check the token has not expired and has read access.',
        ],
      };
    case 'forbidden':
      return {
        cause: 'remote-forbidden',
        meaning:
          `${remote} answered 403 Forbidden: it is reachable and refused these requests. Nexus logs no warning for it and does not block the repository; ` +
          'clients only get 404. Usual reasons: the remote rejects what Nexus sends (its User-Agent, an IP range, a missing token), or it serves 403 for paths that do not exist (S3 and CloudFront buckets).',
        remediation: [
          'Fetch one of the paths with curl from the Nexus host, once as is and once with the User-Agent Nexus sends (outbound-request.log shows it): a difference points at the remote\'s filtering.',
          'If the remote needs credentials or an API key, set them on the repository (HTTP > Authentication, or custom headers); if only some paths fail, check they exist upstream.',
        ],
      };
    case 'url-invalid':
      return {
        cause: 'remote-url-invalid',
        meaning: `Nexus could not build a valid upstream URL for ${remote}: a requested path holds a character (often a colon) that turns it into another URI scheme or host. The remote is fine; no request left Nexus.`,
        remediation: [
          'Check the requested paths (a colon in a file name, e.g. core:/stable:/v1.28 or pkg-1:5.7.tar.zst): this Nexus version does not proxy such paths for this format: look for a Nexus release that does, or serve those files from a hosted repository.',
        ],
      };
    case 'rate-limited':
      return {
        cause: 'remote-rate-limited',
        meaning: `${remote} is rate-limiting Nexus (429 Too Many Requests).`,
        remediation: ['Authenticate to the remote (authenticated pulls get higher limits, e.g. Docker Hub).', 'Raise the cache times (metadata and component max age) so Nexus asks the remote less often.'],
      };
    case 'remote-5xx':
      return {
        cause: 'remote-server-error',
        meaning: `${remote} answered with server errors (5xx): the remote, or a proxy in front of it, is failing.`,
        remediation: ['Check the remote\'s status; nothing to fix in Nexus if the remote is down.', 'If a proxy or gateway answers 502/504, check it.'],
      };
    case 'remote-http-error':
      return {
        cause: 'remote-http-error',
        meaning:
          `${remote} answered the request with an HTTP error (BypassHttpErrorException): it is reachable, but refused this request, ` +
          'usually because the image or path does not exist upstream, or because the remote needs credentials for it. This is not a network outage.',
        remediation: [
          'Check that the requested image and tag (or path) exist on the remote, spelled as requested (Docker Hub official images are library/<name>).',
          'If the remote needs authentication for it, set the credentials on the repository (HTTP > Authentication).',
        ],
      };
    case 'invalid-content':
      return {
        cause: 'remote-invalid-content',
        meaning: `${remote} answered, but Nexus could not read what it sent (invalid content): the remote is not of the repository's format, or sent an error page.`,
        remediation: ['Check the remote URL points at a repository of the right format (not a web page or another format).', 'Fetch one of the failing paths with curl and look at what the remote sends.'],
      };
    case 'io-error':
      return {
        cause: 'remote-io-error',
        meaning: `Fetching from ${remote} failed with an I/O error.`,
        remediation: ['Check the network path from Nexus to the remote (curl from the Nexus host), and the outbound HTTP proxy settings.'],
      };
  }
}

/** A short phrase for the class, for summaries. */
export function failurePhrase(failure: RemoteFailure): string {
  const phrases: Record<RemoteFailure, string> = {
    'tls-untrusted': 'untrusted TLS certificate',
    'tls-handshake': 'TLS handshake failure',
    dns: 'unknown host',
    timeout: 'timeouts',
    refused: 'connection refused',
    'connection-reset': 'dropped connections',
    auth: 'credentials refused',
    forbidden: 'forbidden (403)',
    'url-invalid': 'invalid upstream URL',
    'rate-limited': 'rate limited',
    'remote-5xx': 'remote server errors',
    'remote-http-error': 'HTTP errors from the remote',
    'invalid-content': 'unreadable content',
    'io-error': 'I/O errors',
  };
  return phrases[failure];
}
