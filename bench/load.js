#!/usr/bin/env node
'use strict';
/**
 * Load runs for docs/reliability.md (not part of npm test):
 *   1. 100,000 threads each opening a push at once, through the CLI with the default cap;
 *   2. the CLI writing ~60 MB of incidents into a pipe read at 4 MB/s (slow consumer).
 * Prints wall time, peak RSS and the incidents by close reason.   npm run load
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const CLI = path.join(__dirname, '..', 'bin', 'nexus-log-analyzer.js');
const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';
const dir = path.join(__dirname, 'data');
fs.mkdirSync(dir, { recursive: true });

const layer = (i) => `sha256:${String(i).padStart(64, '0')}`;
const missing = (ts, thread, i, image) =>
  `${ts} ERROR [${thread}]  ci ${DS} - Manifest refers to missing layer: ${layer(i)} for: ${image}/1 in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='docker-hosted'}`;
const rejected = (ts, thread, image) =>
  `${ts} WARN  [${thread}]  ci ${V2} - Error: PUT /v2/${image}/manifests/1: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`;

/** Runs `cli | consumer`; the peak RSS is the CLI's own (measured on it alone, not the pipeline). */
function run(label, cliArgs, consumer) {
  const rssFile = path.join(dir, 'load.rss');
  const started = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', `/usr/bin/time -o ${rssFile} -f 'PEAK_RSS_KB=%M' node ${CLI} ${cliArgs} | ${consumer}`], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = Number(/PEAK_RSS_KB=(\d+)/.exec(fs.readFileSync(rssFile, 'utf8'))?.[1] ?? 0) / 1024;
  console.log(`${label.padEnd(58)} ${seconds.toFixed(2).padStart(6)} s  peak RSS ${rss.toFixed(0).padStart(4)} MB  ${result.stdout.trim().replace(/\n/g, ', ')}`);
}

// 1. 100,000 open pushes at once (each thread starts one, none finishes).
const open = path.join(dir, 'load-100k-open.log');
const lines = [];
for (let i = 0; i < 100_000; i++) lines.push(missing('2025-03-01 10:00:00,000+0000', `qtp1-${i}`, i, `img${i}`));
fs.writeFileSync(open, `${lines.join('\n')}\n`);
run('100,000 pushes open at once, default cap 10,000', open, `grep -o 'closeReason":"[a-z-]*' | sort | uniq -c`);

// 2. Slow consumer: ~20,000 incidents (~60 MB of NDJSON) read at about 4 MB/s.
const many = path.join(dir, 'load-20k-incidents.log');
const out = [];
for (let i = 0; i < 20_000; i++) {
  const ts = `2025-03-01 10:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')},${String(i % 1000).padStart(3, '0')}+0000`;
  for (let l = 0; l < 8; l++) out.push(missing(ts, `t${i % 50}`, i * 8 + l, `img${i}`));
  out.push(rejected(ts, `t${i % 50}`, `img${i}`));
}
fs.writeFileSync(many, `${out.join('\n')}\n`);
const slowReader = path.join(__dirname, 'slow-reader.js');
run('20,000 incidents into a reader of ~4 MB/s', many, `node ${slowReader}`);
