'use strict';
/** Many inputs: bounded concurrent opens, no EMFILE, files read in time order whatever their names. */
const fs = require('node:fs');
const path = require('node:path');
const { cli, run, scratch, withFileLimit } = require('../harness');
const { basics, reasonOf } = require('../checks');
const L = require('../lines');

/** A name that does not sort like the time order (a multiplicative hash of the index). */
function shuffledName(j) {
  return `nexus-${((j * 2654435761) >>> 0).toString(16).padStart(8, '0')}-${j}.log`;
}

const cases = [
  {
    id: '20',
    name: '20,001 files in a folder under ulimit -n 4096, 200 pushes spanning two files each',
    async run() {
      const files = 20_001;
      const dir = scratch('many');
      const expected = [];
      const spans = new Map(); // file index -> push whose missing layers end it
      for (let k = 0; k < 200; k++) spans.set(100 * k + 50, k);
      for (let j = 0; j < files; j++) {
        const at = j * 1000;
        const lines = [L.infoLine(L.ts(at), 'main', `file ${j}`)];
        const ending = spans.get(j - 1);
        if (ending !== undefined) lines.push(L.rejectionLine(L.ts(at + 1), `qtp20-${ending}`, `team/span${ending}`, `1.${ending}`));
        const starting = spans.get(j);
        if (starting !== undefined) {
          for (let n = 0; n < 2; n++) lines.push(L.missingLayerLine(L.ts(at + 500 + n), `qtp20-${starting}`, `team/span${starting}`, `1.${starting}`, L.digest(starting, n)));
          expected.push({ image: `team/span${starting}`, tag: `1.${starting}`, layers: 2, rejected: true });
        }
        fs.writeFileSync(path.join(dir, shuffledName(j)), `${lines.join('\n')}\n`);
      }
      const result = await run(withFileLimit(4096, cli(dir)), { memMB: 1024, timeMs: 180_000 });
      const stderr = result.stderr.lines.join('\n');
      const problems = [];
      if (/EMFILE|too many open files/i.test(stderr)) problems.push(`EMFILE on stderr: ${stderr.slice(0, 160)}`);
      const pushes = L.checkPushes(L.parseIncidents(result.stdout.lines), expected);
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), problems, pushes), note: `${files} files` };
    },
  },
];

module.exports = { cases };
