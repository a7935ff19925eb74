'use strict';
/**
 * Library: snapshot() while `count` pushes each hold one ~1 MiB line, open at once. It must not
 * throw, and its JSON must stay under a size set by the options, whatever the lines hold:
 * the events held for ordering (at most maxReorderChars of text, serialised with their message: x2),
 * the event in progress (one line of at most maxLineBytes, x2) and the open groups' evidence
 * (each line cut at maxEvidenceChars), plus 8 KiB of fields per group.
 */
const path = require('node:path');
const DIST = path.join(__dirname, '..', '..', '..', 'dist');
const { Analyzer, DEFAULTS } = require(path.join(DIST, 'index.js'));
const { DEFAULT_TIME_POLICY } = require(path.join(DIST, 'incidents', 'time-policy.js'));
const L = require('../lines');

const count = Number(process.argv[2] ?? 600);
const MiB = 1024 * 1024;
const REORDER_CHARS = DEFAULT_TIME_POLICY.maxReorderChars;
const LINE_BYTES = DEFAULTS.maxLineBytes;
const EVIDENCE_CHARS = DEFAULTS.maxEvidenceChars;

const analyzer = new Analyzer();
const problems = [];
let largest = 0;
let groups = 0;
for (let i = 0; i < count; i++) {
  analyzer.write(`${L.longMissingLayer(i, `qtp4-${i}`, `team/snap${i}`, `1.${i}`, L.digest(i, 0), MiB - 64)}\n`);
  if ((i + 1) % 200 !== 0 && i !== count - 1) continue;
  try {
    const json = JSON.stringify(analyzer.snapshot());
    const open = analyzer.stats.openGroups;
    const bound = 2 * REORDER_CHARS + 2 * LINE_BYTES + open * (EVIDENCE_CHARS + 8192);
    if (json.length > bound) problems.push(`snapshot of ${json.length} bytes at ${i + 1} lines > ${bound}`);
    if (json.length > largest) [largest, groups] = [json.length, open];
    Analyzer.restore(JSON.parse(json)); // and it reads back
  } catch (error) {
    problems.push(`snapshot at ${i + 1} lines: ${error.name}: ${error.message.slice(0, 120)}`);
    break;
  }
}
const incidents = analyzer.end().filter((incident) => incident.rule === L.PUSH_RULE);
if (incidents.length !== count) problems.push(`${incidents.length} of ${count} pushes reported`);
const note = `largest snapshot ${(largest / 1e6).toFixed(1)} MB with ${groups} groups open (limit ${((2 * REORDER_CHARS + 2 * LINE_BYTES + groups * (EVIDENCE_CHARS + 8192)) / 1e6).toFixed(1)} MB)`;
process.stdout.write(`${JSON.stringify({ problems, note })}\n`);
