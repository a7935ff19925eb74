/**
 * Rule `docker-manifest-npe-provenance`: a manifest PUT that fails with
 * `NullPointerException: Cannot get property 'digest' on null object` (shared reference
 * nexus-logs.md): an image index Nexus cannot read, as docker buildx pushes with provenance
 * attestations, or BuildKit's registry cache manifest (NEXUS-18511). One incident per image
 * while pushes of it keep failing.
 *
 *   V2Handlers WARN Error: PUT /v2/<image>/manifests/<ref>
 *   java.lang.NullPointerException: Cannot get property 'digest' on null object
 */
import type { Rule } from '../rule';
import { formatImageRef, parseManifestPath } from './docker-messages';
import { howOften } from './wording';

const NPE = "Cannot get property 'digest' on null";
const PUT = 'Error: PUT ';

interface Signal {
  repository: string | null;
  image: string;
  reference: string;
  cache: boolean;
}

interface State {
  repository: string | null;
  image: string;
  lastReference: string;
  user: string | null;
  cache: boolean;
}

export const dockerManifestNpeProvenance: Rule<Signal, State> = {
  id: 'docker-manifest-npe-provenance',
  title: 'Docker push fails with a NullPointerException on an image index (attestations, BuildKit cache)',
  severity: 'error',
  category: 'docker',
  reads: [{ levels: ['WARN', 'ERROR'], loggers: ['V2Handlers'], literals: [NPE], continuation: true }],
  windowMs: 60 * 60_000,
  distinctLimit: 10,

  match(event) {
    if (event.kind !== 'nexus' || !event.message.startsWith(PUT)) return undefined;
    if (!event.message.includes(NPE) && !event.continuation.some((line) => line.includes(NPE))) return undefined;
    let end = PUT.length;
    while (end < event.message.length && event.message.charCodeAt(end) !== 0x20 && event.message.charCodeAt(end) !== 0x3a) end++;
    const path = parseManifestPath(event.message.slice(PUT.length, end));
    if (path === undefined) return undefined;
    return { repository: path.repository, image: path.image, reference: path.reference, cache: /(?:^|[-_.])cache$/.test(path.image) || path.reference.includes('cache') };
  },

  key(signal) {
    return `${signal.repository ?? ''}\u0000${signal.image}`;
  },

  open(signal, event) {
    return { repository: signal.repository, image: signal.image, lastReference: signal.reference, user: 'user' in event ? event.user : null, cache: signal.cache };
  },

  distinct(signal) {
    return { reference: signal.reference };
  },

  add(state, signal) {
    state.lastReference = signal.reference;
  },

  describe(state, group) {
    const imageRef = formatImageRef(state.image, state.lastReference);
    const references = group.distinct.reference ?? { values: [], total: 0 };
    return {
      subject: { type: 'image', name: state.repository === null ? state.image : `${state.repository}/${state.image}` },
      fingerprint: [state.repository, state.image],
      summary:
        `Docker push of ${imageRef}${state.user === null ? '' : ` by ${state.user}`} failed with NullPointerException "Cannot get property 'digest' on null object"` +
        `${group.count > 1 ? ` (${howOften(group.count, group.firstTime, group.lastTime)}, ${references.total} reference(s))` : ''}: Nexus could not read the image index.`,
      facts: { image: state.image, references: references.values, ...(state.repository === null ? {} : { repository: state.repository }) },
      diagnosis: {
        cause: state.cache ? 'buildkit-cache-manifest' : 'buildx-provenance-attestation',
        explanation:
          'Nexus failed on an image index entry without a digest ("Cannot get property \'digest\' on null object"), so the client got a 500 and the push failed. ' +
          'docker buildx adds provenance attestations to the images it builds and pushes them inside an image index; BuildKit pushes its registry cache as such an index too ' +
          '(--cache-to type=registry). Older Nexus versions cannot read these indexes (NEXUS-18511).',
        confidence: 'medium',
        remediation: [
          'Build and push without the attestation: docker buildx build --provenance=false ... (or set BUILDX_NO_DEFAULT_ATTESTATIONS=1); for a BuildKit registry cache, use --cache-to type=registry,...,image-manifest=true,oci-mediatypes=true or a cache outside this registry.',
          `Push ${imageRef} again.`,
          'Plan an upgrade of Nexus Repository to a version that accepts image indexes with attestations.',
        ],
        references: [{ title: 'moby/buildkit issue 2068: cache manifest fails to write to Nexus (NEXUS-18511)', url: 'https://github.com/moby/buildkit/issues/2068' }],
      },
    };
  },
};
