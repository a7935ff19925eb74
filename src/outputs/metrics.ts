/**
 * `--metrics HOST:PORT`: Prometheus text over HTTP (prom-client), for follow, edge and fleet
 * modes. Counters of what was read come from the analyzer's own stats at scrape time (no
 * per-line cost); the rest is counted as it happens. A registry of its own: embedding
 * programs keep their global one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AnalyzerStats } from '../incidents/stats';

/** What metrics read at scrape time: an analyzer's stats and its latest log time. */
type StatsSource = { readonly stats: AnalyzerStats; readonly eventTime: number };
import type { Incident } from '../incidents/incident';

export interface MetricsServer {
  /** `http://127.0.0.1:9464/metrics`. */
  url: string;
  close(): Promise<void>;
}

/** What the edge reports (see docs/metrics.md). */
export interface PublishMetrics {
  backlog(records: number): void;
  published(records: number, duplicates: number): void;
  publishError(): void;
  readingPaused(paused: boolean): void;
  checkpointSaved(): void;
}

/** What the central reports. */
export interface FleetMetrics {
  record(node: string): void;
  duplicate(): void;
  output(): void;
  error(): void;
  consumerPending(messages: number): void;
  mergeConflict(): void;
}

export class Metrics {
  readonly registry = new Registry();
  private analyzer: () => StatsSource | undefined = () => undefined;
  private lastCheckpoint = Number.NaN;
  private readonly incidents: Counter<'rule' | 'severity'>;
  private readonly records: Counter<'lifecycle'>;
  readonly publish: PublishMetrics;
  readonly fleet: FleetMetrics;

  /** `mode`: which families are exposed (the others are counted nowhere): what was read for follow and edge, publishing for edge, merging for fleet. */
  constructor(mode: 'follow' | 'edge' | 'fleet') {
    const registers = mode === 'fleet' ? [] : [this.registry];
    const edge = mode === 'edge' ? [this.registry] : [];
    const central = mode === 'fleet' ? [this.registry] : [];
    collectDefaultMetrics({ register: this.registry });
    const self = this;
    // Counted by the analyzer: added by the difference at each scrape.
    const fromStats = (name: string, help: string, read: (analyzer: StatsSource) => number): void => {
      let seen = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const analyzer = self.analyzer();
          if (analyzer === undefined) return;
          const now = read(analyzer);
          if (now > seen) this.inc(now - seen);
          seen = Math.max(seen, now);
        },
      });
    };
    fromStats('nexus_log_lines_read_total', 'Log lines read', (a) => a.stats.lines);
    fromStats('nexus_log_bytes_read_total', 'Log bytes read', (a) => a.stats.bytes);
    new Gauge({
      name: 'nexus_open_groups',
      help: 'Incidents open now (groups still collecting lines)',
      registers,
      collect() {
        this.set(self.analyzer()?.stats.openGroups ?? 0);
      },
    });
    new Gauge({
      name: 'nexus_event_time_lag_seconds',
      help: 'Wall clock minus the latest log time read: how far behind the log (or how long quiet) the analysis is',
      registers,
      collect() {
        const time = self.analyzer()?.eventTime;
        if (time !== undefined && Number.isFinite(time)) this.set(Math.max(0, (Date.now() - time) / 1000));
      },
    });
    this.incidents = new Counter({ name: 'nexus_incidents_total', help: 'Incidents closed, by rule and severity', labelNames: ['rule', 'severity'], registers: [this.registry] });
    this.records = new Counter({ name: 'nexus_incident_records_total', help: 'Lifecycle records produced (follow, edge) or merged (fleet), by lifecycle', labelNames: ['lifecycle'], registers: [this.registry] });

    const backlog = new Gauge({ name: 'nexus_publish_backlog', help: 'Records produced and not yet acknowledged by JetStream', registers: edge });
    const published = new Counter({ name: 'nexus_published_records_total', help: 'Records acknowledged by JetStream', registers: edge });
    const duplicates = new Counter({ name: 'nexus_publish_duplicates_total', help: 'Records the server already had (republished after a restart or a lost acknowledgement)', registers: edge });
    const publishErrors = new Counter({ name: 'nexus_publish_errors_total', help: 'Failed attempts to checkpoint or publish (NATS unreachable, timeouts)', registers: edge });
    const paused = new Gauge({ name: 'nexus_reading_paused', help: '1 while reading is stopped because the publish backlog is full', registers: edge });
    const checkpoints = new Counter({ name: 'nexus_checkpoints_saved_total', help: 'Checkpoints saved', registers: edge });
    new Gauge({
      name: 'nexus_checkpoint_age_seconds',
      help: 'Seconds since the last checkpoint was saved',
      registers: edge,
      collect() {
        if (Number.isFinite(self.lastCheckpoint)) this.set((Date.now() - self.lastCheckpoint) / 1000);
      },
    });
    this.publish = {
      backlog: (n) => backlog.set(n),
      published: (n, dup) => {
        published.inc(n);
        if (dup > 0) duplicates.inc(dup);
      },
      publishError: () => publishErrors.inc(),
      readingPaused: (p) => paused.set(p ? 1 : 0),
      checkpointSaved: () => {
        checkpoints.inc();
        this.lastCheckpoint = Date.now();
      },
    };

    const fleetRecords = new Counter({ name: 'nexus_fleet_records_total', help: 'Lifecycle records merged, by node', labelNames: ['node'], registers: central });
    const fleetDuplicates = new Counter({ name: 'nexus_fleet_duplicate_records_total', help: 'Records already merged (redelivered), skipped', registers: central });
    const fleetOutput = new Counter({ name: 'nexus_fleet_incidents_output_total', help: 'Fleet incident changes written', registers: central });
    const fleetErrors = new Counter({ name: 'nexus_fleet_errors_total', help: 'Failed fetches or merges (retried), and records refused as malformed', registers: central });
    const fleetPending = new Gauge({ name: 'nexus_fleet_consumer_pending', help: 'Records in the stream not yet delivered to the central consumer', registers: central });
    const conflicts = new Counter({ name: 'nexus_fleet_merge_conflicts_total', help: 'Merges redone because another central instance wrote the same fleet incident first', registers: central });
    this.fleet = {
      record: (node) => fleetRecords.inc({ node }),
      duplicate: () => fleetDuplicates.inc(),
      output: () => fleetOutput.inc(),
      error: () => fleetErrors.inc(),
      consumerPending: (n) => fleetPending.set(n),
      mergeConflict: () => conflicts.inc(),
    };
  }

  /** The analyzer whose stats to read at scrape time (it may be created later). */
  watchAnalyzer(analyzer: () => StatsSource | undefined): void {
    this.analyzer = analyzer;
  }

  /** A record or incident produced. */
  incident(incident: Incident): void {
    this.records.inc({ lifecycle: incident.lifecycle });
    if (incident.lifecycle === 'closed') this.incidents.inc({ rule: incident.rule, severity: incident.severity });
  }

  /** Serves `/metrics` on HOST:PORT (port 0: any free port; the URL says which). */
  async serve(hostPort: string): Promise<MetricsServer> {
    const { host, port } = parseHostPort(hostPort);
    const server: Server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref(); // never the reason the process stays up
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      url: `http://${shown}:${address.port}/metrics`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

/** `127.0.0.1:9464`, `[::1]:9464`, `:9464` (all addresses); throws a RangeError naming the problem. */
export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || !(port >= 0 && port <= 65535)) throw new RangeError(`--metrics ${value}: give HOST:PORT, e.g. 127.0.0.1:9464`);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}
