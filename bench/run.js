#!/usr/bin/env node
'use strict';
/**
 * The benchmark. Generates its own deterministic nexus.log (default 1 GB) with planted failed
 * pushes, a rotated set of 8 daily files (plain and .gz) and a 4 GB log, then times, in this
 * one run: `grep -c` (the floor), the analyzer (CLI on a file, CLI on a stdin pipe, library
 * API), a naive split2 + regex pipeline (the baseline), SEC when installed, `zcat | wc -l`
 * against the analyzer on .gz, and several files in turn against on both cores. Prints wall
 * time, MB/s, peak RSS, ratios, a PASS/FAIL line per target, and checks every planted push.
 *
 *   npm run bench                                # all of it
 *   npm run bench -- --size 256MB --runs 1 --no-4gb
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { generate, parseSize } = require('./generate-log');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'nexus-log-analyzer.js');
const DATA = path.join(__dirname, 'data');
const ROTATED_DAYS = 8;

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const size = parseSize(option('--size', '1GB'));
const runs = Math.max(1, Number(option('--runs', '3')));
const withBig = !argv.includes('--no-4gb');
fs.mkdirSync(DATA, { recursive: true });

const sh = (command) => {
  const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`failed: ${command}\n${result.stderr}`);
  return result.stdout;
};
const q = (p) => `'${p.replace(/'/g, "'\\''")}'`;

/** A generated log, cached with its facts next to it. */
function logOf(bytes) {
  const file = path.join(DATA, `nexus-${bytes}.log`);
  const factsFile = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(factsFile)) return JSON.parse(fs.readFileSync(factsFile, 'utf8'));
  process.stderr.write(`generating ${(bytes / 2 ** 20).toFixed(0)} MiB log ...\n`);
  const facts = generate(file, bytes);
  fs.writeFileSync(factsFile, JSON.stringify(facts));
  return facts;
}

/** The log split at line boundaries into 8 daily files, plain and gzipped (gzip -1). */
function rotatedOf(facts) {
  const plain = path.join(DATA, `rotated-${facts.bytes}`);
  const gz = path.join(DATA, `rotated-${facts.bytes}-gz`);
  if (!fs.existsSync(path.join(gz, 'done'))) {
    process.stderr.write(`splitting into ${ROTATED_DAYS} rotated days and gzipping ...\n`);
    fs.rmSync(plain, { recursive: true, force: true });
    fs.rmSync(gz, { recursive: true, force: true });
    fs.mkdirSync(plain, { recursive: true });
    fs.mkdirSync(gz, { recursive: true });
    sh(`cd ${q(plain)} && split -n l/${ROTATED_DAYS} -d -a 1 ${q(facts.file)} day-`);
    for (let day = 0; day < ROTATED_DAYS; day++) {
      const name = `nexus-2026-11-0${day + 1}.log`;
      fs.renameSync(path.join(plain, `day-${day}`), path.join(plain, name));
      sh(`gzip -1 -c ${q(path.join(plain, name))} > ${q(path.join(gz, `${name}.gz`))}`);
    }
    fs.writeFileSync(path.join(gz, 'done'), '');
  }
  return { plain, gz, gzBytes: fs.readdirSync(gz).filter((n) => n.endsWith('.gz')).reduce((sum, n) => sum + fs.statSync(path.join(gz, n)).size, 0) };
}

/** Best wall time of `runs` (or `times`), with that run's peak RSS (of the measured command only) and stdout. */
function measure(command, { measured = command, times = runs, pipeInto = '' } = {}) {
  let best;
  for (let i = 0; i < times; i++) {
    const rssFile = path.join(DATA, 'bench.rss');
    const line = `/usr/bin/time -o ${q(rssFile)} -f '%M %P' bash -c ${q(measured)}${pipeInto === '' ? '' : ` | ${pipeInto}`}`;
    const started = process.hrtime.bigint();
    const stdout = sh(command === measured ? line : command.replace('{MEASURED}', line));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const [rssKb, cpu] = fs.readFileSync(rssFile, 'utf8').trim().split(/\s+/);
    if (best === undefined || seconds < best.seconds) best = { seconds, rssMb: Number(rssKb) / 1024, cpu, stdout: stdout.trim() };
  }
  return best;
}

