// A small log shipper: follows nexus.log, feeds each chunk to the Analyzer, forwards incidents
// (here: appends them to an outbox file, where a real shipper would send them on), and
// checkpoints to disk after every chunk, so a restart resumes exactly where it stopped:
// every push is forwarded once, even one whose lines straddle the restart.
//
//   node docs/examples/shipper.js /nexus-data/log/nexus.log ./shipper-state
//   (Ctrl-C or SIGTERM stops it; run it again to go on.)
const fs = require('node:fs');
const path = require('node:path');
const { Analyzer, followFile } = require('nexus-log-analyzer');

const [logFile, stateDir] = process.argv.slice(2);
if (!logFile || !stateDir) {
  console.error('usage: node shipper.js <nexus.log> <state-dir>');
  process.exit(2);
}
fs.mkdirSync(stateDir, { recursive: true });
const checkpointFile = path.join(stateDir, 'checkpoint.json');
const outboxFile = path.join(stateDir, 'incidents.ndjson');

// Resume: the analyzer's open state and the file offset, plus how much of the outbox was
// written at that point. Anything appended after it (a crash between forwarding and
// checkpointing) is cut off, since it will be produced again: exactly once.
let analyzer;
let position;
if (fs.existsSync(checkpointFile)) {
  const checkpoint = JSON.parse(fs.readFileSync(checkpointFile, 'utf8'));
  analyzer = Analyzer.restore(checkpoint.analyzer, { source: logFile });
  position = checkpoint.analyzer.source.offset;
  fs.truncateSync(outboxFile, checkpoint.outboxBytes);
} else {
  analyzer = new Analyzer({ source: logFile });
  position = 0;
  fs.writeFileSync(outboxFile, '');
}

function forward(incidents) {
  if (incidents.length > 0) fs.appendFileSync(outboxFile, incidents.map((i) => `${JSON.stringify(i)}\n`).join(''));
}

function checkpoint() {
  const state = { analyzer: analyzer.snapshot(), outboxBytes: fs.statSync(outboxFile).size };
  fs.writeFileSync(`${checkpointFile}.tmp`, JSON.stringify(state));
  fs.renameSync(`${checkpointFile}.tmp`, checkpointFile); // atomic: never half a checkpoint
}

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

// The live clock: a quiet log still completes its last event and closes windows.
const clock = setInterval(() => {
  forward(analyzer.advance(Date.now()));
  checkpoint();
}, 100);

(async () => {
  for await (const chunk of followFile(logFile, { position, signal: stop.signal })) {
    forward(analyzer.write(chunk));
    analyzer.dataArrived(Date.now());
    checkpoint();
  }
  // Stopped: do not end() the analyzer. What is still open stays in the checkpoint and is
  // finished by the next run, when the rest of its lines arrive.
  clearInterval(clock);
  checkpoint();
})();
