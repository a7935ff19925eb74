/**
 * For the fleet tests: node logs with overlapping failures, the records a node must publish
 * (the analyzer run over the same bytes), the built CLI as child processes, and the stream read
 * back as it is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Analyzer } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';
import { decodeRecord, type FleetRecord } from '../../src/fleet/record';
import { CLI, ROOT } from '../support/helpers';

const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
const BASE = Date.UTC(2025, 2, 3, 9, 0, 0);
/**
 * Log time between bursts. Far more than a burst's wall-clock pause, so the live clock (wall
 * time since the last data) never runs ahead of the next line's time: a node publishes exactly
 * the records a batch run of its file gives, whatever the timing, and the tests can compare.
 */
const BURST_MS = 60_000;

function at(ms: number): string {
  const d = new Date(BASE + ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())},${p(d.getUTCMilliseconds(), 3)}+0000`;
}

/** mulberry32: the same bursts for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A node's log, burst by burst: quiet lines, and now and then a failed Docker push of one of
 * `images` (the same image on several nodes is the same failure: one fingerprint) or a proxy
 * that cannot reach its remote.
 */
export class NodeLog {
  private readonly random: () => number;
  private index = 0;

  constructor(
    seed: number,
    private readonly images: readonly string[],
  ) {
    this.random = prng(seed);
  }

  /** The next burst's text (whole lines). */
  next(): string {
    const i = this.index++;
    const t = i * BURST_MS;
    const thread = `qtp${(i % 7) + 1}-${i}`;
    const lines = [`${at(t)} INFO  [${thread}]  *SYSTEM org.sonatype.nexus.internal.Heartbeat - burst ${i}`];
    if (this.random() < 0.6) {
      const image = this.images[Math.floor(this.random() * this.images.length)] as string;
      // The layer is the image's: the same broken push on every node is one failure (one fingerprint).
      const layer = [...image].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7).toString(16).padStart(8, '0').repeat(8);
      lines.push(
        `${at(t + 10)} ERROR [${thread}]  ci ${DS} - Manifest refers to missing layer: sha256:${layer} for: ${image}/1.0 in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='docker-hosted'}`,
        `${at(t + 20)} WARN  [${thread}]  ci ${V2} - Error: PUT /v2/${image}/manifests/1.0: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`,
      );
    }
    if (this.random() < 0.2) {
      lines.push(
        `${at(t + 30)} WARN  [${thread}]  *SYSTEM org.sonatype.nexus.repository.proxy.ProxyFacetSupport - Exception org.apache.http.conn.ConnectTimeoutException: Connect to remote.example.com:443 failed: connect timed out checking remote for update, proxy repo maven-central failed to fetch foo/bar/1.${i}/bar-1.${i}.pom with cause Connect to remote.example.com:443 failed: connect timed out, skipping`,
      );
    }
    lines.push(`${at(t + 40)} INFO  [${thread}]  *SYSTEM org.sonatype.nexus.internal.Heartbeat - burst ${i} done`);
    return `${lines.join('\n')}\n`;
  }

  bursts(n: number): string {
    let text = '';
    for (let k = 0; k < n; k++) text += this.next();
    return text;
  }
}

/** The lifecycle records an edge must publish for this file content: the analyzer over the same bytes, never ended (an edge never ends). */
export function expectedRecords(text: string, source: string): Incident[] {
  const analyzer = new Analyzer({ lifecycle: true, source });
  return [...analyzer.write(text), ...analyzer.flushPendingEvent()];
}

export function recordKey(incident: Pick<Incident, 'id' | 'revision' | 'lifecycle'>): string {
  return `${incident.id}/${incident.revision}/${incident.lifecycle}`;
}

/** Every record in the stream, in stream order (an ordered consumer of its own: the durable one is left alone). */
export async function readStream(url: string, stream = 'NEXUS_INCIDENTS'): Promise<FleetRecord[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    if (info.state.messages === 0) return [];
    const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const out: FleetRecord[] = [];
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const message of messages) {
      out.push(decodeRecord(message.data));
      if (message.seq >= info.state.last_seq) break;
    }
    await messages.close();
    return out;
  } finally {
    await nc.close();
  }
}

/** Polls an observable condition (no fixed sleeps); throws with `what` when `timeoutMs` passes. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The built CLI (dist/) as a child process, its output collected. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1))));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  waitForStderr(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    return waitUntil(`${pattern} on stderr (stderr so far: ${this.stderr.slice(-2000)})`, () => pattern.test(this.stderr) || !this.running, timeoutMs, 20).then(() => {
      if (!pattern.test(this.stderr)) throw new Error(`process exited before ${pattern}: ${this.stderr.slice(-4000)}`);
    });
  }

  /** SIGTERM, and its exit code (SIGKILL after `graceMs`). */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The ndjson lines written so far, parsed. */
  lines<T>(): T[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T);
  }
}

/** Records of one node: seqs must be 1..n with no repeat and no gap. */
export function seqProblems(records: readonly FleetRecord[]): string[] {
  const seqs = records.map((r) => r.seq).sort((a, b) => a - b);
  const problems: string[] = [];
  seqs.forEach((seq, i) => {
    if (seq !== i + 1) problems.push(`position ${i}: seq ${seq}`);
  });
  return problems.slice(0, 10);
}

/** Messages in the stream now (0 when it does not exist yet). */
export async function streamCount(url: string, stream = 'NEXUS_INCIDENTS'): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(stream)).state.messages;
  } catch {
    return 0;
  } finally {
    await nc.close();
  }
}

/** True when the durable consumer has delivered everything and had it all acknowledged. */
export async function consumerDone(url: string, durable = 'nexus-fleet', stream = 'NEXUS_INCIDENTS'): Promise<boolean> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  } catch {
    return false;
  } finally {
    await nc.close();
  }
}

/** Checks the stream holds exactly the records of `file` for `node` (see the header). */
export function checkExactlyOnce(records: readonly FleetRecord[], node: string, file: string): void {
  const got = records.filter((r) => r.node === node);
  expect(seqProblems(got)).toEqual([]);
  const keys = got.map((r) => recordKey(r.incident));
  const twice = keys.filter((key, i) => keys.indexOf(key) !== i);
  expect(twice).toEqual([]);
  const expected = expectedRecords(readFileSync(file, 'utf8'), file);
  const missing = expected.filter((incident) => !keys.includes(recordKey(incident)));
  expect(missing.map(recordKey)).toEqual([]);
  // Beyond those, only closes the live clock made while the edge sat idle at the end (an
  // aggregate still open in the batch run, closed when its window passed in wall time).
  const extra = got.filter((r) => !expected.some((incident) => recordKey(incident) === recordKey(r.incident)));
  for (const record of extra) {
    expect(record.incident.lifecycle).toBe('closed');
    expect(expected.some((incident) => incident.id === record.incident.id && incident.lifecycle === 'closed')).toBe(false);
  }
  expect(got.length).toBeGreaterThan(50);
}
