#!/usr/bin/env node
'use strict';
/**
 * Live latency: appends failed pushes to a nexus.log that the CLI follows (`--follow`), or
 * writes them into its stdin (`--pipe`, as `tail -f nexus.log |` would), and times each from
 * the write of its 400 line to its incident on stdout. Prints p50, p99 and max over N pushes,
 * after start-up.   npm run latency -- [pushes] [--pipe]
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CLI = path.join(__dirname, '..', 'bin', 'nexus-log-analyzer.js');
const pushes = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 300);
const viaPipe = process.argv.includes('--pipe');
const followed = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nla-latency-')), 'nexus.log');
fs.writeFileSync(followed, '');
const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';

const child = spawn(process.execPath, viaPipe ? [CLI] : [CLI, '--follow', followed], { stdio: ['pipe', 'pipe', 'inherit'] });
const append = (text) => (viaPipe ? child.stdin.write(text) : fs.appendFileSync(followed, text));
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
    setTimeout(() => (viaPipe ? child.stdin.end() : child.kill('SIGTERM')), 300);
    return;
  }
  const image = `latency/app${i}`;
  const thread = `qtp1-${i % 40}`;
  append(
    `${stamp(i, 0)} ERROR [${thread}]  ci ${DS} - Manifest refers to missing layer: sha256:${String(i).padStart(64, '0')} for: ${image}/1 in repository RepositoryImpl$$EnhancerByGuice$$1{type=hosted, format=docker, name='docker-hosted'}\n`,
  );
  sentAt.set(image, process.hrtime.bigint());
  append(`${stamp(i, 4)} WARN  [${thread}]  ci ${V2} - Error: PUT /v2/${image}/manifests/1: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest\n`);
  i++;
}

child.on('close', () => {
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const how = viaPipe ? 'written into stdin' : 'appended to a followed nexus.log';
  console.log(`live latency, 400 line ${how} -> incident on stdout, ${latencies.length}/${pushes} pushes, after start-up:`);
  console.log(`p50 ${at(0.5).toFixed(1)} ms   p99 ${at(0.99).toFixed(1)} ms   max ${latencies[latencies.length - 1].toFixed(1)} ms`);
  const ok = latencies.length === pushes && at(0.99) < 50;
  console.log(`${ok ? 'PASS' : 'FAIL'}  p99 under 50 ms and every push reported`);
  process.exitCode = ok ? 0 : 1;
});
