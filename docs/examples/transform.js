// The analyzer as a stream: raw log bytes in, incident objects out.
// Run from the repository: node docs/examples/transform.js < samples/nexus.log
const { pipeline } = require('node:stream/promises');
const { Writable } = require('node:stream');
const { createAnalyzer } = require('nexus-log-analyzer');

const printSummaries = new Writable({
  objectMode: true,
  write(incident, _encoding, done) {
    console.log(`[${incident.closeReason}] ${incident.summary}`);
    done();
  },
});

pipeline(process.stdin, createAnalyzer({ windowMs: 10_000 }), printSummaries).catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
