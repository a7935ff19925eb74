#!/usr/bin/env node
'use strict';
/**
 * The benchmark. Generates its own deterministic logs (bench/generate-log.js; cached in
 * bench/data/), then times the analyzer against `grep -c` on the same file in the same run and
 * prints tables with ratios, peak RSS and a PASS/FAIL line per target:
 *
 *   1. quiet: a 1 GB nexus.log with 1,024 planted failed pushes (plus stdin, the library, .gz,
 *      several files on both cores, and a split2 + regex baseline);
 *   2. storms: one failure class (missing blobs with distinct ids, a proxy whose remote is down,
 *      a task failing every run, request.log 4xx) at 1 %, 5 % and 20 % of the lines: the time,
 *      and whether the incidents stay one per problem and their counts add up to the storm;
 *   3. rules: the built-in set, then with 64 custom rules more;
 *   4. the request.log join: a 1 GB request.log with 45 % Docker traffic beside the nexus.log.
 *
 *   npm run bench
 *   npm run bench -- --size 256MB --storm-size 64MB --runs 1     # a quick run
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { generate, generateRequestLog, parseSize, STORMS } = require('./generate-log');

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin', 'nexus-log-analyzer.js');
const DATA = path.join(__dirname, 'data');
const ROTATED_DAYS = 8;

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const size = parseSize(option('--size', '1GB'));
const stormSize = parseSize(option('--storm-size', '256MB'));
const runs = Math.max(1, Number(option('--runs', '3')));
const stormRuns = Math.max(1, Number(option('--storm-runs', String(Math.min(runs, 2)))));
fs.mkdirSync(DATA, { recursive: true });

const sh = (command) => {
  const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`failed: ${command}\n${result.stderr}`);
  return result.stdout;
};
const q = (p) => `'${p.replace(/'/g, "'\\''")}'`;
const cached = (name, make) => {
  const factsFile = path.join(DATA, `${name}.json`);
  if (fs.existsSync(factsFile)) {
    const facts = JSON.parse(fs.readFileSync(factsFile, 'utf8'));
    if (fs.existsSync(facts.file)) return facts;
  }
  process.stderr.write(`generating ${name} ...\n`);
  const facts = make(path.join(DATA, name));
  fs.writeFileSync(factsFile, JSON.stringify(facts));
  // Written back before anything is timed: a file still being flushed made grep -c 10x slower.
  sh('sync');
  return facts;
};

/** Reads a file once so that every timed run finds it in the page cache. */
const warm = (file) => sh(`cat ${q(file)} > /dev/null`);

/** Best wall time of `times` runs, with that run's peak RSS (of the measured command only) and stdout. */
function measure(command, { times = runs, pipeInto = '' } = {}) {
  let best;
  for (let i = 0; i < times; i++) {
    const rssFile = path.join(DATA, 'bench.rss');
    const line = `/usr/bin/time -o ${q(rssFile)} -f '%M %P' bash -c ${q(command)}${pipeInto === '' ? '' : ` | ${pipeInto}`}`;
    const started = process.hrtime.bigint();
    const stdout = sh(line);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const [rssKb, cpu] = fs.readFileSync(rssFile, 'utf8').trim().split(/\s+/);
    if (best === undefined || seconds < best.seconds) best = { seconds, rssMb: Number(rssKb) / 1024, cpu, stdout };
  }
  return best;
}

/** The analyzer on some files: NDJSON parsed (kept small: rule, subject, count, closeReason, flags). */
function analyze(args, times) {
  const summarize = `node -e ${q(
    "let n=0;const rows=[];require('readline').createInterface({input:process.stdin}).on('line',(l)=>{const i=JSON.parse(l);rows.push([i.rule,i.subject&&i.subject.name,i.count,i.closeReason,(i.layerChecks||[]).length])}).on('close',()=>process.stdout.write(JSON.stringify(rows)))",
  )}`;
  const run = measure(`node ${q(CLI)} ${args}`, { times, pipeInto: summarize });
  return { ...run, incidents: JSON.parse(run.stdout || '[]') };
}

