/**
 * Rule `docker-manifest-missing-layers`: one incident per failed Docker manifest push.
 *
 * On one request thread, Nexus logs one ERROR `Manifest refers to missing layer: <digest>
 * for: <image>/<tag> in repository ...{name='<repo>'}` per missing layer, then a WARN
 * `Error: PUT /v2/<image>/manifests/<ref>: 400 - ...V2Exception: Invalid Manifest`.
 * Jetty threads are pooled, so the key (node + thread) is reused by later requests: a new
 * image/tag or the 400 ends the group. A burst whose 400 never comes and a 400 with no
 * burst are incidents too.
 */
import type { LogEvent } from '../../events/log-event';
import { toIsoUtc } from '../../events/timestamp';
import { INCIDENT_SCHEMA_VERSION, type CloseReason, type Evidence, type Incident } from '../../incidents/incident';
import { stableHash } from '../../incidents/stable-hash';
import type { CorrelationRule, GroupSpan } from '../rule';
import {
  INVALID_MANIFEST_LITERAL,
  MISSING_LAYER_LITERAL,
  parseManifestPath,
  parseMissingLayer,
  parseV2Error,
  formatImageRef,
  type MissingLayerMessage,
} from './docker-messages';
import { missingLayersDiagnosis, rejectedManifestDiagnosis } from './docker-push-diagnoses';

export const DOCKER_MANIFEST_MISSING_LAYERS = 'docker-manifest-missing-layers';

/** The request that ended the push, from the V2Handlers warning. */
export interface PushRequest {
  method: string;
  path: string;
  status: number;
  error: string;
}

/** A layer check the client made before the push, from request.log. */
export interface LayerCheck {
  digest: string;
  method: string;
  path: string;
  status: number;
  /** The repository that answered, from `/repository/<name>/`; null on a connector port. */
  repository: string | null;
  clientIp: string;
  /** When the check completed, ISO-8601 UTC (request.log has second precision). */
  time: string;
}

export interface PushClient {
  ip: string;
  user: string | null;
  userAgent: string | null;
}

export interface DockerPushIncident extends Incident {
  rule: typeof DOCKER_MANIFEST_MISSING_LAYERS;
  repository: string | null;
  image: string | null;
  /** Tag or digest; null when pushed by digest and the PUT was not seen. */
  reference: string | null;
  /** `sha256:...`, in first-seen order, unique. */
  missingLayers: string[];
  /** Layers past the per-incident cap, counted but not listed. */
  missingLayersOmitted: number;
  request: PushRequest | null;
  /** Who pushed, from the PUT in request.log; null without request.log. */
  client: PushClient | null;
  /** The client's layer checks answered 200 for the missing layers, from request.log. */
  layerChecks: LayerCheck[];
}

export function isDockerPushIncident(incident: Incident): incident is DockerPushIncident {
  return incident.rule === DOCKER_MANIFEST_MISSING_LAYERS;
}

export interface DockerManifestRuleOptions {
  /** How long after the last missing-layer line the 400 may come, in log time. Default 10 s. */
  windowMs?: number;
  /** Evidence lines kept per incident (the closing line is always kept). Default 32. */
  maxEvidence?: number;
  /** Layers listed per incident. Default 1024 (Docker images have at most 127 layers). */
  maxLayers?: number;
}

type Signal =
  | ({ kind: 'missing-layer' } & MissingLayerMessage)
  | { kind: 'manifest-rejected'; request: PushRequest; repository: string | null; image: string; reference: string };

interface PushGroup {
  node: string | null;
  thread: string;
  user: string | null;
  repository: string | null;
  image: string;
  /** From the missing-layer lines (`null` text for a push by digest), or the PUT reference. */
  tag: string;
  /** First-seen order, unique (at most maxLayers: a lookup in it is cheap, and it stays plain JSON for checkpoints). */
  layers: string[];
  layersOmitted: number;
  request: PushRequest | null;
  requestReference: string | null;
  evidence: Evidence[];
  evidenceOmitted: number;
}

const DIGEST_PUSH_TAG = 'null';