const targets = [];
const row = (name, megabytes, result, found = '') => {
  console.log(
    `${name.padEnd(44)}${`${result.seconds.toFixed(2)} s`.padStart(9)}${(megabytes / result.seconds).toFixed(0).padStart(8)}` +
      `${`${result.rssMb.toFixed(0)} MB`.padStart(10)}${String(result.cpu).padStart(7)}  ${found}`,
  );
  return result;
};
const target = (ok, text) => targets.push(`${ok ? 'PASS' : 'FAIL'}  ${text}`);
const countMatched = `grep -c '"closeReason":"matched"'`;

const facts = logOf(size);
const mb = facts.bytes / 1e6;
const file = facts.file;
console.log(
  `nexus-log-analyzer bench: ${mb.toFixed(0)} MB nexus.log, ${facts.lines.toLocaleString('en')} lines, ${facts.plantedPushes} planted failed pushes; ` +
    `best of ${runs}; page cache warm; node ${process.version}, ${os.cpus().length} cores\n`,
);
console.log(`${'what'.padEnd(44)}${'wall'.padStart(9)}${'MB/s'.padStart(8)}${'peak RSS'.padStart(10)}${'CPU'.padStart(7)}  found`);

// 1. One large file.
const grep = row('grep -c V2ManifestUtilImpl (floor)', mb, measure(`grep -c V2ManifestUtilImpl ${q(file)}`));
const cliRun = measure('{MEASURED}', { measured: `node ${q(CLI)} ${q(file)}`, pipeInto: countMatched });
const cli = row('analyzer CLI, file', mb, cliRun, `${cliRun.stdout}/${facts.plantedPushes}`);
const viaPipe = measure('{MEASURED}', { measured: `cat ${q(file)} | node ${q(CLI)}`, pipeInto: countMatched });
row('analyzer CLI, stdin pipe (cat | ...)', mb, viaPipe, `${viaPipe.stdout}/${facts.plantedPushes}`);
const library = measure(`node ${q(path.join(__dirname, 'library-api.js'))} ${q(file)}`);
row('analyzer library (analyzeFiles)', mb, library, `${library.stdout}/${facts.plantedPushes}`);
const baseline = row('split2 + regex per line (baseline)', mb, measure(`node ${q(path.join(__dirname, 'baseline-split2.js'))} ${q(file)}`));

// 2. SEC, on the first rotated day (its speed per MB does not depend on the size).
const rotated = rotatedOf(facts);
const firstDay = path.join(rotated.plain, 'nexus-2026-11-01.log');
const firstDayMb = fs.statSync(firstDay).size / 1e6;
const hasSec = spawnSync('bash', ['-c', 'command -v sec']).status === 0;
let sec;
if (hasSec) {
  const firstDayPlanted = Number(sh(`grep -c 'Invalid Manifest' ${q(firstDay)}`).trim());
  sec = measure('{MEASURED}', {
    measured: `sec -conf=${q(path.join(__dirname, 'sec-rules.conf'))} -input=${q(firstDay)} -notail -nointevents -nologfile`,
    pipeInto: 'grep -c ^FAILED',
    times: 1,
  });
  row(`SEC 2.9 (first day, ${firstDayMb.toFixed(0)} MB)`, firstDayMb, sec, `${sec.stdout}/${firstDayPlanted}`);
} else {
  console.log('SEC not installed (apt-get install sec): skipped');
}

// 3. Gzip: the rotated days as .gz against zcat | wc -l.
const zcat = row(`zcat ${ROTATED_DAYS} .gz days | wc -l (floor)`, mb, measure(`zcat ${q(rotated.gz)}/*.gz | wc -l`));
const gzCli = measure('{MEASURED}', { measured: `node ${q(CLI)} ${q(rotated.gz)}`, pipeInto: countMatched });
row(`analyzer CLI, ${ROTATED_DAYS} .gz days`, mb, gzCli, `${gzCli.stdout}/${facts.plantedPushes}`);