const targets = [];
const target = (ok, text) => targets.push(`${ok ? 'PASS' : 'FAIL'}  ${text}`);
const header = () => console.log(`${'what'.padEnd(52)}${'wall'.padStart(9)}${'MB/s'.padStart(8)}${'x grep'.padStart(8)}${'peak RSS'.padStart(10)}${'CPU'.padStart(7)}  found`);
const row = (name, megabytes, result, grep, found = '') =>
  console.log(
    `${name.padEnd(52)}${`${result.seconds.toFixed(2)} s`.padStart(9)}${(megabytes / result.seconds).toFixed(0).padStart(8)}` +
      `${grep === null ? ''.padStart(8) : `${(result.seconds / grep.seconds).toFixed(1)}x`.padStart(8)}${`${result.rssMb.toFixed(0)} MB`.padStart(10)}${String(result.cpu).padStart(7)}  ${found}`,
  );
const pushesFound = (result) => result.incidents.filter(([rule, , , reason]) => rule === 'docker-manifest-missing-layers' && reason === 'matched').length;

console.log(`nexus-log-analyzer bench: node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}; best of ${runs} (storms ${stormRuns}); page cache warm\n`);

// 1. Quiet.
const quiet = cached(`nexus-${size}.log`, (file) => generate(file, size));
const mb = quiet.bytes / 1e6;
console.log(`1. quiet: ${mb.toFixed(0)} MB nexus.log, ${quiet.lines.toLocaleString('en')} lines, ${quiet.plantedPushes} planted failed pushes\n`);
header();
warm(quiet.file);
const grep = measure(`grep -c V2ManifestUtilImpl ${q(quiet.file)} || true`);
row('grep -c V2ManifestUtilImpl (floor)', mb, grep, null);
const cli = analyze(q(quiet.file), runs);
row('analyzer CLI, file', mb, cli, grep, `${pushesFound(cli)}/${quiet.plantedPushes}`);
const pipe = analyze(`< ${q(quiet.file)}`, runs);
row('analyzer CLI, stdin (< file)', mb, pipe, grep, `${pushesFound(pipe)}/${quiet.plantedPushes}`);
const library = measure(`node ${q(path.join(__dirname, 'library-api.js'))} ${q(quiet.file)}`);
row('analyzer library (analyzeFiles)', mb, library, grep, `${library.stdout.trim()}/${quiet.plantedPushes}`);
const baseline = measure(`node ${q(path.join(__dirname, 'baseline-split2.js'))} ${q(quiet.file)}`, { times: 1 });
row('split2 + one regex per line (baseline)', mb, baseline, grep);
const rotated = path.join(DATA, `rotated-${quiet.bytes}`);
if (!fs.existsSync(path.join(rotated, 'done'))) {
  process.stderr.write(`splitting into ${ROTATED_DAYS} rotated days and gzipping ...\n`);
  fs.rmSync(rotated, { recursive: true, force: true });
  fs.mkdirSync(path.join(rotated, 'plain'), { recursive: true });
  fs.mkdirSync(path.join(rotated, 'gz'), { recursive: true });
  sh(`cd ${q(path.join(rotated, 'plain'))} && split -n l/${ROTATED_DAYS} -d -a 1 ${q(quiet.file)} day-`);
  for (let day = 0; day < ROTATED_DAYS; day++) {
    const name = `nexus-2026-11-0${day + 1}.log`;
    fs.renameSync(path.join(rotated, 'plain', `day-${day}`), path.join(rotated, 'plain', name));
    sh(`gzip -1 -c ${q(path.join(rotated, 'plain', name))} > ${q(path.join(rotated, 'gz', `${name}.gz`))}`);
  }
  fs.writeFileSync(path.join(rotated, 'done'), '');
}
const zcat = measure(`zcat ${q(path.join(rotated, 'gz'))}/*.gz | wc -l`);
row(`zcat ${ROTATED_DAYS} .gz days | wc -l`, mb, zcat, grep);
const gz = analyze(q(path.join(rotated, 'gz')), runs);
row(`analyzer CLI, the same as ${ROTATED_DAYS} rotated .gz days`, mb, gz, grep, `${pushesFound(gz)}/${quiet.plantedPushes}`);
const workers = analyze(q(path.join(rotated, 'plain')), runs);
row(`analyzer CLI, ${ROTATED_DAYS} plain days on both cores`, mb, workers, grep, `${pushesFound(workers)}/${quiet.plantedPushes}`);
console.log('');
target(cli.seconds <= 3 * grep.seconds, `quiet: CLI within 3x grep -c (${(cli.seconds / grep.seconds).toFixed(1)}x, ${(mb / cli.seconds).toFixed(0)} MB/s)`);
target(cli.rssMb <= 100, `quiet: CLI peak RSS <= 100 MB (${cli.rssMb.toFixed(0)} MB)`);
target(gz.seconds <= 1.5 * zcat.seconds, `quiet: .gz within 1.5x zcat | wc -l (${(gz.seconds / zcat.seconds).toFixed(2)}x)`);
target([cli, pipe, gz, workers].every((r) => pushesFound(r) === quiet.plantedPushes) && Number(library.stdout) === quiet.plantedPushes, 'quiet: every planted push found by every run');

