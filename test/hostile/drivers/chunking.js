'use strict';
/**
 * Library: the same bytes in `runs` random chunkings, with a small maxLineBytes so that many
 * lines are over the cap (cut), give the same incidents and counters as one write. The input
 * mixes what makes cutting hard: relevant lines over the cap, multi-byte UTF-8 characters
 * astride the cap, CRLF, stack traces, hard-wrapped headers, blank lines.
 *
 *   node chunking.js [runs] [maxLineBytes] [seed]
 */
const path = require('node:path');
const { Analyzer } = require(path.join(__dirname, '..', '..', '..', 'dist', 'index.js'));
const L = require('../lines');

const runs = Number(process.argv[2] ?? 2000);
const maxLineBytes = Number(process.argv[3] ?? 256);
let seed = Number(process.argv[4] ?? 23);
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
};

function input() {
  const lines = [];
  for (let id = 0; id < 24; id++) {
    const p = L.push(id, id * 3000, { layers: 1 + (id % 3) });
    const extra = id % 4 === 0 ? ` ${'é'.repeat(40 + id)}` : id % 4 === 1 ? ` ${'x'.repeat(maxLineBytes)}` : '';
    lines.push(...p.lines.slice(0, -1).map((line) => line + extra));
    if (id % 5 === 0) lines.push('java.lang.IllegalStateException: boom €€€', '\tat org.example.Foo.bar(Foo.java:1)', '');
    if (id % 7 === 0) lines.push(L.missingLayerLine(L.ts(id * 3000 + 50), `qtp23-${id}`, `team/wrap${id}`, '1.0', L.digest(id, 9)).replace(/'}$/, ''), "'}");
    lines.push(p.lines[p.lines.length - 1]);
  }
  return Buffer.from(lines.map((line, i) => line + (i % 3 === 0 ? '\r\n' : '\n')).join(''));
}

function runOnce(bytes, cuts) {
  const analyzer = new Analyzer({ maxLineBytes });
  const out = [];
  let at = 0;
  for (const cut of cuts) {
    out.push(...analyzer.write(bytes.subarray(at, cut)));
    at = cut;
  }
  out.push(...analyzer.write(bytes.subarray(at)));
  out.push(...analyzer.end());
  const { lines, truncatedLines, events, relevantEvents, incidents } = analyzer.stats;
  return JSON.stringify({ out, stats: { lines, truncatedLines, events, relevantEvents, incidents } });
}

const bytes = input();
const reference = runOnce(bytes, []);
let differing = 0;
let firstDiff = null;
for (let r = 0; r < runs; r++) {
  const cuts = new Set();
  const count = r % 100 === 0 ? Math.floor(bytes.length / 2) : 1 + Math.floor(random() * 100); // a few runs cut almost every other byte
  for (let i = 0; i < count; i++) cuts.add(1 + Math.floor(random() * (bytes.length - 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  if (runOnce(bytes, sorted) !== reference) {
    differing++;
    firstDiff ??= `run ${r} (${sorted.length} cuts)`;
  }
}
const truncated = JSON.parse(reference).stats.truncatedLines;
const problems = differing === 0 ? [] : [`${differing} of ${runs} chunkings gave other incidents or counters (first: ${firstDiff})`];
if (truncated === 0) problems.push('no line was over the cap: the case tests nothing');
process.stdout.write(`${JSON.stringify({ problems, note: `${runs} chunkings of ${bytes.length} bytes, ${truncated} lines over a cap of ${maxLineBytes} bytes` })}\n`);
