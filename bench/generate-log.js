#!/usr/bin/env node
'use strict';
/**
 * Writes deterministic, realistic Nexus logs for the benchmark:
 *
 * - a nexus.log of a given size: many pooled threads, every level, stack traces, thread names
 *   with spaces and brackets, and a known number of planted failed Docker pushes (missing-layer
 *   bursts closed by a 400 on the same thread); proxy fetch failures are 1 % of events;
 * - optionally a storm of one failure class at a given fraction of the lines (missing blobs
 *   with distinct ids, a proxy whose remote is down, a task failing every run), counted in the
 *   facts so the bench can check that the incidents add up to it;
 * - a request.log beside it: a given share of Docker traffic (with the layer checks of the
 *   planted pushes), optionally a storm of 4xx.
 *
 *   node bench/generate-log.js <out-file> [size] [storm kind] [fraction]   -> prints JSON facts
 */
const fs = require('node:fs');

const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
/** One planted push about every this many bytes. */
const PUSH_EVERY_BYTES = 1024 * 1024;
/** Failure classes a storm can be of, and the rule that should fold it. */
const STORMS = {
  'missing-blob': 'blobstore-missing-blob',
  'proxy-unavailable': 'proxy-remote-unavailable',
  'task-failed': 'task-failed',
  'request-4xx': 'request-errors',
};

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

