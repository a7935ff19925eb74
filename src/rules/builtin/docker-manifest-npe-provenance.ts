/**
 * Rule `docker-manifest-npe-provenance`: a manifest PUT that fails with
 * `NullPointerException: Cannot get property 'digest' on null object` (shared reference
 * nexus-logs.md): the image index docker buildx pushes with provenance attestations.
 */
import type { DeclarativeRuleSpec } from '../declarative';

export const dockerManifestNpeProvenance: DeclarativeRuleSpec = {
  id: 'docker-manifest-npe-provenance',
  title: 'Docker push fails with a NullPointerException on an attestation manifest',
  severity: 'error',
  kind: 'single',
  levels: ['WARN', 'ERROR'],
  prefilter: ['Error: PUT'],
  match: {
    logger: 'V2Handlers$',
    message: '^Error: PUT (?<path>\\S*/v2/(?<image>.+)/manifests/(?<reference>[^\\s:]+(?::[0-9a-f]{64})?))',
    continuation: "Cannot get property 'digest' on null object",
  },
  summary: "Docker push of {image}:{reference} by {user} failed: NullPointerException \"Cannot get property 'digest' on null object\" (a buildx provenance attestation).",
  diagnosis: {
    cause: 'buildx-provenance-attestation',
    explanation:
      'docker buildx adds provenance attestations to the images it builds and pushes them inside an image index. ' +
      "Reading that index, Nexus failed on an entry without a digest (\"Cannot get property 'digest' on null object\"), " +
      'so the push of {image}:{reference} failed.',
    confidence: 'medium',
    remediation: [
      'Build and push without the attestation: docker buildx build --provenance=false ... (or set BUILDX_NO_DEFAULT_ATTESTATIONS=1).',
      'Push {image}:{reference} again.',
      'Plan an upgrade of Nexus Repository to a version that accepts image indexes with attestations.',
    ],
    references: [{ title: 'docs/rules/docker-manifest-npe-provenance.md', url: null }],
  },
};
