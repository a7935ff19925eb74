'use strict';
// Live heap after a full GC, every GiB of a file fed to the Analyzer: flat means nothing grows
// with the input. Run with --expose-gc. Prints one JSON line: { samples: [MB at 1 GiB, 2 GiB, ...] }.
const fs = require('node:fs');
const { Analyzer } = require('../dist/index.js');

const analyzer = new Analyzer();
const fd = fs.openSync(process.argv[2], 'r');
const buffer = Buffer.allocUnsafe(1 << 20);
const samples = [];
let read = 0;
let next = 2 ** 30;
for (;;) {
  const bytes = fs.readSync(fd, buffer, 0, buffer.length, null);
  if (bytes === 0) break;
  analyzer.write(buffer.subarray(0, bytes));
  read += bytes;
  if (read >= next) {
    next += 2 ** 30;
    global.gc();
    samples.push(Number((process.memoryUsage().heapUsed / 1e6).toFixed(1)));
  }
}
analyzer.end();
process.stdout.write(`${JSON.stringify({ samples })}\n`);