function uuid(random) {
  const h = hex64(random);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Batched writer: lines in, a file out, bytes and lines counted. */
function writer(file) {
  const fd = fs.openSync(file, 'w');
  let batch = [];
  let batchBytes = 0;
  const w = {
    written: 0,
    lines: 0,
    emit(line) {
      batch.push(line);
      batchBytes += line.length + 1;
      w.lines++;
      if (batchBytes >= 4 * 1024 * 1024) w.flush();
    },
    get size() {
      return w.written + batchBytes;
    },
    flush() {
      if (batch.length === 0) return;
      const text = `${batch.join('\n')}\n`;
      fs.writeSync(fd, text);
      w.written += Buffer.byteLength(text);
      batch = [];
      batchBytes = 0;
    },
    close() {
      w.flush();
      fs.closeSync(fd);
    },
  };
  return w;
}

/**
 * A nexus.log of `targetBytes`, with a storm of `storm.kind` at `storm.fraction` of its lines.
 * Returns the facts: planted pushes (with their layers, for the request.log), storm lines and
 * distinct subjects.
 */
function generate(file, targetBytes, options = {}) {
  const random = prng(options.seed ?? 42);
  const storm = options.storm && options.storm.kind !== 'request-4xx' ? options.storm : null;
  const pick = (list) => list[Math.floor(random() * list.length)];
  const out = writer(file);
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
  // Storm subjects: a few blob stores with a few thousand distinct blobs, two broken proxies, three failing tasks.
  const blobStores = ['default', 'docker-blobs', 'npm-blobs'];
  const lostBlobs = Array.from({ length: 4000 }, () => uuid(random));
  const brokenProxies = ['gradle-plugins-proxy', 'conda-forge-proxy'];
  const failingTasks = [
    ['Cleanup service', 'repository.cleanup'],
    ['Compact blob store default', 'blobstore.compact'],
    ['Rebuild Maven metadata', 'repository.maven.rebuild-metadata'],
  ];
  const stormSubjects = new Set();
  let stormLines = 0;
  let taskId = 0;

  let planted = 0;
  const pushes = [];
  let nextPushAt = PUSH_EVERY_BYTES / 2;
  while (out.size < targetBytes) {
    time += 1 + Math.floor(random() * 4);
    const ts = stamp();
    if (out.size >= nextPushAt) {
      nextPushAt += PUSH_EVERY_BYTES;
      const t = thread();
      const image = `bench/app-${planted}`;
      const layers = [];
      const count = 1 + Math.floor(random() * 4);
      for (let i = 0; i < count; i++) {
        const layer = `sha256:${hex64(random)}`;
        layers.push(layer);
        out.emit(`${ts} ERROR [${t}]  ci-bot ${DS} - Manifest refers to missing layer: ${layer} for: ${image}/v${planted} in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='docker-hosted'}`);
        // Other threads keep logging between the burst lines.
        out.emit(`${ts} INFO  [${thread()}]  anonymous org.sonatype.nexus.repository.httpbridge.internal.ViewServlet - Serving GET /repository/docker-group/v2/library/alpine/manifests/3.20`);
      }
      out.emit(`${ts} WARN  [${t}]  ci-bot ${V2} - Error: PUT /v2/${image}/manifests/v${planted}: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`);
      pushes.push({ image, tag: `v${planted}`, thread: t, time, layers });
      planted++;
      continue;
    }
    if (storm !== null && random() < storm.fraction) {
      stormLines += stormLine(storm.kind, ts);
      continue;
    }
    const roll = random();
    if (roll < 0.4) {
      out.emit(`${ts} INFO  [${thread()}]  ${pick(users)} org.sonatype.nexus.repository.httpbridge.internal.ViewServlet - Serving GET /repository/${pick(repos)}/org/acme/lib/${Math.floor(random() * 1000)}/lib-${Math.floor(random() * 100)}.jar`);
    } else if (roll < 0.65) {
      out.emit(`${ts} DEBUG [${thread()}]  anonymous ${V2} - GET /v2/library/alpine/blobs/sha256:${hex64(random)}`);
    } else if (roll < 0.87) {
      out.emit(`${ts} INFO  [quartz-10-thread-${1 + Math.floor(random() * 20)}]  *SYSTEM org.sonatype.nexus.quartz.internal.task.QuartzTaskInfo - Task 'Cleanup service' [cleanup] state change RUNNING -> WAITING (OK)`);
    } else if (roll < 0.88) {
      // A proxy failing to reach its remote now and then: 1% of events, each with its stack trace.
      out.emit(`${ts} WARN  [${thread()}]  anonymous org.sonatype.nexus.repository.proxy.ProxyFacetSupport - Exception java.net.SocketTimeoutException: Read timed out checking remote for update, proxy repo ${pick(repos)} failed to fetch org/acme/x.pom, content not in cache.`);
      emitTrace();
    } else if (roll < 0.93) {
      out.emit(`${ts} INFO  [${pick(special)}]  *SYSTEM org.sonatype.nexus.blobstore.file.FileBlobStore - Blob store default: ${Math.floor(random() * 1e6)} blobs, healthy`);
    } else if (roll < 0.97) {
      out.emit(`${ts} DEBUG [${thread()}]  ${pick(users)} org.sonatype.nexus.repository.docker.internal.DockerHostedFacetImpl - Checking manifest of team/svc-${Math.floor(random() * 50)} (valid)`);
    } else {
      out.emit(`${ts} ERROR [${thread()}]  *SYSTEM org.sonatype.nexus.repository.storage.StorageTxImpl - Failed to commit transaction; will retry`);
    }
  }
  out.close();
  return { file, bytes: out.written, lines: out.lines, plantedPushes: planted, pushes, storm: options.storm ?? null, stormLines, stormSubjects: stormSubjects.size, stormSubjectNames: [...stormSubjects] };

  function emitTrace() {
    out.emit('java.net.SocketTimeoutException: Read timed out');
    out.emit('\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)');
    out.emit('\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:304)');
    out.emit('\tat org.apache.http.impl.io.SessionInputBufferImpl.streamRead(SessionInputBufferImpl.java:137)');
    out.emit('\tat org.sonatype.nexus.repository.proxy.ProxyFacetSupport.fetch(ProxyFacetSupport.java:412)');
    out.emit('Caused by: java.io.IOException: connection reset');
    out.emit('\t... 87 common frames omitted');
  }

  /** One occurrence of the storm's failure; returns the lines a rule counts for it. */
  function stormLine(kind, ts) {
    if (kind === 'missing-blob') {
      const store = pick(blobStores);
      const blob = pick(lostBlobs);
      stormSubjects.add(store);
      out.emit(`${ts} WARN  [${thread()}]  anonymous org.sonatype.nexus.blobstore.file.FileBlobStore - Can't open input stream to blob ${blob} as file /nexus-data/blobs/${store}/content/vol-${String(Math.floor(random() * 43)).padStart(2, '0')}/chap-${String(Math.floor(random() * 47)).padStart(2, '0')}/${blob}.bytes not found`);
      return 1;
    }
    if (kind === 'proxy-unavailable') {
      const repo = pick(brokenProxies);
      stormSubjects.add(repo);
      out.emit(`${ts} WARN  [${thread()}]  anonymous org.sonatype.nexus.repository.maven.internal.MavenProxyFacet - Exception java.net.SocketTimeoutException: Connect timed out checking remote for update, proxy repo ${repo} failed to fetch org/acme/lib/${Math.floor(random() * 1000)}/lib.pom, content not in cache.`);
      emitTrace();
      return 1;
    }
    if (kind === 'task-failed') {
      const [name, type] = pick(failingTasks);
      const t = `quartz-10-thread-${1 + Math.floor(random() * 20)}`;
      stormSubjects.add(name);
      taskId++;
      out.emit(`${ts} WARN  [${t}]  *SYSTEM org.sonatype.nexus.quartz.internal.task.QuartzTaskJob - Task ${taskId} : '${name}' [${type}] execution failure`);
      out.emit('java.lang.IllegalStateException: Cannot process: storage unavailable');
      out.emit('\tat org.sonatype.nexus.scheduling.TaskSupport.call(TaskSupport.java:100)');
      out.emit('\tat org.sonatype.nexus.quartz.internal.task.QuartzTaskJob.doExecute(QuartzTaskJob.java:143)');
      out.emit(`${ts} INFO  [${t}]  *SYSTEM org.sonatype.nexus.quartz.internal.task.QuartzTaskInfo - Task '${name}' [${type}] state change RUNNING -> WAITING (FAILED)`);
      return 2;
    }
    throw new Error(`unknown storm kind ${kind}`);
  }
}

/**
 * A request.log of `targetBytes`: `dockerShare` of its lines are Docker traffic (with the 200
 * layer checks and the 400 manifest PUTs of `pushes`), the rest Maven/npm traffic; with a
 * `request-4xx` storm, that fraction of lines are 404s and 403s on two repositories.
 */
function generateRequestLog(file, targetBytes, pushes, options = {}) {
  const random = prng(options.seed ?? 7);
  const fraction = options.storm && options.storm.kind === 'request-4xx' ? options.storm.fraction : 0;
  const dockerShare = options.dockerShare ?? 0.45;
  const out = writer(file);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const dateOf = (ms) => {
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, '0');
    return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  };
  const UA = 'docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.15.0 os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))';
  let time = Date.UTC(2026, 10, 1, 0, 0, 0, 0);
  let push = 0;
  let stormLines = 0;
  const stormSubjects = new Set();
  const stormSubjectNames = new Set();
  while (out.size < targetBytes) {
    time += 1 + Math.floor(random() * 3);
    const next = pushes[push];
    if (next !== undefined && time >= next.time - 1000) {
      // The push's layer checks, answered 200 by the group, then its manifest PUT refused.
      for (const layer of next.layers) {
        out.emit(`10.0.4.17 - ci-bot [${dateOf(next.time - 800)}] "HEAD /repository/docker-group/v2/${next.image}/blobs/${layer} HTTP/1.1" 200 - 0 2 "${UA}" [qtp1985555490-40]`);
      }
      out.emit(`10.0.4.17 - ci-bot [${dateOf(next.time)}] "PUT /repository/docker-hosted/v2/${next.image}/manifests/${next.tag} HTTP/1.1" 400 1534 120 41 "${UA}" [${next.thread}]`);
      push++;
      continue;
    }
    const date = dateOf(time);
    if (fraction > 0 && random() < fraction) {
      const repo = random() < 0.5 ? 'maven-central' : 'npm-proxy';
      const status = random() < 0.8 ? 404 : 403;
      stormSubjects.add(`${repo}:${status}`);
      stormSubjectNames.add(repo);
      out.emit(`10.0.9.${Math.floor(random() * 250)} - ci-bot [${date}] "GET /repository/${repo}/org/acme/missing/${Math.floor(random() * 5000)}/missing.jar HTTP/1.1" ${status} - 0 4 "Apache-Maven/3.9.6 (Java 17.0.9; Linux 5.15.0)" [qtp1985555490-${10 + Math.floor(random() * 190)}]`);
      stormLines++;
      continue;
    }
    if (random() < dockerShare) {
      const digest = hex64(random);
      const roll = random();
      if (roll < 0.5) out.emit(`10.0.3.${Math.floor(random() * 250)} - - [${date}] "GET /repository/docker-group/v2/library/alpine/blobs/sha256:${digest} HTTP/1.1" 200 - 3185722 37 "${UA}" [qtp1985555490-${10 + Math.floor(random() * 190)}]`);
      else if (roll < 0.8) out.emit(`10.0.3.${Math.floor(random() * 250)} - ci-bot [${date}] "HEAD /repository/docker-group/v2/team/svc-${Math.floor(random() * 50)}/blobs/sha256:${digest} HTTP/1.1" 200 - 0 3 "${UA}" [qtp1985555490-${10 + Math.floor(random() * 190)}]`);
      else out.emit(`10.0.3.${Math.floor(random() * 250)} - ci-bot [${date}] "GET /repository/docker-group/v2/team/svc-${Math.floor(random() * 50)}/manifests/1.${Math.floor(random() * 20)} HTTP/1.1" 200 - 1534 12 "${UA}" [qtp1985555490-${10 + Math.floor(random() * 190)}]`);
    } else {
      out.emit(`10.0.2.${Math.floor(random() * 250)} - jenkins [${date}] "GET /repository/maven-public/org/acme/lib/${Math.floor(random() * 1000)}/lib-${Math.floor(random() * 100)}.jar HTTP/1.1" 200 - ${Math.floor(random() * 1e6)} ${Math.floor(random() * 50)} "Apache-Maven/3.9.6 (Java 17.0.9; Linux 5.15.0)" [qtp1985555490-${10 + Math.floor(random() * 190)}]`);
    }
  }
  out.close();
  return { file, bytes: out.written, lines: out.lines, pushesChecked: push, stormLines, stormSubjects: stormSubjects.size, stormSubjectNames: [...stormSubjectNames] };
}

module.exports = { generate, generateRequestLog, parseSize, STORMS };

if (require.main === module) {
  const [file, size = '1GB', kind, fraction] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/generate-log.js <out-file> [size, e.g. 1GB] [storm kind] [fraction]\n');
    process.exit(2);
  }
  const storm = kind === undefined ? undefined : { kind, fraction: Number(fraction ?? 0.05) };
  const facts = generate(file, parseSize(size), { storm });
  process.stdout.write(`${JSON.stringify({ ...facts, pushes: facts.pushes.length })}\n`);
}
