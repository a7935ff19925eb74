/**
 * The central's merge, pure: lifecycle records from many nodes folded into one fleet incident
 * per fingerprint (the same failure on three nodes is one incident listing the three), with
 * per-node counts and first/last times. Idempotent: a record merged twice (redelivered to
 * another central instance) changes nothing, so it is neither counted nor written twice.
 * Order-tolerant: an older revision arriving after a newer one is ignored.
 */
import type { Incident, Lifecycle } from '../incidents/incident';
import type { FleetRecord } from './record';

/** Ids of closed incidents remembered per node, to recognise a late or repeated record of one. */
const RECENT_CLOSED = 256;

interface OpenIncident {
  revision: number;
  lifecycle: Lifecycle;
  count: number;
}

export interface FleetNodeState {
  /** Incidents of this fingerprint still open on the node, by id. */
  open: Record<string, OpenIncident>;
  /** Lines of the incidents closed on the node. */
  closedCount: number;
  closedIncidents: number;
  /** Ids closed lately (newest last), for idempotence. */
  recentClosed: string[];
  firstSeen: string | null;
  lastSeen: string | null;
  lastIncident: string;
  /** Highest record seq merged from this node. */
  lastSeq: number;
}

/** What the central keeps per fingerprint (the KV value). */
export interface FleetState {
  v: 1;
  fingerprint: string;
  /** The latest record's incident: title, summary, diagnosis and evidence shown for the fleet incident. */
  latest: Incident;
  latestNode: string;
  nodes: Record<string, FleetNodeState>;
  /** Records merged. */
  records: number;
}

export interface FleetNodeSummary {
  node: string;
  /** Lines on this node, over its incidents of this fingerprint. */
  count: number;
  incidents: number;
  open: number;
  firstSeen: string | null;
  lastSeen: string | null;
  lastIncident: string;
}

/** A fleet incident: an Incident (so every output takes it) plus the nodes it happened on. */
export interface FleetIncident extends Incident {
  /** The nodes, sorted. */
  nodes: string[];
  fleet: {
    fingerprint: string;
    records: number;
    perNode: FleetNodeSummary[];
  };
}

/** Folds one record in; returns the new state, or null when the record was merged already (or is older than what is known). */
export function mergeRecord(state: FleetState | null, record: FleetRecord): FleetState | null {
  const incident = record.incident;
  const base: FleetState = state ?? { v: 1, fingerprint: incident.fingerprint, latest: incident, latestNode: record.node, nodes: {}, records: 0 };
  const existing = base.nodes[record.node];
  const node: FleetNodeState = existing
    ? { ...existing, open: { ...existing.open }, recentClosed: existing.recentClosed.slice() }
    : { open: {}, closedCount: 0, closedIncidents: 0, recentClosed: [], firstSeen: null, lastSeen: null, lastIncident: incident.id, lastSeq: 0 };
  if (node.recentClosed.includes(incident.id)) return null;
  const known = node.open[incident.id];
  if (known !== undefined && !newer(incident, known)) return null;

  if (incident.lifecycle === 'closed') {
    delete node.open[incident.id];
    node.closedCount += incident.count;
    node.closedIncidents++;
    node.recentClosed.push(incident.id);
    if (node.recentClosed.length > RECENT_CLOSED) node.recentClosed.splice(0, node.recentClosed.length - RECENT_CLOSED);
  } else {
    node.open[incident.id] = { revision: incident.revision, lifecycle: incident.lifecycle, count: incident.count };
  }
  // The incident seen last in log time, whatever order the records were merged in.
  if ((incident.lastSeen ?? '') >= (node.lastSeen ?? '')) node.lastIncident = incident.id;
  node.firstSeen = earliest(node.firstSeen, incident.firstSeen);
  node.lastSeen = latest(node.lastSeen, incident.lastSeen);
  node.lastSeq = Math.max(node.lastSeq, record.seq);
  const latestIsNewer = (incident.lastSeen ?? '') >= (base.latest.lastSeen ?? '');
  return {
    ...base,
    latest: latestIsNewer ? incident : base.latest,
    latestNode: latestIsNewer ? record.node : base.latestNode,
    nodes: { ...base.nodes, [record.node]: node },
    records: base.records + 1,
  };
}

/** Revision orders the records of one incident; at equal revision a close comes after the update it ends. */
function newer(incident: Incident, known: OpenIncident): boolean {
  if (incident.revision !== known.revision) return incident.revision > known.revision;
  return incident.lifecycle === 'closed' && known.lifecycle !== 'closed';
}

function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}

/** The fleet incident a state stands for. Open while any node's incident is open. */
export function fleetIncident(state: FleetState): FleetIncident {
  const perNode: FleetNodeSummary[] = Object.keys(state.nodes)
    .sort()
    .map((name) => {
      const n = state.nodes[name] as FleetNodeState;
      const open = Object.values(n.open);
      return {
        node: name,
        count: n.closedCount + open.reduce((sum, o) => sum + o.count, 0),
        incidents: n.closedIncidents + open.length,
        open: open.length,
        firstSeen: n.firstSeen,
        lastSeen: n.lastSeen,
        lastIncident: n.lastIncident,
      };
    });
  const count = perNode.reduce((sum, n) => sum + n.count, 0);
  const firstSeen = perNode.reduce<string | null>((t, n) => earliest(t, n.firstSeen), null);
  const lastSeen = perNode.reduce<string | null>((t, n) => latest(t, n.lastSeen), null);
  const openNodes = perNode.filter((n) => n.open > 0).length;
  const base = state.latest;
  const minutes = firstSeen !== null && lastSeen !== null ? (Date.parse(lastSeen) - Date.parse(firstSeen)) / 60_000 : 0;
  return {
    ...base,
    // Keyed by the failure, not by one node's occurrence of it.
    id: state.fingerprint,
    lifecycle: openNodes > 0 ? (state.records === 1 ? 'opened' : 'updated') : 'closed',
    closeReason: openNodes > 0 ? null : base.closeReason,
    count,
    occurrences: perNode.reduce((sum, n) => sum + n.incidents, 0),
    ratePerMinute: minutes >= 1 ? Math.round((count / minutes) * 100) / 100 : count,
    firstSeen,
    lastSeen,
    nodes: perNode.map((n) => n.node),
    fleet: { fingerprint: state.fingerprint, records: state.records, perNode },
  };
}

/** Merges records in memory (the `--once` report, tests): one state per fingerprint. */
export class FleetMerger {
  private readonly states = new Map<string, FleetState>();
  duplicates = 0;

  /** Returns the fingerprint's state when the record changed it, else null. */
  add(record: FleetRecord): FleetState | null {
    const key = record.incident.fingerprint;
    const next = mergeRecord(this.states.get(key) ?? null, record);
    if (next === null) {
      this.duplicates++;
      return null;
    }
    this.states.set(key, next);
    return next;
  }

  incidents(): FleetIncident[] {
    return [...this.states.values()].map(fleetIncident).sort((a, b) => (a.firstSeen ?? '').localeCompare(b.firstSeen ?? '') || a.id.localeCompare(b.id));
  }
}
