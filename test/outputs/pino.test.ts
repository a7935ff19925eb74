/**
 * pino: the transport (`nexus-log-analyzer/transport`, loaded by pino in its worker from the
 * built package) and `--pino` output.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import type { Incident } from '../../src/incidents/incident';
import { countByRule, SAMPLE_INCIDENTS } from '../cli/samples';
import { missingLayerLine, parseNdjson, runCli, SAMPLES } from '../support/helpers';

const SEED_LINES = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'), 'utf8').split('\n').filter(Boolean);

async function throughTransport(lines: string[], options: Record<string, unknown>, log: (logger: pino.Logger, line: string) => void) {
  const destination = path.join(mkdtempSync(path.join(tmpdir(), 'nla-pino-')), 'incidents.ndjson');
  const transport = pino.transport({ target: 'nexus-log-analyzer/transport', options: { destination, ...options } });
  const logger = pino(transport);
  for (const line of lines) log(logger, line);
  const closed = once(transport, 'close');
  transport.end();
  await closed;
  return readFileSync(destination, 'utf8');
}

describe('pino transport', () => {
  it('takes nexus.log lines as pino records and writes incidents; open pushes are written at close', async () => {
    const open = missingLayerLine('2025-09-10 01:40:00,000+0000', 'l9', 'open/app', '1', { thread: 'other' });
    const text = await throughTransport([...SEED_LINES, open], {}, (logger, line) => logger.info(line));
    const incidents = parseNdjson(text) as unknown as Array<{ image: string; closeReason: string; evidence: Array<{ source: string }> }>;
    expect(incidents.map((i) => [i.image, i.closeReason])).toEqual([
      ['ctbots/base/llamafactory', 'matched'],
      ['open/app', 'end-of-input'],
    ]);
    expect(incidents[0]?.evidence[0]?.source).toBe('pino');
  }, 20_000);

  it('reads the line from another field, and writes pino records with format pino', async () => {
    const text = await throughTransport(SEED_LINES, { field: 'line', format: 'pino' }, (logger, line) => logger.info({ line }, 'shipped'));
    const [record] = text.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; incident: { rule: string } });
    expect(record?.level).toBe(50);
    expect(record?.incident.rule).toBe('docker-manifest-missing-layers');
    expect(record?.msg).toMatch(/^Docker push of ctbots/);
  }, 20_000);
});

describe('--pino', () => {
  it('writes each incident as a pino record: level from severity, msg the summary, the incident attached', () => {
    const run = runCli(['--pino', 'samples/']);
    const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: number; name: string; msg: string; incident: { summary: string } });
    const incidents = records.map((r) => r.incident as unknown as Incident);
    expect(countByRule(incidents)).toEqual(SAMPLE_INCIDENTS);
    // pino levels: critical fatal 60, error 50, warning 40, info 30.
    const LEVEL: Record<string, number> = { critical: 60, error: 50, warning: 40, info: 30 };
    for (const record of records) {
      expect(record.name).toBe('nexus-log-analyzer');
      expect(record.msg).toBe(record.incident.summary);
      expect(record.level).toBe(LEVEL[(record.incident as unknown as Incident).severity]);
    }
    expect(records.filter((r) => (r.incident as unknown as Incident).rule === 'docker-manifest-missing-layers').every((r) => r.level === 50)).toBe(true);
    expect(runCli(['--format', 'pino', 'samples/']).stdout.split('\n').length).toBe(run.stdout.split('\n').length);
  });
});
