#!/usr/bin/env node
'use strict';
/**
 * npm run coverage: the test suite once, with the coverage of every src/ file, wherever its
 * code ran:
 * - src/ in jest's processes: jest's coverage, instrumented by babel (no inspector session, so
 *   it leaves V8's own counters alone);
 * - the built dist/ anywhere, mapped back to src/ by its source maps: NODE_V8_COVERAGE, read
 *   with c8. That is every child process and worker thread the tests start (the CLI, examples,
 *   extraction workers) and the tests that load dist/ in jest's processes.
 * A line is one babel finds a statement on; it is covered when either says it ran. Prints one
 * row per src/ folder and exits 1 when a folder is under the floor, a src/ file with code ran
 * not at all, or a test failed. Extra arguments go to jest (a partial run checks no floor).
 *
 * Writes coverage/ (html/index.html to browse) and .jest-results.json, like `npm test`.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const libCoverage = require('istanbul-lib-coverage');
const libReport = require('istanbul-lib-report');
const reports = require('istanbul-reports');

/**
 * Lines covered, in %, that each src/ folder and the whole of src/ must reach (README, Quick
 * start). Measured 2026-11-30: 94.5 % in all, the lowest folder src/api/parallel at 70 %.
 */
const FLOOR = 65;
const FLOOR_ALL = 90;

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'coverage');
const RAW = path.join(OUT, 'v8');
const bin = (name, file) => path.join(ROOT, 'node_modules', name, file);

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(RAW, { recursive: true });

const jestArgs = process.argv.slice(2);
const jest = spawnSync(
  process.execPath,
  [
    bin('jest', 'bin/jest.js'),
    '--coverage',
    '--coverageProvider=babel',
    '--coverageReporters=json',
    `--coverageDirectory=${path.join(OUT, 'jest')}`,
    '--collectCoverageFrom=src/**/*.ts',
    // src/ among the roots too: jest reports the files no test loaded only from what it indexes.
    '--roots=<rootDir>/test',
    '--roots=<rootDir>/src',
    '--json',
    '--outputFile=.jest-results.json',
    // Ends with process.exit even if a test left a handle open: a process killed by a signal
    // writes no V8 coverage, and jest runs the tests in its own process on two cores.
    '--forceExit',
    ...jestArgs,
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_V8_COVERAGE: RAW } },
);

// Each process wrote everything it loaded: keep only dist/ (the rest is jest, babel, node_modules).
const DIST_URL = `file://${path.join(ROOT, 'dist')}${path.sep}`;
for (const name of fs.readdirSync(RAW)) {
  const file = path.join(RAW, name);
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.result = data.result.filter((script) => script.url.startsWith(DIST_URL));
    if (data.result.length === 0) fs.rmSync(file);
    else fs.writeFileSync(file, JSON.stringify(data));
  } catch {
    fs.rmSync(file); // cut short by a process killed on purpose
  }
}
const c8 = spawnSync(
  process.execPath,
  [bin('c8', 'bin/c8.js'), 'report', `--temp-directory=${RAW}`, `--reports-dir=${path.join(OUT, 'children')}`, '--reporter=json', '--include=dist/**'],
  { cwd: ROOT, stdio: 'inherit' },
);
if (c8.status !== 0) {
  console.error('coverage: c8 could not read the child processes\' coverage');
  process.exit(1);
}

const read = (part) => {
  const file = path.join(OUT, part, 'coverage-final.json');
  return libCoverage.createCoverageMap(fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {});
};
const inJest = read('jest');
const inDist = read('children');
const SRC = path.join(ROOT, 'src') + path.sep;

