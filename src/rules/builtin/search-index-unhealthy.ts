/**
 * Rule `search-index-unhealthy`: the search index is not healthy: the embedded Elasticsearch
 * cluster went RED (search shards unassigned: searches and browse miss content) or YELLOW and
 * did not come back to GREEN quickly, or rebuilding a repository's index failed. One incident
 * per unhealthy interval (from the change away from GREEN to the change back), and one per
 * repository whose rebuild fails.
 *
 *   org.elasticsearch.cluster.routing.allocation INFO [<es node>] Cluster health status changed from [GREEN] to [RED] (reason: [...]).   (DB-9, thread elasticsearch[...])
 *   SearchFacetImpl ERROR Unable to rebuild search index for repository <repo>
 *     org.sonatype.nexus.repository.MissingFacetException: No facet of type ContentFacet attached to repository <repo>
 *
 * Creating an index turns the cluster RED for a moment (until its shards are allocated), and
 * startup goes RED -> GREEN: intervals back to GREEN within two minutes are not incidents.
 */
import type { NexusEvent } from '../../events/log-event';
import type { Finding, GroupView, Rule } from '../rule';
import { cut, exceptionClassOf, nexusEventOf, onServer, serverOf } from './storage-texts';
import { between, duration, howOften, plural } from './wording';

const HEALTH = 'Cluster health status changed from [';
const REBUILD = 'Unable to rebuild search index for repository ';

/** Back to GREEN within this long: a transient state (index creation, startup), not an incident. */
export const TRANSIENT_MS = 2 * 60_000;
/** RED for this long (or never back) makes the incident an error. */
export const PERSISTENT_RED_MS = 30 * 60_000;

export type Health = 'GREEN' | 'YELLOW' | 'RED';

export type SearchSignal =
  | { type: 'health'; server: string; esNode: string | null; from: Health; to: Health; reason: string | null; line: string }
  | { type: 'rebuild-failed'; repository: string; exception: string | null; detail: string | null; line: string };

function healthOf(text: string | null): Health | null {
  return text === 'GREEN' || text === 'YELLOW' || text === 'RED' ? text : null;
}

/** `[node] Cluster health status changed from [GREEN] to [RED] (reason: [...]).` */
export function parseHealthChange(message: string): { esNode: string | null; from: Health; to: Health; reason: string | null } | undefined {
  const at = message.indexOf(HEALTH);
  if (at === -1) return undefined;
  const from = healthOf(between(message, '[', ']', at + HEALTH.length - 1));
  const toAt = message.indexOf('] to [', at);
  const to = toAt === -1 ? null : healthOf(between(message, '[', ']', toAt + 5));
  if (from === null || to === null) return undefined;
  const esNode = message.startsWith('[') ? between(message, '[', ']') : null;
  const reasonAt = message.indexOf('(reason: ', toAt);
  let reason = reasonAt === -1 ? null : message.slice(reasonAt + 9);
  if (reason !== null) {
    if (reason.endsWith(').')) reason = reason.slice(0, -2);
    else if (reason.endsWith(')')) reason = reason.slice(0, -1);
    if (reason.startsWith('[') && reason.endsWith(']')) reason = reason.slice(1, -1);
    reason = cut(reason, 200);
  }
  return { esNode, from, to, reason };
}

export function parseSearchIndex(event: NexusEvent): SearchSignal | undefined {
  const change = event.message.includes(HEALTH) ? parseHealthChange(event.message) : undefined;
  if (change !== undefined) return { type: 'health', server: serverOf(event), ...change, line: cut(event.message, 300) };
  const at = event.message.indexOf(REBUILD);
  if (at === -1) return undefined;
  let end = at + REBUILD.length;
  while (end < event.message.length && event.message.charCodeAt(end) !== 0x20) end++;
  const repository = event.message.slice(at + REBUILD.length, end);
  if (repository === '') return undefined;
  const detail = event.continuation.find((line) => line.trim() !== '') ?? null;
  return { type: 'rebuild-failed', repository, exception: detail === null ? null : exceptionClassOf(detail), detail: detail === null ? null : cut(detail, 300), line: cut(event.message, 300) };
}

interface HealthState {
  type: 'health';
  server: string;
  esNode: string | null;
  worst: Health;
  backToGreen: boolean;
  reason: string | null;
  changes: number;
}

interface RebuildState {
  type: 'rebuild-failed';
  repository: string;
  exception: string | null;
  detail: string | null;
}

type State = HealthState | RebuildState;

const RANK: Record<Health, number> = { GREEN: 0, YELLOW: 1, RED: 2 };

