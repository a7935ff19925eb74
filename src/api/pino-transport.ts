/**
 * `nexus-log-analyzer/transport`: a pino transport (pino-abstract-transport) that takes Nexus
 * log lines and writes incidents, so the analyzer drops into a pino pipeline:
 *
 *   pino.transport({ target: 'nexus-log-analyzer/transport', options: { destination: '/var/log/incidents.ndjson' } })
 *
 * Each record's `msg` (or `options.field`) is one nexus.log line; with `input: 'lines'`, each
 * raw line written to the transport is. Incidents go to `destination` (a path or a file
 * descriptor, default 1) as NDJSON, or as pino records with `format: 'pino'`. Writes wait for
 * the destination (backpressure reaches pino), a timer runs the live clock, and on close every
 * open group is reported and the destination flushed before the transport says it is done.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import build from 'pino-abstract-transport';
import { Analyzer, type AnalyzerOptions } from '../analyzer';
import type { Incident } from '../incidents/incident';
import { formatNdjson } from '../outputs/ndjson';
import { createPinoRecords } from '../outputs/pino-records';

export interface TransportOptions extends Pick<AnalyzerOptions, 'windowMs' | 'maxOpenGroups' | 'maxLineBytes' | 'lifecycle' | 'liveIdleMs'> {
  /** File path or descriptor for incidents. Default 1 (stdout). */
  destination?: string | number;
  /** `ndjson` (default): one incident per line; `pino`: one pino record per incident. */
  format?: 'ndjson' | 'pino';
  /** `records` (default): pino records, the line in `field`; `lines`: raw nexus.log lines. */
  input?: 'records' | 'lines';
  /** The record field that holds the nexus.log line. Default `msg`. */
  field?: string;
  /** Source name used in evidence. Default `pino`. */
  source?: string;
}

function open(destination: string | number): WriteStream {
  return typeof destination === 'number' ? createWriteStream('', { fd: destination, autoClose: false }) : createWriteStream(destination, { flags: 'a' });
}

async function writeAll(out: Writable, texts: readonly string[]): Promise<void> {
  for (const text of texts) if (!out.write(text)) await once(out, 'drain');
}

export default async function nexusLogAnalyzerTransport(options: TransportOptions = {}) {
  const analyzer = new Analyzer({ ...options, source: options.source ?? 'pino' });
  const out = open(options.destination ?? 1);
  const render = options.format === 'pino' ? createPinoRecords() : formatNdjson;
  const field = options.field ?? 'msg';
  const lines = options.input === 'lines';
  let pending: readonly Incident[] = [];
  // Live clock: a quiet log still completes its last event and closes windows.
  const clock = setInterval(() => (pending = [...pending, ...analyzer.advance(Date.now())]), 50);
  clock.unref();

  return build(
    async (source: AsyncIterable<unknown>) => {
      for await (const record of source) {
        const line = lines ? String(record) : (record as Record<string, unknown> | null)?.[field];
        const closed = typeof line === 'string' ? analyzer.push(line) : [];
        const ready = pending.length === 0 ? closed : [...pending, ...closed];
        pending = [];
        if (ready.length > 0) await writeAll(out, ready.map(render));
      }
    },
    {
      ...(lines ? { parse: 'lines' as const } : {}),
      async close() {
        clearInterval(clock);
        await writeAll(out, [...pending, ...analyzer.end()].map(render)); // nothing open is lost at exit
        pending = [];
        await new Promise<void>((resolve) => (typeof options.destination === 'string' ? out.end(resolve) : out.write('', () => resolve())));
      },
    },
  );
}
