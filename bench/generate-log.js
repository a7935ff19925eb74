#!/usr/bin/env node
'use strict';
/**
 * Writes a deterministic, realistic nexus.log of a given size: many pooled threads, every
 * level, stack traces, thread names with spaces and brackets, and a known number of
 * planted failed Docker pushes (missing-layer bursts closed by a 400 on the same thread).
 *
 *   node bench/generate-log.js <out-file> [size, e.g. 1GB, 256MB]   -> prints JSON facts
 */
const fs = require('node:fs');

const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
/** One planted push about every this many bytes. */
const PUSH_EVERY_BYTES = 1024 * 1024;

function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(k|m|g)?i?b?$/i.exec(String(text).trim());
  if (!match) throw new Error(`size must look like 512MB or 1GB, got '${text}'`);
  const unit = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(match[2] || '').toLowerCase()] || 1;
  return Math.round(Number(match[1]) * unit);
}

/** Small deterministic PRNG (mulberry32). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex64(random) {
  let out = '';
  while (out.length < 64) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, 64);
}

function generate(file, targetBytes, seed = 42) {
  const random = prng(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const fd = fs.openSync(file, 'w');
  let time = Date.UTC(2026, 10, 1, 0, 0, 0, 0);
  let secondKey = -1;
  let secondText = '';
  const stamp = () => {
    const second = Math.floor(time / 1000);
    if (second !== secondKey) {
      secondKey = second;
      secondText = new Date(second * 1000).toISOString().slice(0, 19).replace('T', ' ');
    }
    return `${secondText},${String(time % 1000).padStart(3, '0')}+0000`;
  };
  const users = ['*SYSTEM', 'anonymous', 'admin', 'ci-bot', 'jenkins', 'dev-jane', 'release-bot'];
  const repos = ['maven-central', 'npm-proxy', 'docker-proxy', 'pypi-proxy', 'maven-releases'];
  const special = ['SIGTERM handler', 'Check Status: blobstore default', 'elasticsearch[C5E1E0C5-2FB0B2A4][generic][T#1]'];
  const thread = () => `qtp1985555490-${10 + Math.floor(random() * 190)}`;

  let written = 0;
  let lines = 0;
  let planted = 0;
  let nextPushAt = PUSH_EVERY_BYTES / 2;
  let batch = [];
  let batchBytes = 0;
  const emit = (line) => {
    batch.push(line);
    batchBytes += line.length + 1;
    lines++;
    if (batchBytes >= 4 * 1024 * 1024) flush();
  };
  const flush = () => {
    if (batch.length === 0) return;
    const text = `${batch.join('\n')}\n`;
    fs.writeSync(fd, text);
    written += Buffer.byteLength(text);
    batch = [];
    batchBytes = 0;
  };

  while (written + batchBytes < targetBytes) {
    time += 1 + Math.floor(random() * 4);
    const roll = random();
    const ts = stamp();
    if (written + batchBytes >= nextPushAt) {
      nextPushAt += PUSH_EVERY_BYTES;
      const t = thread();
      const image = `bench/app-${planted}`;
      const layers = 1 + Math.floor(random() * 4);
      for (let i = 0; i < layers; i++) {
        emit(`${ts} ERROR [${t}]  ci-bot ${DS} - Manifest refers to missing layer: sha256:${hex64(random)} for: ${image}/v${planted} in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='docker-hosted'}`);
        // Other threads keep logging between the burst lines.
        emit(`${ts} INFO  [${thread()}]  anonymous org.sonatype.nexus.repository.httpbridge.internal.ViewServlet - Serving GET /repository/docker-group/v2/library/alpine/manifests/3.20`);
      }
      emit(`${ts} WARN  [${t}]  ci-bot ${V2} - Error: PUT /v2/${image}/manifests/v${planted}: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`);
      planted++;
    } else if (roll < 0.4) {
      emit(`${ts} INFO  [${thread()}]  ${pick(users)} org.sonatype.nexus.repository.httpbridge.internal.ViewServlet - Serving GET /repository/${pick(repos)}/org/acme/lib/${Math.floor(random() * 1000)}/lib-${Math.floor(random() * 100)}.jar`);
    } else if (roll < 0.65) {
      emit(`${ts} DEBUG [${thread()}]  anonymous ${V2} - GET /v2/library/alpine/blobs/sha256:${hex64(random)}`);
    } else if (roll < 0.87) {
      emit(`${ts} INFO  [quartz-10-thread-${1 + Math.floor(random() * 20)}]  *SYSTEM org.sonatype.nexus.quartz.internal.task.QuartzTaskInfo - Task 'Cleanup service' [cleanup] state change RUNNING -> WAITING (OK)`);
    } else if (roll < 0.88) {
      // A proxy failing to reach its remote: 1% of events, each with its stack trace.
      emit(`${ts} WARN  [${thread()}]  anonymous org.sonatype.nexus.repository.proxy.ProxyFacetSupport - Exception java.net.SocketTimeoutException: Read timed out checking remote for update, proxy repo ${pick(repos)} failed to fetch org/acme/x.pom, content not in cache.`);
      emit('java.net.SocketTimeoutException: Read timed out');
      emit('\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)');
      emit('\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:304)');
      emit('\tat org.apache.http.impl.io.SessionInputBufferImpl.streamRead(SessionInputBufferImpl.java:137)');
      emit('\tat org.sonatype.nexus.repository.proxy.ProxyFacetSupport.fetch(ProxyFacetSupport.java:412)');
      emit('Caused by: java.io.IOException: connection reset');
      emit('\t... 87 common frames omitted');
    } else if (roll < 0.93) {
      emit(`${ts} INFO  [${pick(special)}]  *SYSTEM org.sonatype.nexus.blobstore.file.FileBlobStore - Blob store default: ${Math.floor(random() * 1e6)} blobs, healthy`);
    } else if (roll < 0.97) {
      emit(`${ts} DEBUG [${thread()}]  ${pick(users)} org.sonatype.nexus.repository.docker.internal.DockerHostedFacetImpl - Checking manifest of team/svc-${Math.floor(random() * 50)} (valid)`);
    } else {
      emit(`${ts} ERROR [${thread()}]  *SYSTEM org.sonatype.nexus.repository.storage.StorageTxImpl - Failed to commit transaction; will retry`);
    }
  }
  flush();
  fs.closeSync(fd);
  return { file, bytes: written, lines, plantedPushes: planted };
}

module.exports = { generate, parseSize };

if (require.main === module) {
  const [file, size = '1GB'] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/generate-log.js <out-file> [size, e.g. 1GB]\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(generate(file, parseSize(size)))}\n`);
}
