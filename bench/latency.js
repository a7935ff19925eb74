#!/usr/bin/env node
'use strict';
/**
 * Live latency: writes failed pushes into the CLI's stdin, as `tail -f nexus.log |` would,
 * and times each one from the write of its 400 line to its incident on stdout.
 * Prints p50, p99 and max over N pushes, after start-up.   npm run latency -- [pushes]
 */
const { spawn } = require('node:child_process');
const path = require('node:path');

const CLI = path.join(__dirname, '..', 'bin', 'nexus-log-analyzer.js');
const pushes = Number(process.argv[2] ?? 300);
const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';

const child = spawn(process.execPath, [CLI], { stdio: ['pipe', 'pipe', 'inherit'] });
const sentAt = new Map();
const latencies = [];
let buffer = '';
child.stdout.on('data', (chunk) => {
  const received = process.hrtime.bigint();
  buffer += chunk.toString();
  let newline;
  while ((newline = buffer.indexOf('\n')) !== -1) {
    const incident = JSON.parse(buffer.slice(0, newline));
    buffer = buffer.slice(newline + 1);
    const started = sentAt.get(incident.image);
    if (started !== undefined) latencies.push(Number(received - started) / 1e6);
    if (process.env.LATENCY_TRACE && started !== undefined) console.error(incident.image, (Number(received - started) / 1e6).toFixed(1));
  }
});

const stamp = (i, ms) => {
  const t = new Date(Date.UTC(2026, 0, 1, 10, 0, 0) + i * 1000 + ms).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)},${t.slice(20, 23)}+0000`;
};
let i = 0;
let timer;
// Steady state, as under `tail -f` for hours: start writing once the CLI has loaded (1 s).
setTimeout(() => (timer = setInterval(writePush, 25)), 1000);
function writePush() {
  if (i === pushes) {
    clearInterval(timer);
    setTimeout(() => child.stdin.end(), 200);
    return;
  }
  const image = `latency/app${i}`;
  const thread = `qtp1-${i % 40}`;
  child.stdin.write(
    `${stamp(i, 0)} ERROR [${thread}]  ci ${DS} - Manifest refers to missing layer: sha256:${String(i).padStart(64, '0')} for: ${image}/1 in repository RepositoryImpl$$EnhancerByGuice$$1{type=hosted, format=docker, name='docker-hosted'}\n`,
  );
  sentAt.set(image, process.hrtime.bigint());
  child.stdin.write(`${stamp(i, 4)} WARN  [${thread}]  ci ${V2} - Error: PUT /v2/${image}/manifests/1: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest\n`);
  i++;
}

child.on('close', () => {
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  console.log(`live latency, write of the 400 line -> incident on stdout, ${latencies.length}/${pushes} pushes through a pipe, after start-up:`);
  console.log(`p50 ${at(0.5).toFixed(1)} ms   p99 ${at(0.99).toFixed(1)} ms   max ${latencies[latencies.length - 1].toFixed(1)} ms`);
  const ok = latencies.length === pushes && at(0.99) < 50;
  console.log(`${ok ? 'PASS' : 'FAIL'}  p99 under 50 ms and every push reported`);
  process.exitCode = ok ? 0 : 1;
});
