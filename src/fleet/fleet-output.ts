/** How the central writes a fleet incident: the usual ndjson or pretty block, plus its nodes. */
import { formatNdjson } from '../outputs/ndjson';
import { formatPretty } from '../outputs/pretty';
import type { FleetIncident } from './fleet-merge';

export type FleetFormat = 'ndjson' | 'pretty';

export function fleetRenderer(format: FleetFormat, options: { color: boolean; width: number }): (incident: FleetIncident) => string {
  if (format === 'ndjson') return formatNdjson;
  return (incident) => {
    const block = formatPretty(incident, options);
    const nodes = `nodes       ${incident.fleet.perNode.map((n) => `${n.node} (${n.count} line${n.count === 1 ? '' : 's'}${n.open > 0 ? ', open' : ''}, ${clock(n.firstSeen)}..${clock(n.lastSeen)})`).join(', ')}\n`;
    // The nodes go last in the block, before its closing blank line.
    return block.endsWith('\n\n') ? `${block.slice(0, -1)}${nodes}\n` : `${block}${nodes}`;
  };
}

/** `01:02:03` of an ISO time, `?` without one. */
function clock(iso: string | null): string {
  return iso === null ? '?' : iso.slice(11, 19);
}
