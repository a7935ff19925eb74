#!/usr/bin/env node
'use strict';
/**
 * Fleet bench (`npm run bench:fleet`), against a real nats-server started here on a loopback
 * port with a temporary store:
 *
 * 1. End to end: an edge publishes a log full of failures (--from-start) while a central merges
 *    them; records per second from the edge's start until the central has acknowledged the last.
 * 2. The edge's reading throughput on a quiet log with publishing off (`--follow`) and on
 *    (`--follow --publish`): time from start until every byte is read (from --metrics).
 *    Target: publishing on is at most 10 % slower.
 *
 *   node bench/fleet.js [quiet-log]   (default: generates 256 MB; `node bench/generate-log.js <file> 1GB` makes the 1 GB one)
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { connect } = require('@nats-io/transport-node');
const { jetstreamManager } = require('@nats-io/jetstream');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'nexus-log-analyzer.js');
const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';

function natsBinary() {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) if (fs.existsSync(candidate)) return candidate;
  const found = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Every process started here, stopped at the end whatever happens. */
const children = new Set();

async function startNats(dir) {
  const port = await freePort();
  const child = spawn(natsBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`nats-server not ready:\n${seen}`)), 30_000);
    child.stderr.setEncoding('utf8').on('data', (text) => {
      seen += text;
      if (/Server is ready/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`nats-server exited:\n${seen}`)));
  });
  return { url: `nats://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

function cli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    stderr: () => stderr,
    async metricsUrl() {
      await until(() => /metrics: (http:\S+)/.test(stderr) || child.exitCode !== null, 30_000, 10);
      const match = /metrics: (http:\S+)/.exec(stderr);
      if (match === null) throw new Error(`no metrics address: ${stderr}`);
      return match[1];
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function until(condition, timeoutMs, everyMs) {
  const deadline = Date.now() + timeoutMs;
  // A scrape refused or reset (a busy or exiting process) is "not yet"; the condition says when a process died.
  while (!(await Promise.resolve().then(condition).catch((error) => (error.code === 'ECONNRESET' || error.code === 'ECONNREFUSED' ? false : Promise.reject(error))))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function scrape(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (t) => (body += t));
        response.on('end', () => {
          const samples = new Map();
          for (const line of body.split('\n')) {
            const match = /^(\S+) (\S+)$/.exec(line);
            if (match !== null && !line.startsWith('#')) samples.set(match[1], Number(match[2]));
          }
          resolve(samples);
        });
      })
      .on('error', reject);
  });
}

/** A log where every burst is a failed Docker push (2 records: opened, closed), images spread so fingerprints repeat. */
function writeFailureLog(file, pushes) {
  const fd = fs.openSync(file, 'w');
  const base = Date.UTC(2025, 2, 3, 9, 0, 0);
  const at = (ms) => new Date(base + ms).toISOString().replace('T', ' ').replace('.', ',').replace('Z', '+0000');
  let text = '';
  for (let i = 0; i < pushes; i++) {
    const t = i * 1000;
    const image = `team/app${i % 200}`;
    const layer = (i % 200).toString(16).padStart(8, '0').repeat(8);
    text +=
      `${at(t)} ERROR [qtp1-${i % 50}]  ci ${DS} - Manifest refers to missing layer: sha256:${layer} for: ${image}/1.0 in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='docker-hosted'}\n` +
      `${at(t + 5)} WARN  [qtp1-${i % 50}]  ci ${V2} - Error: PUT /v2/${image}/manifests/1.0: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest\n`;
    if (text.length > 1 << 20) {
      fs.writeSync(fd, text);
      text = '';
    }
  }
  fs.writeSync(fd, text);
  fs.closeSync(fd);
}

async function streamState(url) {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = await jsm.streams.info('NEXUS_INCIDENTS').catch(() => null);
    const consumer = await jsm.consumers.info('NEXUS_INCIDENTS', 'nexus-fleet').catch(() => null);
    return { messages: stream?.state.messages ?? 0, consumerDone: consumer !== null && consumer.num_pending === 0 && consumer.num_ack_pending === 0, delivered: consumer?.delivered.stream_seq ?? 0 };
  } finally {
    await nc.close();
  }
}

/** Seconds from start until every byte of `file` is read, per the process's own metrics. */
async function readTime(args, file) {
  const size = fs.statSync(file).size;
  const started = process.hrtime.bigint();
  const run = cli([...args, '--metrics', '127.0.0.1:0']); // not -q: the metrics address is an info line
  const url = await run.metricsUrl();
  await until(async () => {
    if (run.child.exitCode !== null) throw new Error(`exited: ${run.stderr()}`);
    return ((await scrape(url)).get('nexus_log_bytes_read_total') ?? 0) >= size;
  }, 3_600_000, 100);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await run.stop();
  return seconds;
}

async function main() {
  if (natsBinary() === null) {
    console.log('fleet bench: SKIPPED (nats-server is not installed: apt-get install -y nats-server)');
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nla-fleet-bench-'));
  const results = [];
  try {
    // 1. End to end.
    {
      const nats = await startNats(path.join(work, 'nats-e2e'));
      try {
        const file = path.join(work, 'failures.log');
        writeFailureLog(file, 50_000);
        const central = cli(['fleet', '--nats', nats.url, '--format', 'ndjson', '-q']);
        const started = process.hrtime.bigint();
        const edge = cli(['--follow', file, '--from-start', '--publish', nats.url, '--node', 'bench', '--metrics', '127.0.0.1:0']);
        const url = await edge.metricsUrl();
        const size = fs.statSync(file).size;
        await until(async () => {
          if (edge.child.exitCode !== null) throw new Error(`the edge exited: ${edge.stderr()}`);
          const m = await scrape(url);
          return (m.get('nexus_log_bytes_read_total') ?? 0) >= size && m.get('nexus_publish_backlog') === 0;
        }, 600_000, 100);
        const published = Number(process.hrtime.bigint() - started) / 1e9;
        await until(async () => (await streamState(nats.url)).consumerDone, 600_000, 100);
        const merged = Number(process.hrtime.bigint() - started) / 1e9;
        const { messages } = await streamState(nats.url);
        await edge.stop();
        await central.stop();
        results.push(`fleet end to end: ${messages} records in ${merged.toFixed(2)} s = ${Math.round(messages / merged)} records/s (edge published all in ${published.toFixed(2)} s = ${Math.round(messages / published)} records/s)`);
        console.log(results[results.length - 1]);
      } finally {
        nats.stop();
      }
    }

    // 2. Edge throughput, publishing off vs on, on a quiet log.
    let quiet = process.argv[2];
    if (quiet === undefined) {
      quiet = path.join(work, 'quiet.log');
      spawnSync(process.execPath, [path.join(__dirname, 'generate-log.js'), quiet, '256MB'], { stdio: 'ignore' });
    }
    const mb = fs.statSync(quiet).size / 2 ** 20;
    const nats = await startNats(path.join(work, 'nats-quiet'));
    try {
      const off = [];
      const on = [];
      for (let round = 0; round < 2; round++) {
        off.push(await readTime(['--follow', quiet, '--from-start', '--format', 'ndjson'], quiet));
        on.push(await readTime(['--follow', quiet, '--from-start', '--publish', nats.url, '--node', `quiet${round}`, '--checkpoint', path.join(work, `quiet${round}.json`)], quiet));
      }
      const best = (list) => Math.min(...list);
      const slower = (best(on) / best(off) - 1) * 100;
      results.push(
        `edge on a quiet ${mb.toFixed(0)} MB log: publishing off ${(mb / best(off)).toFixed(1)} MB/s (${best(off).toFixed(2)} s), on ${(mb / best(on)).toFixed(1)} MB/s (${best(on).toFixed(2)} s): ${slower.toFixed(1)} % slower (target <= 10 %: ${slower <= 10 ? 'PASS' : 'FAIL'}); runs off ${off.map((s) => s.toFixed(2)).join(', ')} s, on ${on.map((s) => s.toFixed(2)).join(', ')} s`,
      );
      console.log(results[results.length - 1]);
    } finally {
      nats.stop();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
