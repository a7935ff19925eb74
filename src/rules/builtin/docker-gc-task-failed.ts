/**
 * Rule `docker-gc-task-failed`: the Docker clean-up task failed on a repository, e.g.
 * `Failed to run task 'Purge unused docker manifests and images' on repository '<r>'` with
 * `V2Exception$ManifestInvalid: manifest invalid` (a 3.3 to 3.6.0 bug, shared reference).
 */
import type { DeclarativeRuleSpec } from '../declarative';

export const dockerGcTaskFailed: DeclarativeRuleSpec = {
  id: 'docker-gc-task-failed',
  title: 'Docker clean-up task failed on a repository',
  severity: 'warning',
  kind: 'single',
  levels: ['ERROR', 'WARN'],
  prefilter: ['Failed to run task'],
  match: {
    logger: 'DockerGCTask$',
    message: "^Failed to run task '(?<task>[^']+)' on repository '(?<repository>[^']+)'",
  },
  key: '{repository}',
  summary: "Task '{task}' failed on repository {repository}: unused Docker manifests and images there are not purged.",
  diagnosis: {
    cause: 'docker-gc-manifest-invalid',
    explanation:
      "The Docker clean-up task '{task}' stopped on repository {repository}. In Nexus 3.3 to 3.6.0 it fails with " +
      'V2Exception$ManifestInvalid ("manifest invalid") on a manifest it cannot parse, so nothing in that repository is purged ' +
      'and its blob store keeps growing. The stack trace in the evidence says which exception it was.',
    confidence: 'medium',
    remediation: [
      'If the stack trace shows V2Exception$ManifestInvalid: upgrade Nexus Repository past 3.6.0.',
      "Until then, watch the size of {repository}'s blob store; the task cannot clean it.",
      "Run the task again after the upgrade and check it ends with state change RUNNING -> WAITING (OK).",
    ],
    references: [{ title: 'docs/rules/docker-gc-task-failed.md', url: null }],
  },
};
