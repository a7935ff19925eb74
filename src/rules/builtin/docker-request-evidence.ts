/**
 * What request.log proves about failed pushes (the enrichment of docker-manifest-missing-layers).
 * For each push, request.log holds:
 * - the PUT of the manifest (same thread, same image and reference, status 400): the client's
 *   address, user and user agent;
 * - the client's layer checks before the push (HEAD or GET /v2/<image>/blobs/<digest>) for the
 *   layers found missing, answered 200: the registry told the client it had them, so the
 *   client never uploaded them. Which repository answered is the cause.
 *
 * A big request.log is mostly other traffic: a line is parsed only when the digest right after
 * its `/blobs/sha256:` is one of the missing layers, or when it is a PUT of a manifest.
 */
import type { AnyEvent, RequestEvent } from '../../events/log-event';
import { parseBlobPath } from '../../events/http-log-line';
import type { Enrichment, ParkedGroup } from '../rule';
import type { LayerCheck, PushState } from './docker-manifest-missing-layers';
import { parseManifestPath } from './docker-messages';

/** The request.log timestamp has second precision, and the PUT is logged when it completes. */
const PUT_SLACK_MS = 2_000;
/** Layer checks this long before a push still count as its own. */
const CHECKS_BEFORE_MS = 60 * 60_000;
const CHECKS_KEPT_PER_LAYER = 3;
const BLOBS = '/blobs/sha256:';
const MANIFESTS = '/manifests/';

interface Seen {
  event: RequestEvent;
  repository: string | null;
}

interface Collector {
  /** Digest (hex) -> checks answered 200, newest last (a few kept). */
  checks: Map<string, Seen[]>;
  /** image -> PUTs of its manifest answered 400. */
  puts: Map<string, Array<{ event: RequestEvent; reference: string }>>;
  earliest: number;
}

export const dockerRequestEvidence: Enrichment<PushState, Collector> = {
  input: 'request',
  literals: [BLOBS, MANIFESTS],

  begin(groups) {
    const checks = new Map<string, Seen[]>();
    let earliest = Number.POSITIVE_INFINITY;
    for (const { group } of groups) {
      for (const digest of group.distinct.layer?.values ?? []) checks.set(digest.slice(7), []);
      earliest = Math.min(earliest, group.firstTime - CHECKS_BEFORE_MS);
    }
    return { checks, puts: new Map(), earliest };
  },

  accept(collector, line, _start, end, hit) {
    if (line[hit + 1] === 0x62) {
      // /blobs/sha256:<hex>: only the digests of missing layers.
      const from = hit + BLOBS.length;
      if (from + 64 > end) return false;
      return collector.checks.has(Buffer.from(line.buffer, line.byteOffset + from, 64).toString('latin1'));
    }
    return true; // /manifests/: the PUTs are few
  },

  line(collector, event) {
    if (event.kind !== 'request' || event.time < collector.earliest) return;
    if ((event.method === 'HEAD' || event.method === 'GET') && event.status === 200) {
      const blob = parseBlobPath(event.path);
      if (blob === undefined) return;
      const list = collector.checks.get(blob.digest.slice(7));
      if (list === undefined) return;
      list.push({ event, repository: blob.repository });
      if (list.length > CHECKS_KEPT_PER_LAYER * 4) list.splice(0, list.length - CHECKS_KEPT_PER_LAYER * 4);
    } else if (event.method === 'PUT' && event.status === 400) {
      const manifest = parseManifestPath(event.path);
      if (manifest === undefined) return;
      const list = collector.puts.get(manifest.image) ?? [];
      list.push({ event, reference: manifest.reference });
      collector.puts.set(manifest.image, list);
    }
  },

  finish(collector, groups) {
    for (const parked of groups) enrichOne(collector, parked);
  },
};

function enrichOne(collector: Collector, parked: ParkedGroup<PushState>): void {
  const { state, group } = parked;
  const reference = state.tag === 'null' ? state.requestReference : state.tag;
  const put = (collector.puts.get(state.image) ?? []).find(
    ({ event, reference: ref }) =>
      (reference === null || ref === reference) &&
      (event.thread === null || state.thread === null || event.thread === state.thread) &&
      event.time >= group.lastTime - PUT_SLACK_MS &&
      event.time - event.elapsed <= group.lastTime + PUT_SLACK_MS,
  );
  const checks: LayerCheck[] = [];
  for (const digest of group.distinct.layer?.values ?? []) {
    const before = (collector.checks.get(digest.slice(7)) ?? []).filter(({ event }) => event.time <= group.firstTime + PUT_SLACK_MS && event.time >= group.firstTime - CHECKS_BEFORE_MS);
    for (const { event, repository } of before.slice(-CHECKS_KEPT_PER_LAYER)) {
      checks.push({ digest, method: event.method, path: event.path, status: event.status, repository, clientIp: event.clientIp, time: new Date(event.time).toISOString() });
      parked.addEvidence(evidenceOf(event), 'before');
    }
  }
  if (put !== undefined) {
    state.client = { ip: put.event.clientIp, user: put.event.user, userAgent: put.event.userAgent };
    parked.addEvidence(evidenceOf(put.event), 'after');
  }
  state.layerChecks = checks;
}

function evidenceOf(event: AnyEvent): { source: string; line: number; offset: number; text: string } {
  return { source: event.source, line: event.line, offset: event.offset, text: event.text };
}
