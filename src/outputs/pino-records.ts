/**
 * Incidents as pino log records (`--pino`): the level follows the severity, `msg` is the
 * summary, the whole incident is under `incident`. Serialized by pino itself, so any pino
 * transport (Elasticsearch, Loki, syslog...) can ship them; the caller does the writing, so
 * it keeps control of backpressure.
 */
import pino, { type Level } from 'pino';
import type { Incident, Severity } from '../incidents/incident';

const LEVELS: Record<Severity, Level> = { critical: 'fatal', error: 'error', warning: 'warn', info: 'info' };

/** Returns a renderer: incident -> one pino JSON line. */
export function createPinoRecords(): (incident: Incident) => string {
  let line = '';
  const logger = pino({ name: 'nexus-log-analyzer', level: 'trace' }, { write: (record: string) => void (line = record) });
  return (incident) => {
    logger[LEVELS[incident.severity]]({ incident }, incident.summary);
    return line.endsWith('\n') ? line : `${line}\n`;
  };
}
