/**
 * Rule `docker-manifest-missing-layers`: one incident per failed Docker manifest push.
 *
 * On one request thread, Nexus logs one ERROR `Manifest refers to missing layer: <digest>
 * for: <image>/<tag> in repository ...{name='<repo>'}` per missing layer, then a WARN
 * `Error: PUT /v2/<image>/manifests/<ref>: 400 - ...V2Exception: Invalid Manifest`.
 * Jetty threads are pooled, so the key (node + thread) is reused by later requests: a new
 * image/tag or the 400 ends the group. A burst whose 400 never comes and a 400 with no
 * burst are incidents too. With request.log, the client's layer checks say why (enrichment).
 */
import type { AnyEvent } from '../../events/log-event';
import type { CloseReason, Finding, GroupView, Rule } from '../rule';
import { INVALID_MANIFEST_LITERAL, MISSING_LAYER_LITERAL, parseManifestPath, parseMissingLayer, parseV2Error, formatImageRef, type MissingLayerMessage } from './docker-messages';
import { layerCheckDiagnosis, missingLayersDiagnosis, rejectedManifestDiagnosis } from './docker-push-diagnoses';
import { dockerRequestEvidence } from './docker-request-evidence';

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

/** The fields this rule adds to its incidents (docs/rules/docker-manifest-missing-layers.md); `DockerPushIncident` in the public API. */
export interface DockerPushFields {
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

/** Narrows an incident (or anything with a `rule`) to a push incident. */
export function isDockerPushIncident<T extends { rule: string }>(incident: T): incident is T & DockerPushFields {
  return incident.rule === DOCKER_MANIFEST_MISSING_LAYERS;
}

export interface DockerManifestRuleOptions {
  /** How long after the last missing-layer line the 400 may come, in log time. Default 10 s. */
  windowMs?: number;
  /** Layers listed per incident. Default 1024 (Docker images have at most 127 layers). */
  maxLayers?: number;
}

type Signal =
  | ({ kind: 'missing-layer' } & MissingLayerMessage)
  | { kind: 'manifest-rejected'; request: PushRequest; repository: string | null; image: string; reference: string };

export interface PushState {
  user: string | null;
  /** The request thread (request.log 3.17+ logs it too). */
  thread: string | null;
  repository: string | null;
  image: string;
  /** From the missing-layer lines (`null` text for a push by digest), or the PUT reference. */
  tag: string;
  request: PushRequest | null;
  requestReference: string | null;
  /** Set by the request.log enrichment. */
  client: PushClient | null;
  layerChecks: LayerCheck[];
}

const DIGEST_PUSH_TAG = 'null';

export function dockerManifestMissingLayers(options: DockerManifestRuleOptions = {}): Rule<Signal, PushState> {
  const windowMs = options.windowMs ?? 10_000;
  return {
    id: DOCKER_MANIFEST_MISSING_LAYERS,
    title: 'Docker push rejected: manifest refers to missing layers',
    severity: 'error',
    category: 'docker',
    reads: [
      // The missing layers are ERRORs, the 400 a WARN; both loggers exist in the datastore and orient packages.
      { levels: ['ERROR'], loggers: ['V2ManifestUtilImpl'], literals: [{ text: MISSING_LAYER_LITERAL, at: 'start' }] },
      { levels: ['WARN'], loggers: ['V2Handlers'], literals: [INVALID_MANIFEST_LITERAL] },
    ],
    windowMs,
    distinctLimit: Math.max(1, options.maxLayers ?? 1024),
    enrich: dockerRequestEvidence,

    match(event) {
      if (event.kind !== 'nexus') return undefined;
      if (event.message.startsWith(MISSING_LAYER_LITERAL)) {
        const parsed = parseMissingLayer(event.message);
        return parsed === undefined ? undefined : { kind: 'missing-layer', ...parsed };
      }
      const error = parseV2Error(event.message);
      if (error === undefined || error.method !== 'PUT' || error.status !== 400 || !error.error.includes(INVALID_MANIFEST_LITERAL)) return undefined;
      const path = parseManifestPath(error.path);
      if (path === undefined) return undefined;
      return { kind: 'manifest-rejected', request: error, repository: path.repository, image: path.image, reference: path.reference };
    },

    key(_signal, event) {
      const node = event.kind === 'nexus' ? event.node : null;
      const thread = 'thread' in event ? (event.thread ?? '') : '';
      return node === null ? thread : `${node}\u0000${thread}`;
    },

    open(signal, event) {
      return {
        user: userOf(event),
        thread: 'thread' in event ? event.thread : null,
        repository: signal.repository,
        image: signal.image,
        tag: signal.kind === 'missing-layer' ? signal.tag : signal.reference,
        request: null,
        requestReference: null,
        client: null,
        layerChecks: [],
      };
    },

    continues(state, signal) {
      if (state.request !== null) return false;
      if (signal.kind === 'missing-layer') {
        return signal.image === state.image && signal.tag === state.tag && signal.repository === state.repository;
      }
      return signal.image === state.image && (signal.reference === state.tag || state.tag === DIGEST_PUSH_TAG);
    },

    distinct(signal) {
      return signal.kind === 'missing-layer' ? { layer: signal.digest } : undefined;
    },

    add(state, signal, event) {
      if (signal.kind === 'missing-layer') return false;
      state.request = signal.request;
      state.requestReference = signal.reference;
      if (state.user === null) state.user = userOf(event);
      return true;
    },

    describe(state, group) {
      return describePush(state, group, windowMs);
    },
  };
}

function userOf(event: AnyEvent): string | null {
  return 'user' in event ? event.user : null;
}

function describePush(state: Readonly<PushState>, group: GroupView, windowMs: number): Finding {
  const layers = group.distinct.layer ?? { values: [], total: 0 };
  const layerCount = layers.total;
  const reference = state.tag === DIGEST_PUSH_TAG ? state.requestReference : state.tag;
  const imageRef = formatImageRef(state.image, reference);
  const names = { imageRef, repository: state.repository };
  const rejected = state.request === null ? '' : ` (${state.request.status} Invalid Manifest)`;
  const by = state.user === null ? '' : ` by ${state.user}`;
  const into = state.repository === null ? '' : ` to ${state.repository}`;
  const within = state.repository === null ? '' : ` in ${state.repository}`;

  let summary: string;
  let diagnosis;
  if (layerCount === 0) {
    summary = `Docker push of ${imageRef}${into}${by} was rejected${rejected} without a missing layer in the log.`;
    diagnosis = rejectedManifestDiagnosis(names);
  } else if (state.request !== null) {
    summary = `Docker push of ${imageRef}${into}${by} was rejected${rejected}: the manifest refers to ${plural(layerCount, 'layer')} the repository does not have.`;
    diagnosis = missingLayersDiagnosis(names, layerCount, true);
  } else if (group.reason === null) {
    summary = `The manifest of ${imageRef}${within} pushed${by} refers to ${plural(layerCount, 'missing layer')} so far (push in progress).`;
    diagnosis = missingLayersDiagnosis(names, layerCount, false);
  } else {
    summary = `The manifest of ${imageRef}${within} pushed${by} refers to ${plural(layerCount, 'missing layer')}; no rejection was logged ${unansweredBecause(group.reason, windowMs)}.`;
    diagnosis = missingLayersDiagnosis(names, layerCount, false);
  }
  const { before, own, after } = group.evidence;
  // The cause rests on the push's own lines, unless request.log proves more (below).
  diagnosis = { ...diagnosis, evidence: Array.from({ length: own }, (_v, i) => before + i) };
  if (state.layerChecks.length > 0) {
    // The checks were put before the push's own lines, the PUT from request.log after them.
    const proof = [...Array.from({ length: before }, (_v, i) => i), ...Array.from({ length: after }, (_v, i) => before + own + i)];
    diagnosis = { ...layerCheckDiagnosis({ repository: state.repository, image: imageRef, missing: layerCount, rejected: state.request !== null }, state.layerChecks), evidence: proof };
  }
  const facts: Record<string, string | number | string[]> = {};
  if (state.repository !== null) facts.repository = state.repository;
  facts.image = imageRef;
  if (state.request !== null) facts.request = `${state.request.method} ${state.request.path} -> ${state.request.status}`;
  if (layerCount > 0) facts[`missing layers (${layerCount})`] = layers.values.map(shortDigest);
  if (state.layerChecks.length > 0) {
    const by = [...new Set(state.layerChecks.map((c) => c.repository ?? 'a connector port'))].join(', ');
    facts.checked = `${state.layerChecks.length} layer check(s) answered 200 by ${by} (request.log)`;
  }
  if (state.client !== null) facts.client = `${state.client.ip}${state.client.user === null ? '' : ` as ${state.client.user}`}${state.client.userAgent === null ? '' : `, ${state.client.userAgent}`}`;

  return {
    subject: { type: 'image', name: state.repository === null ? imageRef : `${state.repository}/${imageRef}` },
    fingerprint: [state.repository, state.image, reference, ...layers.values.slice().sort()],
    summary,
    diagnosis,
    facts,
    user: state.user,
    fields: {
      repository: state.repository,
      image: state.image,
      reference,
      missingLayers: layers.values.slice(),
      missingLayersOmitted: Math.max(0, layerCount - layers.values.length),
      request: state.request,
      client: state.client,
      layerChecks: state.layerChecks.slice(),
    },
  };
}

/** `sha256:6414378b6477`: enough to recognise a layer, short enough for one line of several. */
function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon === -1 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
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
    case 'aborted':
      return 'before the stream was torn down';
    case 'end-of-input':
    case 'matched':
      return 'before the input ended';
  }
}