function describeHealth(state: HealthState, group: GroupView): Finding | null {
  if (state.worst === 'GREEN') return null; // only a change to GREEN (startup): nothing was unhealthy here
  const end = state.backToGreen ? group.lastTime : (group.closedAt ?? group.lastTime);
  const span = Math.max(0, end - group.firstTime);
  if (state.backToGreen && span < TRANSIENT_MS) return null;
  if (!state.backToGreen && span < TRANSIENT_MS && state.reason !== null && state.reason.includes('created')) return null; // an index being created as the log ends
  const red = state.worst === 'RED';
  const persistent = red && (!state.backToGreen || span >= PERSISTENT_RED_MS);
  const how = state.backToGreen ? `for ${duration(span)} before it came back to GREEN` : `and had not come back to GREEN ${group.reason === 'end-of-input' ? 'when the log ended' : `after ${duration(span)}`}`;
  return {
    subject: { type: 'search-index', name: state.server },
    fingerprint: [state.server, 'health', state.worst],
    summary: `The search index (embedded Elasticsearch${state.esNode === null ? '' : ` ${state.esNode.slice(0, 17)}`})${onServer(state.server)} was ${state.worst} ${how} (${plural(state.changes, 'health change')}).`,
    severity: persistent ? 'error' : 'warning',
    facts: {
      worst: state.worst,
      'back to GREEN': state.backToGreen,
      ...(state.backToGreen || group.reason === 'end-of-input' ? { duration: duration(span) } : {}),
      ...(state.reason === null ? {} : { reason: state.reason }),
    },
    diagnosis: {
      cause: red ? 'search-shards-unassigned' : 'search-replicas-unassigned',
      explanation:
        (red
          ? 'Elasticsearch has search shards that are not assigned (RED): searches, browse and some REST and UI lists return incomplete results for the repositories in those indexes. '
          : 'Elasticsearch has replica shards that are not assigned (YELLOW): data is there, but not as redundant as configured. ') +
        `Usual causes: the disk of the Elasticsearch data is over its watermark or full (rule disk-full), a damaged index after a crash, or not enough heap.${state.reason === null ? '' : ` Reason logged: ${state.reason}.`}`,
      confidence: 'medium',
      remediation: [
        'Check the free space of <data-dir>/elasticsearch (Elasticsearch stops allocating shards above 90% used) and the nexus.log lines of the elasticsearch threads around the change (shard failures, CorruptIndexException, OutOfMemoryError).',
        'Once the cause is fixed, run the task "Repair - Rebuild repository search" for the affected repositories (or all of them).',
        'If the index stays RED, stop Nexus, move <data-dir>/elasticsearch/nexus aside, start Nexus and rebuild the search of every repository.',
      ],
    },
  };
}

function describeRebuild(state: RebuildState, group: GroupView): Finding {
  const missingFacet = state.exception !== null && state.exception.endsWith('MissingFacetException');
  return {
    subject: { type: 'search-index', name: state.repository },
    fingerprint: [state.repository, 'rebuild', state.exception],
    summary: `Rebuilding the search index of repository ${state.repository} failed${state.exception === null ? '' : ` (${state.exception.slice(state.exception.lastIndexOf('.') + 1)})`}: ${howOften(group.count, group.firstTime, group.lastTime)}.`,
    facts: { repository: state.repository, ...(state.detail === null ? {} : { error: state.detail }) },
    diagnosis: missingFacet
      ? {
          cause: 'format-plugin-incompatible',
          explanation: `The repository's format does not provide a facet the search index needs (${state.detail ?? 'MissingFacetException'}): a community or third-party format plugin built for another Nexus version or storage mode (OrientDB vs. H2/PostgreSQL). Its content is not searchable.`,
          confidence: 'high',
          remediation: [
            `Install a version of the format plugin built for this Nexus version and its database (or remove repository ${state.repository} if the format is no longer supported).`,
            `Then run "Repair - Rebuild repository search" for ${state.repository}.`,
          ],
        }
      : {
          cause: 'search-rebuild-failed',
          explanation: `The search index of ${state.repository} could not be rebuilt, so searching and browsing it miss content. ${state.detail === null ? 'The exception is not in the lines read.' : `Error: ${state.detail}`}`,
          confidence: 'medium',
          remediation: [
            'Fix what the exception names (database errors, missing blobs, disk space, a plugin), then run "Repair - Rebuild repository search" for the repository again.',
            'If Elasticsearch itself is unhealthy (RED), fix that first (see the search-index-unhealthy incident of the server).',
          ],
        },
  };
}

export const searchIndexUnhealthy: Rule<SearchSignal, State> = {
  id: 'search-index-unhealthy',
  title: 'Search index unhealthy: Elasticsearch RED or YELLOW for a while, or a repository index rebuild failing',
  severity: 'warning',
  category: 'database',
  reads: [
    // Elasticsearch 2.x logs it as `org.elasticsearch.cluster.routing.allocation`, 5+ as `...allocation.AllocationService`.
    { levels: ['INFO', 'WARN'], loggers: ['org.elasticsearch.cluster.routing.allocation', 'AllocationService'], literals: [HEALTH] },
    { levels: ['ERROR', 'WARN'], literals: [REBUILD], continuation: true },
  ],
  windowMs: 12 * 60 * 60_000,
  causedBy: [{ rule: 'disk-full', withinMs: 24 * 60 * 60_000 }],

  match(event) {
    const nexus = nexusEventOf(event);
    return nexus === undefined ? undefined : parseSearchIndex(nexus);
  },

  key(signal) {
    return signal.type === 'health' ? `health\u0000${signal.server}` : `rebuild\u0000${signal.repository}`;
  },

  open(signal) {
    return signal.type === 'health'
      ? { type: 'health', server: signal.server, esNode: signal.esNode, worst: 'GREEN', backToGreen: false, reason: signal.to === 'GREEN' ? null : signal.reason, changes: 0 }
      : { type: 'rebuild-failed', repository: signal.repository, exception: signal.exception, detail: signal.detail };
  },

  add(state, signal) {
    if (state.type !== 'health' || signal.type !== 'health') return false;
    state.changes++;
    if (RANK[signal.to] > RANK[state.worst]) state.worst = signal.to;
    // The reason it left GREEN is the one worth showing.
    if (state.reason === null && signal.to !== 'GREEN') state.reason = signal.reason;
    if (signal.to === 'GREEN') {
      state.backToGreen = true;
      return true;
    }
    return false;
  },

  describe(state, group) {
    return state.type === 'health' ? describeHealth(state, group) : describeRebuild(state, group);
  },
};
