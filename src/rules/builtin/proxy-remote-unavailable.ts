/**
 * Rule `proxy-remote-unavailable`: a proxy repository failing to fetch from its remote
 * (ProxyFacetSupport WARN `Exception {} checking remote for update, proxy repo {} failed to fetch
 * {}[ with status line {}], content not in cache.` or `, returning content from cache.`),
 * counted per repository while it goes on.
 *
 * Not yet: the INFO `Repository status for {} changed from {} to AUTO_BLOCKED...` lines. INFO is
 * too common to gate cheaply, and one more literal searched in every chunk costs ~0.2 s per GB
 * (docs/performance.md); it needs a cheaper way in first.
 */
import type { DeclarativeRuleSpec } from '../declarative';

export const proxyRemoteUnavailable: DeclarativeRuleSpec = {
  id: 'proxy-remote-unavailable',
  title: 'Proxy repository cannot reach its remote',
  severity: 'warning',
  kind: 'threshold',
  threshold: 1,
  windowMs: 5 * 60_000,
  levels: ['WARN'],
  prefilter: ['checking remote for update, proxy repo'],
  match: {
    message:
      '^Exception (?<exception>.+?) checking remote for update, proxy repo (?<repository>\\S+) failed to fetch (?<path>\\S+?)' +
      '(?: with status line (?<status>.+?))?, (?<outcome>content not in cache|returning content from cache)',
  },
  key: '{repository}',
  summary: 'Proxy repository {repository} cannot reach its remote: {count} failure(s); last: {exception}.',
  diagnosis: {
    cause: 'proxy-remote-unreachable',
    explanation:
      'Proxy repository {repository} could not fetch from its remote ({exception}); last path: {path}. ' +
      'Requests for content it does not have cached fail; cached content is served as it is.',
    confidence: 'medium',
    remediation: [
      'Check that Nexus can resolve and reach the remote of {repository}: DNS, HTTP proxy settings, firewall, TLS certificates, credentials.',
      "Look at the repository's status: an auto-blocked repository stops asking its remote for a while; unblock it once the remote is back.",
      'If the remote is another Nexus or a registry with rate limits, check its side (status line: {status}).',
    ],
    references: [{ title: 'docs/rules/proxy-remote-unavailable.md', url: null }],
  },
};