// 4. Several plain files: in turn, and on both cores.
const inTurn = measure('{MEASURED}', { measured: `node ${q(CLI)} --jobs 1 ${q(rotated.plain)}`, pipeInto: countMatched });
row(`analyzer CLI, ${ROTATED_DAYS} plain days, --jobs 1`, mb, inTurn, `${inTurn.stdout}/${facts.plantedPushes}`);
const onCores = measure('{MEASURED}', { measured: `node ${q(CLI)} ${q(rotated.plain)}`, pipeInto: countMatched });
row(`analyzer CLI, ${ROTATED_DAYS} plain days, workers`, mb, onCores, `${onCores.stdout}/${facts.plantedPushes}`);

// 5. Memory at four times the size.
let big;
if (withBig) {
  const bigFacts = logOf(size * 4);
  big = measure('{MEASURED}', { measured: `node ${q(CLI)} ${q(bigFacts.file)}`, pipeInto: countMatched, times: 1 });
  row(`analyzer CLI, file of ${(bigFacts.bytes / 1e9).toFixed(1)} GB`, bigFacts.bytes / 1e6, big, `${big.stdout}/${bigFacts.plantedPushes}`);
  big.planted = bigFacts.plantedPushes;
  big.liveHeap = JSON.parse(sh(`node --expose-gc ${q(path.join(__dirname, 'live-heap.js'))} ${q(bigFacts.file)}`)).samples;
  console.log(`live heap after GC at each GiB of it: ${big.liveHeap.map((m) => `${m} MB`).join(', ')}`);
}

const cliMbps = mb / cli.seconds;
console.log(`\nanalyzer / grep -c        ${(cli.seconds / grep.seconds).toFixed(1)}x the floor's time`);
console.log(`split2 baseline / analyzer ${(baseline.seconds / cli.seconds).toFixed(1)}x faster than the baseline`);
if (sec) console.log(`analyzer / SEC            ${(cliMbps / (firstDayMb / sec.seconds)).toFixed(0)}x SEC's MB/s`);
console.log(`analyzer .gz / zcat|wc    ${(gzCli.seconds / zcat.seconds).toFixed(2)}x the floor's time`);
console.log(`workers / in turn         ${(inTurn.seconds / onCores.seconds).toFixed(2)}x faster, CPU ${onCores.cpu} against ${inTurn.cpu}\n`);

target(cliMbps >= 1000, `CLI on a plain file at >= 1 GB/s (${cliMbps.toFixed(0)} MB/s)`);
target(cli.seconds <= 4 * grep.seconds, `CLI within 4x of grep -c (${(cli.seconds / grep.seconds).toFixed(1)}x)`);
if (sec) target(cliMbps >= 20 * (firstDayMb / sec.seconds), `CLI at least 20x SEC (${(cliMbps / (firstDayMb / sec.seconds)).toFixed(0)}x)`);
target(gzCli.seconds <= 1.5 * zcat.seconds, `.gz within 1.5x of zcat | wc -l (${(gzCli.seconds / zcat.seconds).toFixed(2)}x)`);
target(onCores.seconds < inTurn.seconds && parseFloat(onCores.cpu) > 130, `several plain files use both cores (CPU ${onCores.cpu}, ${(inTurn.seconds / onCores.seconds).toFixed(2)}x faster)`);
target(cli.rssMb < 100, `CLI peak RSS under 100 MB on ${mb.toFixed(0)} MB (${cli.rssMb.toFixed(0)} MB)`);
if (big) {
  const spread = Math.max(...big.liveHeap) - Math.min(...big.liveHeap);
  target(big.rssMb < 100, `CLI peak RSS under 100 MB at 4x the size (${big.rssMb.toFixed(0)} MB)`);
  target(spread < 2, `live heap flat from 1 GiB to ${big.liveHeap.length} GiB (within ${spread.toFixed(1)} MB)`);
}
const everyFound = [cli.stdout, viaPipe.stdout, library.stdout, gzCli.stdout, inTurn.stdout, onCores.stdout].every((n) => Number(n) === facts.plantedPushes);
target(everyFound && (!big || Number(big.stdout) === big.planted), 'every planted failed push found by every analyzer run');
for (const line of targets) console.log(line);
process.exitCode = targets.some((line) => line.startsWith('FAIL')) ? 1 : 0;
