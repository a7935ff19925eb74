/**
 * What a failed Docker push means and how to fix it, from the failure stories this project
 * was built for (docs/rules/docker-manifest-missing-layers.md has the long form).
 */
import type { FindingDiagnosis, Reference } from '../rule';
import type { LayerCheck } from './docker-manifest-missing-layers';


const REGISTRY_ERRORS: Reference = {
  title: 'Docker Registry HTTP API v2: errors (BLOB_UNKNOWN, MANIFEST_BLOB_UNKNOWN, MANIFEST_INVALID)',
  url: 'https://docs.docker.com/registry/spec/api/#errors',
};

export interface PushNames {
  /** `image:tag`, `image@sha256:...` or `image`. */
  imageRef: string;
  repository: string | null;
}

/** Layers missing from the hosted repository: the layer checks were answered elsewhere. */
export function missingLayersDiagnosis(names: PushNames, layerCount: number, rejectionSeen: boolean): FindingDiagnosis {
  const repository = names.repository === null ? 'the hosted repository' : `the hosted repository '${names.repository}'`;
  const layers = layerCount === 1 ? '1 layer' : `${layerCount} layers`;
  const outcome = rejectionSeen
    ? 'Nexus rejected the manifest (400 Invalid Manifest) because'
    : 'Nexus logged that';
  return {
    cause: 'layer-check-answered-by-other-repository',
    explanation:
      `${outcome} ${repository} does not hold ${layers} that the manifest of ${names.imageRef} lists. ` +
      'A Docker client uploads only the layers the registry says it lacks: it sends HEAD /v2/<image>/blobs/<digest> ' +
      'for each layer and skips every layer answered 200. When that check is answered by another repository than ' +
      'the one receiving the push (usually a group repository behind a reverse proxy that routes GET/HEAD to the ' +
      'group and PUT to the hosted repository), layers found in a proxy or another member are never uploaded, and ' +
      'the hosted repository then refuses the manifest. Proxy and hosted repositories sharing one blob store make ' +
      'it worse. The client shows "blob unknown: blob unknown to registry".',
    confidence: 'medium',
    remediation: [
      `Send the layer checks and the push to the same hosted repository: fix the reverse-proxy rules so that ` +
        `HEAD and GET /v2/<image>/blobs/... during a push reach ${repository}, or push straight to that ` +
        `repository's own connector port or /repository/<name>/ path.`,
      'Give the proxy and the hosted Docker repositories separate blob stores.',
      `Push ${names.imageRef} again once routing is fixed: the client then uploads the missing layers.`,
      'To confirm: in request.log, the HEAD requests for the digests above were answered 200 on another path or ' +
        'port than the hosted repository, shortly before the PUT of the manifest.',
    ],
    references: [
      {
        title:
          'Nexus Common Error Handling: Docker push with partial layer errors, "blob unknown to registry" ' +
          '(reverse proxy sends pulls to the group and pushes to the hosted repository; shared blob store)',
        url: null,
      },
      REGISTRY_ERRORS,
    ],
  };
}

/** 400 Invalid Manifest with no missing layer logged: typically a manifest list problem. */
export function rejectedManifestDiagnosis(names: PushNames): FindingDiagnosis {
  const ref = names.imageRef;
  return {
    cause: 'manifest-list-refers-to-missing-content',
    explanation:
      `Nexus rejected the manifest of ${ref} as invalid without logging a missing layer. For a manifest list ` +
      '(docker manifest push, multi-architecture images) this usually means the list refers to per-architecture ' +
      'manifests or blobs the repository does not hold: a stale local manifest list made before the images were ' +
      'rebuilt ("docker manifest create" keeps an existing local list and still says "Created"), or per-architecture ' +
      'images pushed to another repository than the list. The client shows "manifest blob unknown: blob unknown to registry".',
    confidence: 'low',
    remediation: [
      `See what the list refers to: docker manifest inspect --verbose ${ref}`,
      `Drop the stale local list and make it again from the current images: docker manifest rm ${ref}, then ` +
        `docker manifest create ${ref} --amend <image-amd64> --amend <image-arm64>, then docker manifest push ${ref}.`,
      'Push every per-architecture image to the same repository as the list before pushing the list.',
    ],
    references: [
      {
        title: 'An investigation of "docker manifest push" error: manifest blob unknown: blob unknown to registry (2023)',
        url: null,
      },
      {
        title: 'GitLab issue 209008: pushing manifest to registry gets error "manifest blob unknown"',
        url: 'https://gitlab.com/gitlab-org/gitlab/-/issues/209008',
      },
      { title: 'docker/cli issue 3350: allow to create manifests of local images', url: 'https://github.com/docker/cli/issues/3350' },
      REGISTRY_ERRORS,
    ],
  };
}

