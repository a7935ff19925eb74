'use strict';
/** Layouts and time: no fixed columns, stray far-off dates, CR and CRLF line ends. */
const fs = require('node:fs');
const path = require('node:path');
const { cli, run, scratch, start, writeStream } = require('../harness');
const { basics, reasonOf } = require('../checks');
const L = require('../lines');

/**
 * Runs the CLI on `text` and checks that each push is one whole incident. `stdin`: written to
 * stdin a line at a time, `pauseMs` apart, so the live clock runs between lines as it would
 * on a real stream (10 ms without data completes the event in progress).
 */
async function pushesIn(name, text, pushes, { stdin = false, pauseMs = 30 } = {}) {
  const dir = scratch(name);
  const file = path.join(dir, 'nexus.log');
  let result;
  if (stdin) {
    const child = start(cli('-'), { memMB: 512, timeMs: 30_000, stdin: 'pipe' });
    for (const line of text.split(/(?<=\n)/)) {
      await writeStream(child.stdin, line);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    child.stdin.end();
    result = await child.done;
  } else {
    fs.writeFileSync(file, text);
    result = await run(cli(file), { memMB: 512, timeMs: 30_000 });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const incidents = L.parseIncidents(result.stdout.lines);
  return { result, reason: reasonOf(basics(result), L.checkPushes(incidents, pushes.map((p) => p.expected))) };
}

/** A push with a line from another thread, dated `strayEpochMs`, between its missing layers and its 400. */
function pushWithStray(id, strayEpochMs) {
  const p = L.push(id, 0, { layers: 2 });
  const stray = L.missingLayerLine(L.ts(0, { epochMs: strayEpochMs }), 'qtp-stray', 'team/stray', '9.9', L.digest(99, 0));
  const info = L.infoLine(L.ts(0, { epochMs: strayEpochMs }), 'qtp-stray-2', 'Stray line from a clock gone wrong');
  return { lines: [p.lines[0], stray, info, p.lines[1], p.lines[2]], expected: p.expected };
}

const cases = [
  {
    id: '10',
    name: 'timestamps without an offset (2025-09-10 01:36:22,857 WARN  [...])',
    run() {
      const pushes = [L.push(10, 0, { stamp: (t) => L.ts(t, { offset: '' }) }), L.push(11, 30_000, { stamp: (t) => L.ts(t, { offset: '' }) })];
      return pushesIn('no-offset', `${pushes.flatMap((p) => p.lines).join('\n')}\n`, pushes);
    },
  },
  {
    id: '11',
    name: "'T' separator, '.' millis, Z and +hh:mm offsets, padded levels",
    run() {
      const variants = [
        { stamp: (t) => L.ts(t, { sep: 'T', frac: '.' }) },
        { stamp: (t) => L.ts(t, { sep: 'T', frac: ',', offset: 'Z' }) },
        { stamp: (t) => L.ts(t, { frac: '.', offset: '+00:00' }) },
        { stamp: (t) => L.ts(t, { sep: 'T', frac: '.', offset: '' }), pad: (level) => level.padStart(5) },
        { stamp: (t) => L.ts(t), pad: (level) => `${level.padEnd(5)}   ` },
        { stamp: (t) => L.ts(t, { offset: '' }), pad: (level) => `  ${level}` },
      ];
      const pushes = variants.map((v, i) => L.push(110 + i, i * 30_000, v));
      return pushesIn('variants', `${pushes.flatMap((p) => p.lines).join('\n')}\n`, pushes);
    },
  },
  {
    id: '12',
    name: 'a stray line dated 9999 from another thread in the middle of a push (stdin)',
    run() {
      const p = pushWithStray(12, Date.UTC(9999, 11, 31, 23, 59, 59, 999));
      return pushesIn('future', `${p.lines.join('\n')}\n`, [p], { stdin: true });
    },
  },
  {
    id: '13',
    name: 'a stray line dated 1970 from another thread in the middle of a push (stdin)',
    run() {
      const p = pushWithStray(13, Date.UTC(1970, 0, 1, 0, 0, 1));
      return pushesIn('past', `${p.lines.join('\n')}\n`, [p], { stdin: true });
    },
  },
  {
    id: '14',
    name: 'CR-only line endings',
    run() {
      const pushes = [L.push(14, 0), L.push(15, 30_000, { layers: 3 })];
      return pushesIn('cr', `${pushes.flatMap((p) => p.lines).join('\r')}\r`, pushes);
    },
  },
  {
    id: '15',
    name: 'CRLF line endings',
    run() {
      const pushes = [L.push(16, 0), L.push(17, 30_000, { layers: 3 })];
      return pushesIn('crlf', `${pushes.flatMap((p) => p.lines).join('\r\n')}\r\n`, pushes);
    },
  },
];

module.exports = { cases };
