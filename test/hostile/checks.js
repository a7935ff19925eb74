'use strict';
/** What every hostile case checks of a finished child, besides its own expectations. */
const { driver, driverResult, run } = require('./harness');

/**
 * Problems with a result: killed by a limit, an unexpected exit status, a stack trace on
 * stderr, a peak RSS over the budget. `code`: the wanted exit status (or a list).
 */
function basics(result, { code = 0, rssMB = 200 } = {}) {
  const problems = [];
  if (result.killedFor !== null) problems.push(`killed: ${result.killedFor}`);
  else if (result.signal !== null) problems.push(`ended by signal ${result.signal}`);
  else {
    const wanted = Array.isArray(code) ? code : [code];
    if (!wanted.includes(result.code)) problems.push(`exit ${result.code}, wanted ${wanted.join(' or ')}${firstError(result)}`);
  }
  if (stackTrace(result) !== null) problems.push(`stack trace on stderr: ${stackTrace(result)}`);
  if (rssMB !== null && result.peakMB > rssMB) problems.push(`peak RSS ${Math.round(result.peakMB)} MB > ${rssMB} MB`);
  return problems;
}

/** The first line of a stack trace on stderr, or null. */
function stackTrace(result) {
  const lines = result.stderr.lines;
  const at = lines.findIndex((line) => /^\s+at .+[:(]\d+/.test(line));
  return at < 0 ? null : (lines[Math.max(0, at - 1)] ?? '').slice(0, 160);
}

function firstError(result) {
  const line = result.stderr.lines.find((l) => l.trim() !== '');
  return line === undefined ? '' : ` (stderr: ${line.slice(0, 200)})`;
}

/** Joins problem lists into a reason, or null when there is none. */
function reasonOf(...lists) {
  const all = lists.flat().filter((p) => p !== null && p !== undefined && p !== '');
  return all.length === 0 ? null : all.join('; ');
}

/**
 * A case run by a library driver (test/hostile/drivers/<script>.js), which prints
 * `{ problems, note }` last. A driver builds its inputs in its own process: `rssMB` may be higher
 * than the CLI's 200 MB budget for the big ones.
 */
function driverCase(id, name, script, args, { timeMs = 60_000, rssMB = 200 } = {}) {
  return {
    id,
    name,
    async run() {
      const result = await run(driver(script, ...args), { memMB: 1536, timeMs });
      const out = driverResult(result);
      return { result, reason: reasonOf(basics(result, { rssMB }), out === null ? 'no result from the driver' : out.problems), note: out?.note ?? '', rssBudgetMB: rssMB };
    },
  };
}

module.exports = { basics, stackTrace, reasonOf, driverCase };
