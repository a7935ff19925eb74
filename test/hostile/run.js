'use strict';
/**
 * `npm run hostile`: hostile-but-legal input and faults (issue 12), each case a child process
 * of the built CLI or of a small library driver (test/hostile/drivers/), under a memory limit
 * and a time limit. One line per case: PASS/FAIL, name, wall time, peak RSS (GNU time's %M),
 * and the reason on failure; then a total. Inputs are generated into temporary folders.
 *
 *   npm run hostile                 every case
 *   npm run hostile -- 07 16 20     only these cases (by id prefix)
 *   HOSTILE_CLI=path/to/entry.js    another CLI entry point (a patched build) in place of bin/
 *
 * Exit status 1 when a case failed. The figures go into docs/reliability.md ("Hostile input").
 */
const { cases: memory } = require('./cases/memory');
const { cases: rules } = require('./cases/rules');
const { cases: signals } = require('./cases/signals');
const { cases: layouts } = require('./cases/layouts');
const { cases: follow } = require('./cases/follow');
const { cases: inputs } = require('./cases/inputs');
const { cases: api } = require('./cases/api');
const { cases: strict } = require('./cases/strict');

const ALL = [...memory, ...rules, ...signals, ...layouts, ...follow, ...inputs, ...api, ...strict].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
const RSS_BUDGET_MB = 200;

function pad(text, width) {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

async function main() {
  const only = process.argv.slice(2);
  const selected = only.length === 0 ? ALL : ALL.filter((c) => only.some((prefix) => c.id.startsWith(prefix)));
  const startedAt = performance.now();
  let passed = 0;
  const failures = [];
  for (const c of selected) {
    let outcome;
    const caseStart = performance.now();
    try {
      outcome = await c.run();
    } catch (error) {
      outcome = { result: null, reason: `the case itself failed: ${error.stack ?? error}` };
    }
    const result = outcome.result;
    const wall = result === null ? (performance.now() - caseStart) / 1000 : result.wallMs / 1000;
    const rss = result === null ? '   -  ' : `${String(Math.round(result.peakMB)).padStart(4)} MB`;
    const ok = outcome.reason === null;
    if (ok) passed++;
    else failures.push(c.id);
    const budget = outcome.rssBudgetMB ?? RSS_BUDGET_MB;
    const tail = ok ? (outcome.note ?? '') : `${outcome.reason}${outcome.note ? ` [${outcome.note}]` : ''}`;
    process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${pad(c.id, 4)}${pad(c.name, 84)} ${wall.toFixed(2).padStart(7)} s  ${rss} (<=${budget})  ${tail}\n`);
  }
  const total = (performance.now() - startedAt) / 1000;
  process.stdout.write(`hostile: ${passed} of ${selected.length} passed in ${total.toFixed(0)} s${failures.length > 0 ? `; failed: ${failures.join(', ')}` : ''}\n`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main();
