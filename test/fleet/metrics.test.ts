/**
 * `--metrics HOST:PORT` in follow, edge and fleet modes: scraped with real HTTP requests, the
 * Prometheus text parsed line by line, and the numbers checked against what was read and found.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHostPort } from '../../src/outputs/metrics';
import { describeWithNats, NatsServer } from '../support/nats-server';
import { fetchText, scrape } from './prometheus';
import { CliProcess, consumerDone, expectedRecords, NodeLog, readStream, waitUntil } from './support';

jest.setTimeout(180_000);

function metricsUrl(process: CliProcess): string {
  return (/metrics: (http:\S+)/.exec(process.stderr) as RegExpExecArray)[1] as string;
}

describe('metrics: --metrics HOST:PORT', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nla-metrics-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses HOST:PORT forms', () => {
    expect(parseHostPort('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseHostPort(':9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(() => parseHostPort('9464')).toThrow(/HOST:PORT/);
  });

  it('serves what follow mode read and found', async () => {
    const file = path.join(dir, 'follow.log');
    const text = new NodeLog(3, ['team/m']).bursts(60);
    writeFileSync(file, text);
    const follow = new CliProcess(['--follow', file, '--from-start', '--metrics', '127.0.0.1:0', '--ready', '--format', 'ndjson']);
    try {
      await follow.waitForStderr(/ready: /);
      const url = metricsUrl(follow);
      const lines = text.split('\n').length - 1;
      await waitUntil('every line counted', async () => (await scrape(url)).get('nexus_log_lines_read_total') === lines, 60_000, 100);
      const m = await scrape(url);
      expect(m.get('nexus_log_bytes_read_total')).toBe(statSync(file).size);
      const closed = expectedRecords(text, file).filter((i) => i.lifecycle === 'closed');
      const rule = closed[0]?.rule as string;
      expect(m.get(`nexus_incidents_total{rule="${rule}",severity="${closed[0]?.severity as string}"}`)).toBe(closed.filter((i) => i.rule === rule).length);
      expect(m.get('nexus_open_groups')).toBeGreaterThanOrEqual(0);
      expect(m.get('nexus_event_time_lag_seconds')).toBeGreaterThan(0); // the log's times are in 2025
      expect(m.get('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect([...m.keys()].some((key) => key.startsWith('nexus_publish'))).toBe(false); // edge families only in edge mode
      const response = await fetchText(url);
      expect(response.type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect((await fetchText(url.replace('/metrics', '/'))).status).toBe(404);
    } finally {
      await follow.stop();
    }
  });

  it('refuses --metrics without --follow, and a bad address', () => {
    const alone = new CliProcess(['--metrics', '127.0.0.1:0', path.join(dir, 'none.log')]);
    const bad = new CliProcess(['--follow', path.join(dir, 'none.log'), '--metrics', 'nine']);
    return Promise.all([alone.exited, bad.exited]).then(([a, b]) => {
      expect(a).toBe(2);
      expect(alone.stderr).toMatch(/--metrics goes with --follow/);
      expect(b).toBe(2);
      expect(bad.stderr).toMatch(/HOST:PORT/);
    });
  });
});

describeWithNats('metrics: edge and fleet modes', () => {
  let nats: NatsServer;
  let dir: string;
  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nla-metrics-nats-'));
  });
  afterAll(async () => {
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves publishing and merging counts', async () => {
    const file = path.join(dir, 'nexus.log');
    const text = new NodeLog(4, ['team/e', 'team/f']).bursts(50);
    writeFileSync(file, text);
    const expected = expectedRecords(text, file).length;
    const edge = new CliProcess(['--follow', file, '--from-start', '--publish', nats.url, '--node', 'm1', '--metrics', '127.0.0.1:0', '--ready']);
    const central = new CliProcess(['fleet', '--nats', nats.url, '--format', 'ndjson', '--metrics', '127.0.0.1:0', '--ready']);
    try {
      await edge.waitForStderr(/ready: reading/);
      await central.waitForStderr(/ready: fleet consumer/);
      const edgeUrl = metricsUrl(edge);
      let published = 0;
      await waitUntil('every record published', async () => (published = (await scrape(edgeUrl)).get('nexus_published_records_total') ?? 0) >= expected, 60_000, 100).catch((error: Error) => {
        throw new Error(`${error.message}: ${published} of ${expected}; edge: ${edge.stderr}`);
      });
      const e = await scrape(edgeUrl);
      expect(e.get('nexus_publish_backlog')).toBe(0);
      expect(e.get('nexus_publish_errors_total')).toBe(0);
      expect(e.get('nexus_reading_paused')).toBe(0);
      expect(e.get('nexus_checkpoints_saved_total')).toBeGreaterThan(0);
      expect(e.get('nexus_log_bytes_read_total')).toBe(statSync(file).size);
      expect(e.get('nexus_incident_records_total{lifecycle="opened"}')).toBe(expectedRecords(readFileSync(file, 'utf8'), file).filter((i) => i.lifecycle === 'opened').length);

      await waitUntil('the central to merge everything', () => consumerDone(nats.url), 60_000, 100);
      const stream = await readStream(nats.url);
      const c = await scrape(metricsUrl(central));
      expect(c.get('nexus_fleet_records_total{node="m1"}')).toBe(stream.length);
      expect(c.get('nexus_fleet_consumer_pending')).toBe(0);
      expect(c.get('nexus_fleet_incidents_output_total')).toBeGreaterThan(0);
      expect([...c.keys()].some((key) => key.startsWith('nexus_log_lines'))).toBe(false);
    } finally {
      await Promise.all([edge.stop(), central.stop()]);
    }
  });
});
