'use strict';
/**
 * Library: `count` distinct relevant lines of `bytes` bytes, each written twice in a row (a
 * shipper's retry), 30 s apart in log time so every push closes by its window. The repeats
 * must be recognised, and what the analyzer keeps to recognise them must not grow with the
 * lines: the heap after a full GC and the checkpoint (no group open) stay small.
 */
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { Analyzer } = require(path.join(__dirname, '..', '..', '..', 'dist', 'index.js'));
const L = require('../lines');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const count = Number(process.argv[2] ?? 5000);
const bytes = Number(process.argv[3] ?? 32 * 1024);
const CHECKPOINT_LIMIT = 1024 * 1024;
const HEAP_LIMIT_MB = 64;

const analyzer = new Analyzer();
let reported = 0;
for (let i = 0; i < count; i++) {
  // Distinct text: the filler differs per line (a different character every 4 KiB).
  const fill = `${String.fromCharCode(97 + (i % 26))}${'z'.repeat(4095)}`;
  const line = `${L.longMissingLayer(i * 30_000, `qtp5-${i % 50}`, `team/rep${i}`, `1.${i}`, L.digest(i, 0), bytes, fill)}\n`;
  reported += analyzer.write(line).filter((incident) => incident.rule === L.PUSH_RULE).length;
  reported += analyzer.write(line).filter((incident) => incident.rule === L.PUSH_RULE).length;
}
// The last line's repeat completes only once something follows it: flush, then let the windows pass.
reported += analyzer.flushPendingEvent().filter((incident) => incident.rule === L.PUSH_RULE).length;
reported += analyzer.advanceTo(count * 30_000 + Date.UTC(2025, 8, 10, 1, 1, 0)).filter((incident) => incident.rule === L.PUSH_RULE).length;
const stats = analyzer.stats;
const checkpoint = JSON.stringify(analyzer.snapshot()).length;
gc();
const heapMB = process.memoryUsage().heapUsed / 1e6;
const problems = [];
if (stats.duplicateEvents !== count) problems.push(`${stats.duplicateEvents} repeats recognised of ${count}`);
if (checkpoint > CHECKPOINT_LIMIT) problems.push(`checkpoint of ${checkpoint} bytes with ${stats.openGroups} groups open > ${CHECKPOINT_LIMIT}`);
if (heapMB > HEAP_LIMIT_MB) problems.push(`heap ${heapMB.toFixed(0)} MB after GC > ${HEAP_LIMIT_MB} MB`);
reported += analyzer.end().filter((incident) => incident.rule === L.PUSH_RULE).length;
if (reported !== count) problems.push(`${reported} pushes reported of ${count}`);
const note = `checkpoint ${(checkpoint / 1024).toFixed(0)} KiB with ${stats.openGroups} open, heap ${heapMB.toFixed(0)} MB after GC, ${stats.duplicateEvents} repeats`;
process.stdout.write(`${JSON.stringify({ problems, note })}\n`);
