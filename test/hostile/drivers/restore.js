'use strict';
/**
 * Library: Analyzer.restore() on damaged checkpoints. Each damage must be refused with a
 * CheckpointError naming the field at fault (never a TypeError, never accepted to fail later),
 * and the undamaged checkpoint must go on to the same incidents as a run never interrupted.
 */
const path = require('node:path');
const { Analyzer } = require(path.join(__dirname, '..', '..', '..', 'dist', 'index.js'));
const L = require('../lines');

// Push 1 open, and a line from another thread 5 s later: the events held for ordering go on, so groups are open.
const first = [...L.push(1, 0, { rejected: false }).lines, ...L.push(3, 5000, { rejected: false, layers: 1 }).lines, L.infoLine(L.ts(5001), 'main', 'next')];
const rest = [L.rejectionLine(L.ts(6000), 'qtp1-1', 'team/app1', '1.1'), ...L.push(2, 7000).lines];
const head = `${first.join('\n')}\n`;
const tail = `${rest.join('\n')}\n`;

const whole = new Analyzer();
const expected = JSON.stringify([...whole.write(head + tail), ...whole.end()]);

const interrupted = new Analyzer();
const before = interrupted.write(head);
const checkpoint = JSON.stringify(interrupted.snapshot());
const problems = [];
const base = JSON.parse(checkpoint);
if (base.engine.groups.length === 0) {
  process.stdout.write(`${JSON.stringify({ problems: ['the checkpoint holds no open group: the damage cases would test nothing'] })}\n`);
  process.exit(0);
}

/** [name, the field the error must name, damage] */
const damages = [
  ['offset "abc"', 'source.offset', (c) => (c.source.offset = 'abc')],
  ['negative offset', 'source.offset', (c) => (c.source.offset = -1)],
  ['engine watermark "abc"', 'clocks.nexus', (c) => (c.clocks.nexus = 'abc')],
  ['time-policy watermark "abc"', 'time.clocks[0].frontier', (c) => (c.time.clocks[0].frontier = 'abc')],
  ['missing engine', 'engine', (c) => delete c.engine],
  ['missing time', 'time', (c) => delete c.time],
  ['unknown version', 'version', (c) => (c.version = 99)],
  ['a group cut down to its rule and key', 'engine.groups[0]', (c) => (c.engine.groups[0] = { rule: c.engine.groups[0].rule, key: c.engine.groups[0].key })],
  ['a group without its state', 'engine.groups[0]', (c) => delete c.engine.groups[0].state],
  ['a group with evidence "abc"', 'engine.groups[0].evidence', (c) => (c.engine.groups[0].evidence = 'abc')],
  ['a group with count -5', 'engine.groups[0].count', (c) => (c.engine.groups[0].count = -5)],
  ['a group of an unknown rule', 'engine.groups[0].rule', (c) => (c.engine.groups[0].rule = 'no-such-rule')],
  ['groups not an array', 'engine.groups', (c) => (c.engine.groups = {})],
  ['source state "abc"', 'source.state', (c) => (c.source.state = 'abc')],
  ['null checkpoint', 'checkpoint', () => null],
];

for (const [name, field, damage] of damages) {
  const copy = JSON.parse(checkpoint);
  const damaged = damage(copy) === null ? null : copy;
  let restored;
  try {
    restored = Analyzer.restore(damaged);
  } catch (error) {
    if (error.name !== 'CheckpointError') problems.push(`${name}: ${error.name}: ${error.message.slice(0, 100)}`);
    else if (!(error.field ?? '').includes(field) && !error.message.includes(field)) problems.push(`${name}: the error names ${error.field}, not ${field}`);
    continue;
  }
  // Accepted: it must then work to the end without throwing (and this is still a finding).
  try {
    restored.write(tail);
    restored.end();
    problems.push(`${name}: accepted`);
  } catch (error) {
    problems.push(`${name}: accepted, then ${error.name} later: ${error.message.slice(0, 80)}`);
  }
}

const resumed = Analyzer.restore(JSON.parse(checkpoint));
const got = JSON.stringify([...before, ...resumed.write(tail), ...resumed.end()]);
if (got !== expected) problems.push('the undamaged checkpoint does not go on to the same incidents');
process.stdout.write(`${JSON.stringify({ problems, note: `${damages.length} damaged checkpoints refused, the whole one resumed` })}\n`);
