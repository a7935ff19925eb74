'use strict';
// The naive pipeline most log tools amount to: split2 into lines, one header regex per line.
// Prints how many missing-layer lines it saw. Used by bench/run.js as the baseline.
const fs = require('node:fs');
const split2 = require('split2');

const HEADER = /^(\S+ \S+) +(\w+) +\[(.+?)\] +(\S*) *(\S+) (\S+) - (.*)$/;
let missing = 0;
fs.createReadStream(process.argv[2], { highWaterMark: 1024 * 1024 })
  .pipe(split2())
  .on('data', (line) => {
    const match = HEADER.exec(line);
    if (match !== null && match[7].startsWith('Manifest refers to missing layer')) missing++;
  })
  .on('end', () => process.stdout.write(`${missing}\n`));
