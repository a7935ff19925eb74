'use strict';
/** Library contracts, each in a small driver process: checkpoints, torn-down streams, chunking. */
const { driverCase } = require('../checks');

const cases = [
  driverCase('21', 'library: restore() of damaged checkpoints (offset/watermark "abc", no engine, cut-down groups)', 'restore', []),
  driverCase('22', 'library: a createAnalyzer() stream destroyed in the middle of a push', 'destroy', []),
  driverCase('23', 'library: 2,000 random chunkings with maxLineBytes 256 give the same incidents', 'chunking', ['2000', '256'], { timeMs: 120_000 }),
];

module.exports = { cases };
