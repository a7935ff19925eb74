import { FleetMerger, fleetIncident, mergeRecord } from '../../src/fleet/fleet-merge';
import { decodeRecord, encodeRecord, type FleetRecord } from '../../src/fleet/record';
import { messageId } from '../../src/fleet/names';
import type { Incident } from '../../src/incidents/incident';
import { expectedRecords, NodeLog } from './support';

function records(node: string, incidents: readonly Incident[]): FleetRecord[] {
  return incidents.map((incident, i) => ({ v: 1, node, seq: i + 1, incident }));
}

describe('fleet merge', () => {
  const images = ['team/a', 'team/b', 'team/c'];
  const n1 = records('n1', expectedRecords(new NodeLog(1, images).bursts(40), 'n1.log'));
  const n2 = records('n2', expectedRecords(new NodeLog(2, images).bursts(40), 'n2.log'));

  it('makes one fleet incident per fingerprint, listing the nodes with their counts and times', () => {
    const merger = new FleetMerger();
    for (const record of [...n1, ...n2]) merger.add(record);
    const fleet = merger.incidents();
    const fingerprints = new Set([...n1, ...n2].map((r) => r.incident.fingerprint));
    expect(fleet.map((f) => f.id).sort()).toEqual([...fingerprints].sort());
    for (const incident of fleet) {
      const expectedNodes = ['n1', 'n2'].filter((node) => [...n1, ...n2].some((r) => r.node === node && r.incident.fingerprint === incident.id));
      expect(incident.nodes).toEqual(expectedNodes);
      for (const node of incident.fleet.perNode) {
        // A node's count: the last count of each of its incidents of that fingerprint.
        const last = new Map<string, number>();
        for (const r of node.node === 'n1' ? n1 : n2) if (r.incident.fingerprint === incident.id) last.set(r.incident.id, r.incident.count);
        expect(node.count).toBe([...last.values()].reduce((a, b) => a + b, 0));
        expect(node.incidents).toBe(last.size);
      }
      expect(incident.count).toBe(incident.fleet.perNode.reduce((sum, n) => sum + n.count, 0));
    }
    expect(fleet.some((f) => f.nodes.length === 2)).toBe(true);
  });

  it('is idempotent and ignores an older revision arriving late', () => {
    const merger = new FleetMerger();
    for (const record of n1) merger.add(record);
    const once = JSON.stringify(merger.incidents());
    for (const record of n1) expect(merger.add(record)).toBeNull();
    for (const record of [...n1].reverse()) merger.add(record);
    expect(JSON.stringify(merger.incidents())).toBe(once);
    expect(merger.duplicates).toBe(2 * n1.length);
  });

  it('is open while any node has the failure open, closed when all closed', () => {
    const opened = n1.find((r) => r.incident.lifecycle === 'opened' && n1.some((c) => c.incident.id === r.incident.id && c.incident.lifecycle === 'closed')) as FleetRecord;
    const closed = n1.find((r) => r.incident.id === opened.incident.id && r.incident.lifecycle === 'closed') as FleetRecord;
    const other = { ...opened, node: 'n2', incident: { ...opened.incident, id: 'ffffffffffffffff' } };
    let state = mergeRecord(null, opened);
    state = mergeRecord(state, other);
    state = mergeRecord(state, closed);
    expect(fleetIncident(state as NonNullable<typeof state>).lifecycle).toBe('updated');
    state = mergeRecord(state, { ...closed, node: 'n2', incident: { ...closed.incident, id: 'ffffffffffffffff' } });
    expect(fleetIncident(state as NonNullable<typeof state>).lifecycle).toBe('closed');
  });

  it('gives every record of a node a distinct message id, stable across encodings', () => {
    const ids = n1.map((r) => messageId('n1', r.incident));
    expect(new Set(ids).size).toBe(ids.length);
    const again = n1.map((r) => decodeRecord(encodeRecord(r))).map((r) => messageId(r.node, r.incident));
    expect(again).toEqual(ids);
    expect(() => decodeRecord(Buffer.from('{"v":1,"node":"a.b","seq":1,"incident":{}}'))).toThrow(/node name/);
  });
});