export function dockerManifestMissingLayersRule(options: DockerManifestRuleOptions = {}): CorrelationRule<Signal, PushGroup> {
  const windowMs = options.windowMs ?? 10_000;
  const maxEvidence = Math.max(1, options.maxEvidence ?? 32);
  const maxLayers = Math.max(1, options.maxLayers ?? 1024);

  function addEvidence(group: PushGroup, event: LogEvent, closing: boolean): void {
    // Keep room for the closing line: it is the one that explains the outcome.
    if (group.evidence.length < maxEvidence - 1 || (closing && group.evidence.length < maxEvidence)) {
      group.evidence.push({ source: event.source, line: event.line, offset: event.offset, text: event.text });
    } else {
      group.evidenceOmitted++;
    }
  }

  return {
    id: DOCKER_MANIFEST_MISSING_LAYERS,
    title: 'Docker push rejected: manifest refers to missing layers',
    severity: 'error',
    prefilter: [MISSING_LAYER_LITERAL, INVALID_MANIFEST_LITERAL],
    levels: ['ERROR', 'WARN'], // the missing layers are ERRORs, the 400 a WARN
    windowMs,

    match(event) {
      if (event.message.startsWith(MISSING_LAYER_LITERAL)) {
        const parsed = parseMissingLayer(event.message);
        return parsed === undefined ? undefined : { kind: 'missing-layer', ...parsed };
      }
      if (!event.message.includes(INVALID_MANIFEST_LITERAL)) return undefined;
      const error = parseV2Error(event.message);
      if (error === undefined || error.method !== 'PUT' || error.status !== 400) return undefined;
      const path = parseManifestPath(error.path);
      if (path === undefined) return undefined;
      return { kind: 'manifest-rejected', request: error, repository: path.repository, image: path.image, reference: path.reference };
    },

    keyOf(_signal, event) {
      return event.node === null ? event.thread : `${event.node}\u0000${event.thread}`;
    },

    open(signal, event) {
      const fromBurst = signal.kind === 'missing-layer';
      return {
        node: event.node,
        thread: event.thread,
        user: event.user,
        repository: signal.repository,
        image: signal.image,
        tag: fromBurst ? signal.tag : signal.reference,
        layers: [],
        layersOmitted: 0,
        request: null,
        requestReference: null,
        evidence: [],
        evidenceOmitted: 0,
      };
    },

    continues(group, signal) {
      if (group.request !== null) return false;
      if (signal.kind === 'missing-layer') {
        return signal.image === group.image && signal.tag === group.tag && signal.repository === group.repository;
      }
      return signal.image === group.image && (signal.reference === group.tag || group.tag === DIGEST_PUSH_TAG);
    },

    add(group, signal, event) {
      if (signal.kind === 'missing-layer') {
        if (!group.layers.includes(signal.digest)) {
          if (group.layers.length < maxLayers) {
            group.layers.push(signal.digest);
          } else {
            group.layersOmitted++;
          }
        }
        addEvidence(group, event, false);
        return false;
      }
      group.request = signal.request;
      group.requestReference = signal.reference;
      if (group.user === null) group.user = event.user;
      addEvidence(group, event, true);
      return true;
    },

    toIncident(group, reason, span) {
      return buildIncident(group, reason, span, windowMs);
    },
  };
}

function buildIncident(group: PushGroup, reason: CloseReason | null, span: GroupSpan, windowMs: number): DockerPushIncident {
  const reference = group.tag === DIGEST_PUSH_TAG ? group.requestReference : group.tag;
  const imageRef = formatImageRef(group.image, reference);
  const names = { imageRef, repository: group.repository };
  const allEvidence = group.evidence.map((_line, index) => index);
  const layerCount = group.layers.length + group.layersOmitted;
  const rejected = group.request === null ? '' : ` (${group.request.status} Invalid Manifest)`;
  const by = group.user === null ? '' : ` by ${group.user}`;
  const into = group.repository === null ? '' : ` to ${group.repository}`;
  const within = group.repository === null ? '' : ` in ${group.repository}`;

  let summary: string;
  let diagnosis;
  if (layerCount === 0) {
    summary = `Docker push of ${imageRef}${into}${by} was rejected${rejected} without a missing layer in the log.`;
    diagnosis = rejectedManifestDiagnosis(names, allEvidence);
  } else if (group.request !== null) {
    summary =
      `Docker push of ${imageRef}${into}${by} was rejected${rejected}: the manifest refers to ` +
      `${plural(layerCount, 'layer')} the repository does not have.`;
    diagnosis = missingLayersDiagnosis(names, layerCount, true, allEvidence);
  } else if (reason === null) {
    summary = `The manifest of ${imageRef}${within} pushed${by} refers to ${plural(layerCount, 'missing layer')} so far (push in progress).`;
    diagnosis = missingLayersDiagnosis(names, layerCount, false, allEvidence);
  } else {
    summary =
      `The manifest of ${imageRef}${within} pushed${by} refers to ${plural(layerCount, 'missing layer')}; ` +
      `no rejection was logged ${unansweredBecause(reason, windowMs)}.`;
    diagnosis = missingLayersDiagnosis(names, layerCount, false, allEvidence);
  }

  const firstSeen = toIsoUtc(span.firstTime);
  return {
    schemaVersion: INCIDENT_SCHEMA_VERSION,
    id: stableHash([DOCKER_MANIFEST_MISSING_LAYERS, group.node, group.thread, span.firstTime, group.image, group.tag]),
    fingerprint: stableHash([DOCKER_MANIFEST_MISSING_LAYERS, group.repository, group.image, reference, ...group.layers.slice().sort()]),
    rule: DOCKER_MANIFEST_MISSING_LAYERS,
    severity: 'error',
    // Set by the engine, which knows the group's history:
    lifecycle: 'closed',
    revision: 0,
    occurrences: 1,
    summary,
    firstSeen,
    lastSeen: toIsoUtc(span.lastTime),
    closeReason: reason,
    node: group.node,
    thread: group.thread,
    user: group.user,
    repository: group.repository,
    image: group.image,
    reference,
    missingLayers: group.layers.slice(), // a snapshot: the group may still grow
    missingLayersOmitted: group.layersOmitted,
    request: group.request,
    client: null,
    layerChecks: [],
    evidence: group.evidence.slice(),
    evidenceOmitted: group.evidenceOmitted,
    diagnosis,
  };
}

function plural(count: number, noun: string): string {
  return count === 1 ? `1 ${noun}` : `${count} ${noun}s`;
}

function unansweredBecause(reason: CloseReason, windowMs: number): string {
  switch (reason) {
    case 'window':
      return `within ${windowMs / 1000} s`;
    case 'superseded':
      return 'before the thread served another request';
    case 'evicted':
      return 'before too many open pushes forced it out';
    case 'shutdown':
      return 'before shutdown';
    case 'end-of-input':
    case 'matched':
      return 'before the input ended';
  }
}
