/**
 * What request.log proves about failed pushes. For each push incident, request.log holds:
 * - the PUT of the manifest (same thread, same image and reference, status 400): the client's
 *   address, user and user agent;
 * - the client's layer checks before the push (HEAD or GET /v2/<image>/blobs/<digest>) for the
 *   layers found missing, answered 200: the registry told the client it had them, so the
 *   client never uploaded them. Which repository answered is the cause.
 *
 * Read after nexus.log, with only two literals (`/blobs/sha256:`, `/manifests/`) decoded.
 */
import type { Evidence } from '../../incidents/incident';
import { parseBlobPath, parseRequestLine, type RequestRecord } from '../../source/request-log';
import type { DockerPushIncident, LayerCheck } from './docker-manifest-missing-layers';
import { parseManifestPath } from './docker-messages';
import { layerCheckDiagnosis } from './docker-push-diagnoses';

export const REQUEST_LITERALS = ['/blobs/sha256:', '/manifests/'] as const;

/** The request.log timestamp has second precision, and the PUT is logged when it completes. */
const PUT_SLACK_MS = 2_000;
/** Layer checks this long before a push still count as its own. */
const CHECKS_BEFORE_MS = 60 * 60_000;
const CHECKS_KEPT_PER_LAYER = 3;

interface Seen<T> {
  record: RequestRecord;
  evidence: Evidence;
  detail: T;
}

export class DockerRequestScan {
  private readonly wantedDigests = new Set<string>();
  private readonly checks = new Map<string, Array<Seen<{ repository: string | null }>>>();
  private readonly puts: Array<Seen<{ image: string; reference: string }>> = [];
  private readonly earliest: number;

  constructor(private readonly incidents: readonly DockerPushIncident[]) {
    for (const incident of incidents) for (const digest of incident.missingLayers) this.wantedDigests.add(digest);
    this.earliest = Math.min(...incidents.map((i) => Date.parse(i.firstSeen))) - CHECKS_BEFORE_MS;
  }

  /** One request.log line that holds a literal. */
  line(text: string, evidence: Omit<Evidence, 'text'>): void {
    const record = parseRequestLine(text);
    if (record === undefined || record.time < this.earliest) return;
    const seen = { ...evidence, text };
    if ((record.method === 'HEAD' || record.method === 'GET') && record.status === 200) {
      const blob = parseBlobPath(record.path);
      if (blob === undefined || !this.wantedDigests.has(blob.digest)) return;
      const list = this.checks.get(blob.digest) ?? [];
      list.push({ record, evidence: seen, detail: { repository: blob.repository } });
      if (list.length > CHECKS_KEPT_PER_LAYER * 4) list.splice(0, list.length - CHECKS_KEPT_PER_LAYER * 4);
      this.checks.set(blob.digest, list);
    } else if (record.method === 'PUT' && record.status === 400) {
      const manifest = parseManifestPath(record.path);
      if (manifest !== undefined) this.puts.push({ record, evidence: seen, detail: { image: manifest.image, reference: manifest.reference } });
    }
  }

  /** The incident with what request.log showed: client, layer checks, evidence, a sharper diagnosis. */
  enrich(incident: DockerPushIncident): DockerPushIncident {
    const lastSeen = Date.parse(incident.lastSeen);
    const firstSeen = Date.parse(incident.firstSeen);
    const put = this.puts.find(
      ({ record, detail }) =>
        detail.image === incident.image &&
        (incident.reference === null || detail.reference === incident.reference) &&
        (record.thread === null || incident.thread === null || record.thread === incident.thread) &&
        record.time >= lastSeen - PUT_SLACK_MS &&
        record.time - record.elapsed <= lastSeen + PUT_SLACK_MS,
    );
    const checks: LayerCheck[] = [];
    const evidence: Evidence[] = [];
    for (const digest of incident.missingLayers) {
      const before = (this.checks.get(digest) ?? []).filter(
        ({ record }) => record.time <= firstSeen + PUT_SLACK_MS && record.time >= firstSeen - CHECKS_BEFORE_MS,
      );
      for (const { record, evidence: line, detail } of before.slice(-CHECKS_KEPT_PER_LAYER)) {
        checks.push({ digest, method: record.method, path: record.path, status: record.status, repository: detail.repository, clientIp: record.clientIp, time: new Date(record.time).toISOString() });
        evidence.push(line);
      }
    }
    if (put === undefined && checks.length === 0) return incident;
    const client = put === undefined ? incident.client : { ip: put.record.clientIp, user: put.record.user, userAgent: put.record.userAgent };
    const lines = [...evidence, ...incident.evidence, ...(put === undefined ? [] : [put.evidence])];
    // The checks come first in the evidence; the PUT, when found, last.
    const proof = [...evidence.map((_line, index) => index), ...(put === undefined ? [] : [lines.length - 1])];
    const shifted = { ...incident.diagnosis, evidence: incident.diagnosis.evidence.map((index) => index + evidence.length) };
    return {
      ...incident,
      client,
      layerChecks: checks,
      evidence: lines,
      diagnosis: checks.length === 0 ? shifted : layerCheckDiagnosis(incident, checks, proof),
    };
  }
}
