#!/usr/bin/env node
'use strict';
/**
 * The benchmark: generates its own nexus.log (default 1 GB), then times, in this one run,
 * `grep -c` (the floor), the analyzer (CLI on the file, CLI on a stdin pipe, library API)
 * and a naive split2 + regex pipeline (the baseline). Prints wall time, MB/s, peak RSS,
 * the ratios, and checks that every planted failed push was found.
 *
 *   npm run bench                 # 1 GB
 *   npm run bench -- --size 256MB --runs 3
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { generate, parseSize } = require('./generate-log');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'nexus-log-analyzer.js');

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const size = parseSize(option('--size', '1GB'));
const runs = Math.max(1, Number(option('--runs', '3')));
const dataDir = path.join(__dirname, 'data');
fs.mkdirSync(dataDir, { recursive: true });
const file = path.join(dataDir, `nexus-${size}.log`);
const factsFile = `${file}.json`;

let facts;
if (fs.existsSync(file) && fs.existsSync(factsFile)) facts = JSON.parse(fs.readFileSync(factsFile, 'utf8'));
else {
  process.stderr.write(`generating ${(size / 2 ** 20).toFixed(0)} MiB log in ${path.relative(ROOT, file)} ...\n`);
  facts = generate(file, size);
  fs.writeFileSync(factsFile, JSON.stringify(facts));
}
const megabytes = facts.bytes / 1e6;

/** Runs a shell command under /usr/bin/time; best wall time of `runs`, its peak RSS and stdout. */
function measure(command) {
  let best;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const run = spawnSync('bash', ['-c', `/usr/bin/time -f 'PEAK_RSS_KB=%M' bash -c '${command.replace(/'/g, "'\\''")}'`], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) throw new Error(`failed: ${command}\n${run.stderr}`);
    const rss = Number(/PEAK_RSS_KB=(\d+)/.exec(run.stderr)?.[1] ?? 0) / 1024;
    if (best === undefined || seconds < best.seconds) best = { seconds, rssMb: rss, stdout: run.stdout.trim() };
  }
  return best;
}

const q = (p) => `"${p}"`;
const rows = [
  { name: 'grep -c V2ManifestUtilImpl (floor)', cmd: `grep -c V2ManifestUtilImpl ${q(file)}`, check: null },
  { name: 'analyzer CLI, file', cmd: `node ${q(CLI)} ${q(file)} | grep -c '"closeReason":"matched"'`, check: 'count' },
  { name: 'analyzer CLI, stdin pipe', cmd: `cat ${q(file)} | node ${q(CLI)} | grep -c '"closeReason":"matched"'`, check: 'count' },
  { name: 'analyzer library (analyzeFiles)', cmd: `node ${q(path.join(__dirname, 'library-api.js'))} ${q(file)}`, check: 'count' },
  { name: 'split2 + regex per line (baseline)', cmd: `node ${q(path.join(__dirname, 'baseline-split2.js'))} ${q(file)}`, check: null },
];

console.log(`nexus-log-analyzer bench: ${megabytes.toFixed(0)} MB nexus.log, ${facts.lines.toLocaleString('en')} lines, ` +
  `${facts.plantedPushes} planted failed pushes; best of ${runs} runs, page cache warm; node ${process.version}, ${require('node:os').cpus().length} cores\n`);
console.log(`${'what'.padEnd(38)}${'wall'.padStart(9)}${'MB/s'.padStart(9)}${'peak RSS'.padStart(11)}  found`);
const results = {};
for (const row of rows) {
  const result = measure(row.cmd);
  results[row.name] = result;
  const found = row.check === 'count' ? `${result.stdout}/${facts.plantedPushes}` : '';
  console.log(
    `${row.name.padEnd(38)}${`${result.seconds.toFixed(2)} s`.padStart(9)}${(megabytes / result.seconds).toFixed(0).padStart(9)}` +
      `${`${result.rssMb.toFixed(0)} MB`.padStart(11)}  ${found}`,
  );
}

const grep = results[rows[0].name];
const cli = results[rows[1].name];
const baseline = results[rows[4].name];
const allFound = rows.filter((r) => r.check === 'count').every((r) => Number(results[r.name].stdout) === facts.plantedPushes);
const pass = (ok) => (ok ? 'PASS' : 'FAIL');
console.log(`\nanalyzer / grep     ${(cli.seconds / grep.seconds).toFixed(1)}x slower than the floor`);
console.log(`baseline / analyzer ${(baseline.seconds / cli.seconds).toFixed(1)}x faster than split2 + regex`);
console.log(`\n${pass(megabytes / cli.seconds >= 1000)}  CLI on a file at >= 1 GB/s (${(megabytes / cli.seconds).toFixed(0)} MB/s)`);
console.log(`${pass(cli.seconds <= 4 * grep.seconds)}  CLI within 4x of grep -c`);
console.log(`${pass(cli.rssMb < 100)}  CLI peak RSS under 100 MB (${cli.rssMb.toFixed(0)} MB)`);
console.log(`${pass(allFound)}  every planted failed push found by every analyzer run`);
process.exitCode = allFound ? 0 : 1;