// 2. Storms.
console.log(`\n2. storms: one failure class at 1 %, 5 % and 20 % of the lines, ${(stormSize / 2 ** 20).toFixed(0)} MiB logs\n`);
header();
for (const kind of Object.keys(STORMS)) {
  for (const fraction of [0.01, 0.05, 0.2]) {
    const name = `storm-${kind}-${fraction}-${stormSize}`;
    const label = `${kind} at ${(fraction * 100).toFixed(0)} %`;
    let facts;
    let file;
    let args;
    if (kind === 'request-4xx') {
      const nexus = cached(`${name}-nexus.log`, (f) => generate(f, Math.floor(stormSize / 16), { seed: 3 }));
      facts = cached(`${name}-request.log`, (f) => generateRequestLog(f, stormSize, [], { storm: { kind, fraction }, dockerShare: 0.45 }));
      file = facts.file;
      args = `${q(nexus.file)} ${q(facts.file)}`;
      facts.plantedPushes = nexus.plantedPushes;
    } else {
      facts = cached(name, (f) => generate(f, stormSize, { storm: { kind, fraction }, seed: 11 }));
      file = facts.file;
      args = q(facts.file);
    }
    const fileMb = fs.statSync(file).size / 1e6;
    warm(file);
    const floor = measure(`grep -c V2ManifestUtilImpl ${q(file)} || true`, { times: stormRuns });
    const run = analyze(`--jobs 1 ${args}`, stormRuns);
    const rule = STORMS[kind];
    const ofRule = run.incidents.filter(([r, subject]) => r === rule && facts.stormSubjectNames.includes(subject));
    const counted = ofRule.reduce((sum, [, , count]) => sum + count, 0);
    const found = pushesFound(run);
    row(label, fileMb, run, floor, `${ofRule.length} incident(s) for ${facts.stormSubjects} subject(s), ${counted}/${facts.stormLines} lines; pushes ${found}/${facts.plantedPushes}`);
    const ratio = run.seconds / floor.seconds;
    const limit = fraction >= 0.2 ? 10 : fraction >= 0.05 ? 5 : 5;
    const pairs = new Set(run.incidents.filter(([r]) => r !== 'docker-manifest-missing-layers').map(([r, s]) => `${r}\u0000${s}`));
    const others = run.incidents.filter(([r]) => r !== 'docker-manifest-missing-layers').length;
    target(ratio <= limit, `storm ${label}: within ${limit}x grep -c (${ratio.toFixed(1)}x)`);
    target(run.rssMb <= 100, `storm ${label}: peak RSS <= 100 MB (${run.rssMb.toFixed(0)} MB)`);
    target(ofRule.length <= facts.stormSubjects && others <= pairs.size + 0 && counted === facts.stormLines && found === facts.plantedPushes, `storm ${label}: ${ofRule.length} incident(s) <= ${facts.stormSubjects} subject(s), counts add up (${counted}/${facts.stormLines}), ${found}/${facts.plantedPushes} pushes`);
  }
}

