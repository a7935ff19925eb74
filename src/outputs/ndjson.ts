import type { Incident } from '../incidents/incident';

/** One incident per line, as JSON: for jq, shippers and other programs. */
export function formatNdjson(incident: Incident): string {
  return `${JSON.stringify(incident)}\n`;
}
