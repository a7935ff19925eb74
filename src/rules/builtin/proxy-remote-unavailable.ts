/**
 * Rule `proxy-remote-unavailable` (optional, `--rule proxy-remote-unavailable`): a proxy
 * repository failing to fetch from its remote (ProxyFacetSupport WARN `Exception {} checking
 * remote for update, proxy repo {} failed to fetch {}[ with status line {}], content not in
 * cache.` or `, returning content from cache.`), or auto-blocked (HttpClientFacetImpl INFO
 * `Repository status for {} changed from {} to AUTO_BLOCKED... - reason {}`), counted per
 * repository while it goes on. Reading INFO lines means its literals are searched in every
 * chunk (INFO is too common to gate): one reason it is optional (docs/performance.md).
 */
import type { DeclarativeRuleSpec } from '../declarative';

export const proxyRemoteUnavailable: DeclarativeRuleSpec = {
  id: 'proxy-remote-unavailable',
  title: 'Proxy repository cannot reach its remote',
  severity: 'warning',
  kind: 'threshold',
  threshold: 1,
  windowMs: 5 * 60_000,
  levels: ['WARN', 'INFO'],
  prefilter: ['checking remote for update, proxy repo', 'Repository status for'],
  match: {
    message:
      '^(?:Exception (?<exception>.+?) checking remote for update, proxy repo (?<repository>\\S+) failed to fetch (?<path>\\S+?)' +
      '(?: with status line (?<status>.+?))?, (?<outcome>content not in cache|returning content from cache)' +
      '|Repository status for (?<blocked>\\S+) changed from \\S+ to (?<to>AUTO_BLOCKED\\S*) - reason (?<reason>.*))',
  },
  key: '{repository|blocked}',
  summary: 'Proxy repository {repository|blocked} cannot reach its remote: {count} failure(s) or block(s); last: {exception|reason}.',
  diagnosis: {
    cause: 'proxy-remote-unreachable',
    explanation:
      'Proxy repository {repository|blocked} could not fetch from its remote ({exception|reason}); last path: {path}. ' +
      'Requests for content it does not have cached fail; cached content is served as it is.',
    confidence: 'medium',
    remediation: [
      'Check that Nexus can resolve and reach the remote of {repository|blocked}: DNS, HTTP proxy settings, firewall, TLS certificates, credentials.',
      "Look at the repository's status: an auto-blocked repository stops asking its remote for a while; unblock it once the remote is back.",
      'If the remote is another Nexus or a registry with rate limits, check its side (status line: {status}).',
    ],
    references: [{ title: 'docs/rules/proxy-remote-unavailable.md', url: null }],
  },
};