/** What a layer-check diagnosis needs of the push. */
export interface CheckedPush {
  repository: string | null;
  image: string;
  /** Missing layers in all. */
  missing: number;
  /** The 400 was logged. */
  rejected: boolean;
}

/**
 * request.log shows the client's checks for the missing layers answered 200. Answered by
 * another repository than the one pushed to: the routing split, proven. Answered by the same
 * repository: it said it had the layers, then could not find them (blob store trouble).
 */
export function layerCheckDiagnosis(push: CheckedPush, checks: readonly LayerCheck[]): FindingDiagnosis {
  const target = push.repository;
  const elsewhere = checks.filter((check) => check.repository !== target);
  const layers = new Set(checks.map((check) => check.digest)).size;
  const missing = push.missing;
  const example = (elsewhere[0] ?? checks[0]) as LayerCheck;
  const answeredBy = [...new Set(elsewhere.map((check) => (check.repository === null ? 'a connector port (/v2/...)' : `'${check.repository}'`)))];
  const imageRef = push.image;
  if (elsewhere.length > 0) {
    const base = missingLayersDiagnosis({ imageRef, repository: target }, missing, push.rejected);
    return {
      ...base,
      confidence: 'high',
      explanation:
        `request.log shows the client's layer checks for ${layers} of the ${missing} missing layer(s) answered 200 by ` +
        `${answeredBy.join(' and ')}, not by ${target === null ? 'the repository pushed to' : `'${target}'`} where the manifest was PUT ` +
        `(for example ${example.method} ${example.path} -> ${example.status} at ${example.time}). The client was told those layers ` +
        'existed, so it never uploaded them, and the hosted repository refused the manifest that lists them. ' +
        'Blob checks and pushes are routed to different repositories: a reverse proxy that sends GET/HEAD to a group and ' +
        'PUT to the hosted repository, or a client pushing through the group.',
      remediation: [
        `Route the push's blob checks to the repository that receives the push: HEAD and GET /v2/<image>/blobs/... from ` +
          `${example.clientIp} went to ${answeredBy.join(' and ')}; send them to ${target === null ? 'the hosted repository' : `'${target}'`} ` +
          '(or push straight to its own connector port or /repository/<name>/ path).',
        ...base.remediation.slice(1, 3),
      ],
    };
  }
  return {
    cause: 'layer-missing-after-check',
    explanation:
      `request.log shows ${target === null ? 'the repository' : `'${target}'`} itself answered the client's checks for ${layers} of ` +
      `the ${missing} missing layer(s) with 200 (for example ${example.method} ${example.path} at ${example.time}), then did not ` +
      'find them when the manifest arrived. The blob was referenced but not usable by this repository: a blob store shared with a ' +
      'proxy repository, a blob deleted between the check and the push (cleanup or compact task), or blob store metadata out of step.',
    confidence: 'medium',
    remediation: [
      'Give the proxy and the hosted Docker repositories separate blob stores.',
      'Check for cleanup, compact or "Docker - Delete unused manifests and images" tasks that ran between the checks and the push.',
      `Push ${imageRef} again; if it fails the same way, run the blob store's "Repair - Reconcile component database from blob store" task.`,
    ],
    references: missingLayersDiagnosis({ imageRef, repository: target }, missing, true).references ?? [],
  };
}