// 3. Rules: the built-in set, then 64 custom rules more.
const customRules = path.join(DATA, 'custom-64.yaml');
const yaml = [];
for (let i = 0; i < 64; i++) {
  const level = i % 4 === 0 ? '[INFO]' : i % 4 === 1 ? '[ERROR]' : '[WARN, ERROR]';
  const logger = i % 2 === 0 ? `\n  loggers: [CustomComponent${i}]` : '';
  yaml.push(
    `- id: custom-${i}\n  title: Custom rule ${i}\n  severity: warning\n  kind: threshold\n  levels: ${level}${logger}\n  literals: ["custom failure ${i} detected"]\n` +
      `  match: { message: "custom failure ${i} detected: (?<what>\\\\S+)" }\n  key: "{what}"\n  summary: "custom {what} failed {count} times"\n` +
      '  diagnosis: { cause: custom-failure, explanation: "a custom failure", confidence: low, remediation: ["look at it"] }',
  );
}
fs.writeFileSync(customRules, `${yaml.join('\n')}\n`);
console.log(`\n3. rules: the built-in set, then with 64 custom rules (${path.relative(ROOT, customRules)}) on the quiet log\n`);
header();
const builtinOnly = analyze(q(quiet.file), runs);
row('built-in rules', mb, builtinOnly, grep, `${pushesFound(builtinOnly)}/${quiet.plantedPushes}`);
const withCustom = analyze(`--rules ${q(customRules)} ${q(quiet.file)}`, runs);
row('built-in + 64 custom rules', mb, withCustom, grep, `${pushesFound(withCustom)}/${quiet.plantedPushes}`);
target(withCustom.seconds <= 1.3 * builtinOnly.seconds, `rules: 64 custom rules within 1.3x of the built-in set alone (${(withCustom.seconds / builtinOnly.seconds).toFixed(2)}x)`);

// 4. The request.log join.
const request = cached(`request-${size}.log`, (file) => generateRequestLog(file, size, quiet.pushes, { dockerShare: 0.45 }));
const requestMb = request.bytes / 1e6;
console.log(`\n4. request.log join: ${requestMb.toFixed(0)} MB request.log (45 % Docker traffic, the layer checks of ${request.pushesChecked} planted pushes) beside the quiet nexus.log\n`);
header();
warm(request.file);
const requestGrep = measure(`grep -c V2ManifestUtilImpl ${q(request.file)} || true`);
row('grep -c on request.log (floor)', requestMb, requestGrep, null);
const joined = analyze(`--jobs 1 ${q(quiet.file)} ${q(request.file)}`, runs);
const nexusOnly = analyze(`--jobs 1 ${q(quiet.file)}`, runs);
const pass = { seconds: Math.max(0.001, joined.seconds - nexusOnly.seconds), rssMb: joined.rssMb, cpu: joined.cpu };
const enriched = joined.incidents.filter(([rule, , , , checks]) => rule === 'docker-manifest-missing-layers' && checks > 0).length;
row('nexus.log alone', mb, nexusOnly, grep, `${pushesFound(nexusOnly)}/${quiet.plantedPushes}`);
row('nexus.log + request.log', mb + requestMb, joined, null, `${enriched} pushes proven from request.log`);
row('  the request.log pass (difference)', requestMb, pass, requestGrep);
target(pass.seconds <= 4 * requestGrep.seconds, `request.log join: the request.log pass within 4x grep -c on it (${(pass.seconds / requestGrep.seconds).toFixed(1)}x, ${(requestMb / pass.seconds).toFixed(0)} MB/s)`);
target(joined.rssMb <= 100, `request.log join: peak RSS <= 100 MB (${joined.rssMb.toFixed(0)} MB)`);
target(enriched === request.pushesChecked, `request.log join: every push whose checks are in request.log is proven (${enriched}/${request.pushesChecked})`);

console.log('');
for (const line of targets) console.log(line);
process.exitCode = targets.some((line) => line.startsWith('FAIL')) ? 1 : 0;