/** One statement per executable line (babel's), covered when either source saw it run. */
function mergedLines(file) {
  const lineHits = (map) => (map.files().includes(file) ? map.fileCoverageFor(file).getLineCoverage() : {});
  const babel = lineHits(inJest);
  const v8 = lineHits(inDist);
  const text = fs.readFileSync(file, 'utf8').split('\n');
  const data = { path: file, statementMap: {}, s: {}, fnMap: {}, f: {}, branchMap: {}, b: {} };
  const lines = Object.keys(babel).length > 0 ? Object.keys(babel) : Object.keys(v8);
  for (const line of lines) {
    data.statementMap[line] = { start: { line: Number(line), column: 0 }, end: { line: Number(line), column: (text[Number(line) - 1] ?? '').length } };
    data.s[line] = Math.max(babel[line] ?? 0, v8[line] ?? 0);
  }
  return data;
}

const map = libCoverage.createCoverageMap({});
const sourceFiles = fs
  .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
  .map((name) => path.join(SRC, name));
for (const file of sourceFiles) map.addFileCoverage(mergedLines(file));
fs.mkdirSync(path.join(OUT, 'merged'), { recursive: true });
fs.writeFileSync(path.join(OUT, 'merged', 'coverage-final.json'), JSON.stringify(map.toJSON()));
reports.create('html').execute(libReport.createContext({ dir: path.join(OUT, 'html'), coverageMap: map }));

// Every src/ file found on disk (a file of types only has no lines to run).
const folders = new Map();
const unrun = [];
for (const file of sourceFiles) {
  const lines = map.fileCoverageFor(file).toSummary().lines;
  if (lines.total > 0 && lines.covered === 0) unrun.push(path.relative(ROOT, file));
  const folder = path.relative(ROOT, path.dirname(file));
  const row = folders.get(folder) ?? { files: 0, total: 0, covered: 0, lowest: null };
  const pct = lines.total === 0 ? 100 : (100 * lines.covered) / lines.total;
  row.files++;
  row.total += lines.total;
  row.covered += lines.covered;
  if (row.lowest === null || pct < row.lowest.pct) row.lowest = { file: path.basename(file), pct };
  folders.set(folder, row);
}

const pct = (covered, total) => (total === 0 ? 100 : (100 * covered) / total);
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
const all = rows.reduce((sum, [, r]) => ({ files: sum.files + r.files, total: sum.total + r.total, covered: sum.covered + r.covered }), { files: 0, total: 0, covered: 0 });
const width = Math.max(...rows.map(([folder]) => folder.length), 10);
const line = (name, files, covered, total, lowest) =>
  `${name.padEnd(width)}  ${String(files).padStart(5)}  ${pct(covered, total).toFixed(1).padStart(6)} %  ${`${covered}/${total}`.padStart(11)}  ${lowest}`;
console.log(`\nLines covered per src/ folder (src/ in jest's processes and dist/ in every process, merged); floor ${FLOOR} % per folder, ${FLOOR_ALL} % in all`);
console.log(`${'folder'.padEnd(width)}  files   lines    covered    lowest file`);
for (const [folder, r] of rows) console.log(line(folder, r.files, r.covered, r.total, `${r.lowest.file} ${r.lowest.pct.toFixed(1)} %`));
console.log(line('all', all.files, all.covered, all.total, ''));
console.log(`html: ${path.relative(ROOT, path.join(OUT, 'html', 'index.html'))}`);

let failed = jest.status !== 0;
if (jest.status !== 0) console.error(`coverage: the tests failed (jest exit ${jest.status})`);
if (jestArgs.length > 0) {
  console.log('coverage: a partial run (arguments given to jest): no floor checked');
} else {
  const under = rows.filter(([, r]) => pct(r.covered, r.total) < FLOOR).map(([folder]) => folder);
  if (under.length > 0) console.error(`coverage: under the ${FLOOR} % floor: ${under.join(', ')}`);
  const allUnder = pct(all.covered, all.total) < FLOOR_ALL;
  if (allUnder) console.error(`coverage: src/ as a whole is under ${FLOOR_ALL} %`);
  if (unrun.length > 0) console.error(`coverage: never ran: ${unrun.join(', ')}`);
  failed ||= under.length > 0 || allUnder || unrun.length > 0;
}
process.exit(failed ? 1 : 0);
