'use strict';
/** Memory follows the options, never the input: long lines, many open pushes, hard wraps, junk. */
const fs = require('node:fs');
const path = require('node:path');
const { cli, run, scratch, start, writeChunks, writeStream } = require('../harness');
const { basics, driverCase, reasonOf } = require('../checks');
const L = require('../lines');

const MiB = 1024 * 1024;
/** The CLI's default --max-line-bytes, and maxEvidenceChars (src/analyzer.ts DEFAULTS). */
const LINE_CAP = MiB;
const EVIDENCE_CHARS = 2048;

const cases = [
  {
    id: '01',
    name: '128 relevant lines just under the 1 MiB cap in one push',
    async run() {
      const dir = scratch('cap');
      const file = path.join(dir, 'nexus.log');
      const lengths = [];
      writeChunks(file, 129, (i) => {
        const line =
          i < 128
            ? L.longMissingLayer(i, 'qtp1-1', 'team/big', '1.0', L.digest(1, i), LINE_CAP - 16)
            : L.rejectionLine(L.ts(200), 'qtp1-1', 'team/big', '1.0');
        lengths.push(line.length);
        return `${line}\n`;
      });
      const result = await run(cli(file), { memMB: 1024, timeMs: 60_000 });
      const incidents = L.parseIncidents(result.stdout.lines);
      const pushes = L.checkPushes(incidents, [{ image: 'team/big', tag: '1.0', layers: 128, rejected: true }]);
      const problems = [];
      const incident = incidents.find((i) => i.rule === L.PUSH_RULE);
      if (incident !== undefined) {
        for (const e of incident.evidence) {
          const whole = lengths[e.line - 1];
          if (e.text.length > EVIDENCE_CHARS) problems.push(`evidence line ${e.line} keeps ${e.text.length} chars`);
          else if (whole > EVIDENCE_CHARS && e.length !== whole) problems.push(`evidence line ${e.line} cut without its length ${whole} (length: ${e.length})`);
        }
      }
      const bytes = incident === undefined ? 0 : JSON.stringify(incident).length;
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), pushes, problems.slice(0, 2)), note: `incident ${(bytes / 1024).toFixed(0)} KB` };
    },
  },
  {
    id: '02',
    name: '5,000 open pushes each holding one ~1 MiB line (stdin)',
    async run() {
      const count = 5000;
      const child = start(cli('-'), { memMB: 1536, timeMs: 240_000, stdin: 'pipe' });
      const expected = [];
      const pad = Buffer.alloc(LINE_CAP - 400, 'y');
      (async () => {
        for (let i = 0; i < count; i++) {
          // 1 ms apart: all within the 10 s window, so all open at once; no 400 ever comes.
          const head = L.missingLayerLine(L.ts(i), `qtp2-${i}`, `team/open${i}`, `1.${i}`, L.digest(i, 0), { tail: ' ' });
          expected.push({ image: `team/open${i}`, tag: `1.${i}`, layers: 1, rejected: false });
          if (!(await writeStream(child.stdin, head))) return;
          if (!(await writeStream(child.stdin, pad))) return;
          if (!(await writeStream(child.stdin, '\n'))) return;
        }
        child.stdin.end();
      })();
      const result = await child.done;
      const incidents = L.parseIncidents(result.stdout.lines);
      const pushes = expected.length === count ? L.checkPushes(incidents, expected) : `only ${expected.length} of ${count} pushes were written`;
      return { result, reason: reasonOf(basics(result), pushes), note: `${count} pushes, ${(count * LINE_CAP / 1e9).toFixed(1)} GB` };
    },
  },
  {
    id: '03',
    name: 'a header hard-wrapped into 255 fragments of 256 KiB',
    async run() {
      const dir = scratch('wrap');
      const file = path.join(dir, 'nexus.log');
      const fragment = 256 * 1024;
      const wrapped = L.missingLayerLine(L.ts(0), 'qtp3-1', 'team/wrapped', '1.0', L.digest(3, 0)).replace(/docker-hosted'}$/, 'docke');
      const after = L.push(4, 20_000, { thread: 'qtp3-2' });
      writeChunks(file, 258, (i) => {
        if (i === 0) return `${wrapped}\n`;
        if (i <= 254) return `${'w'.repeat(fragment)}\n`;
        if (i === 255) return `${'w'.repeat(fragment - 3)}r'}\n`;
        if (i === 256) return `${L.rejectionLine(L.ts(9), 'qtp3-1', 'team/wrapped', '1.0')}\n`;
        return `${after.lines.join('\n')}\n`;
      });
      const result = await run(cli(file), { memMB: 1536, timeMs: 60_000 });
      const incidents = L.parseIncidents(result.stdout.lines);
      const pushes = L.checkPushes(incidents, [{ image: 'team/wrapped', tag: '1.0', layers: 1, rejected: true }, after.expected]);
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), pushes), note: '64 MiB of fragments' };
    },
  },
  // The driver builds 600 MiB of lines and 10 MB checkpoints in its own process: 300 MB.
  driverCase('04', 'library: snapshot() with 600 open ~1 MiB lines', 'snapshot-bound', ['600'], { timeMs: 120_000, rssMB: 300 }),
  driverCase('05', 'library: repeat memory and checkpoint with 5,000 distinct repeated 32 KiB headers', 'repeat-memory', ['5000', String(32 * 1024)], { timeMs: 120_000 }),
  {
    id: '25',
    name: 'binary junk, NUL bytes, invalid UTF-8 and a 100 MB line without newline',
    async run() {
      const dir = scratch('junk');
      const file = path.join(dir, 'nexus.log');
      let seed = 25;
      const random = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed >> 16;
      };
      const junk = (size, newlines) => {
        const b = Buffer.alloc(size);
        for (let i = 0; i < size; i++) {
          let v = random() & 0xff;
          if (!newlines && (v === 0x0a || v === 0x0d)) v = 0;
          b[i] = v;
        }
        return b;
      };
      const before = L.push(1, 0);
      const badUtf8 = Buffer.concat([Buffer.from(`${before.lines[0]} `), Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0xff, 0x00, 0xed, 0xa0, 0x80])]);
      const after = [L.push(2, 60_000), L.push(3, 61_000, { thread: 'qtp25-3' }), L.push(4, 62_000)];
      const block = junk(MiB, false);
      writeChunks(file, 105, (i) => {
        if (i === 0) return junk(MiB, true); // binary junk with line ends in it
        if (i === 1) return Buffer.concat([Buffer.from('\n'), badUtf8, Buffer.from(`\n\0\0\0\n${before.lines.slice(1).join('\n')}\n`)]);
        if (i < 102) return block; // 100 MiB with no line end
        if (i === 102) return '\n';
        if (i === 103) return Buffer.concat([junk(4096, false), Buffer.from(`\n${after.map((p) => p.lines.join('\n')).join('\n')}\n`)]);
        return junk(MiB, true);
      });
      const result = await run(cli(file), { memMB: 1536, timeMs: 90_000 });
      const incidents = L.parseIncidents(result.stdout.lines);
      const pushes = L.checkPushes(incidents, [before.expected, ...after.map((p) => p.expected)]);
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), pushes) };
    },
  },
];

module.exports = { cases };
