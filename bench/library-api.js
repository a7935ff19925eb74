'use strict';
// The library API on a file, as an embedding program would call it. Prints the incident count.
const { analyzeFiles } = require('../dist/index.js');

(async () => {
  let count = 0;
  for await (const incident of analyzeFiles(process.argv[2])) if (incident.closeReason === 'matched') count++;
  process.stdout.write(`${count}\n`);
})();
