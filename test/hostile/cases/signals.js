'use strict';
/** SIGTERM and SIGINT end the CLI within 1 s in every state, open groups reported first. */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { cli, scratch, start, writeChunks, writeStream } = require('../harness');
const { basics, reasonOf } = require('../checks');
const L = require('../lines');

const EXIT_WITHIN_MS = 1000;

/** Problems with how a signalled run ended: exit 0 within the bound, the open push reported `shutdown`. */
function afterSignal(result, expected, signal) {
  const problems = basics(result);
  if (result.exitAfterSignalMs === null) problems.push('the signal was never sent');
  else if (result.exitAfterSignalMs > EXIT_WITHIN_MS) problems.push(`exit ${Math.round(result.exitAfterSignalMs)} ms after ${signal} > ${EXIT_WITHIN_MS} ms`);
  const pushes = L.checkPushes(L.parseIncidents(result.stdout.lines), [expected], { closeReason: 'shutdown' });
  if (pushes !== null) problems.push(pushes);
  return reasonOf(problems);
}

const signalNote = (result, signal) => (result.exitAfterSignalMs === null ? '' : `exit ${Math.round(result.exitAfterSignalMs)} ms after ${signal}`);

/** A CLI reading stdin (`--lifecycle`: a push's `opened` record is the sign it was read). */
async function midStream(signal, { huge }) {
  const child = start(cli('--lifecycle', '--ready', '-'), { memMB: 1024, timeMs: 60_000, stdin: 'pipe' });
  const open = L.push(9, 0, { rejected: false });
  try {
    await child.stderr.waitFor(/^ready: reading/, { what: 'ready' });
    await writeStream(child.stdin, `${open.lines.join('\n')}\n`);
    await child.stdout.waitFor((line) => line.includes('"lifecycle":"opened"') && line.includes('team/app9'), { what: 'the push opened', ms: 20_000 });
    if (huge) {
      // Relevant lines of 1 MiB (a V2Handlers error), written non-stop: the analyzer is busy matching when the signal comes.
      const head = `${L.header(L.ts(100), 'WARN', 'qtp9-2', L.V2)} - Error: PUT /v2/`;
      const line = Buffer.from(`${head}${'x/'.repeat(512 * 1024 - head.length / 2)}: 400 - ${' - '.repeat(8)}\n`);
      let written = 0;
      let stop = false;
      const pump = (async () => {
        while (!stop && (await writeStream(child.stdin, line))) written += line.length;
      })();
      while (written < 64 * 1024 * 1024 && !child.stdin.destroyed) await new Promise((r) => setTimeout(r, 20));
      await child.signal(signal);
      const result = await child.done;
      stop = true;
      await pump;
      return { result, reason: afterSignal(result, open.expected, signal), note: `${signalNote(result, signal)}, ${(written / 1e6).toFixed(0)} MB written` };
    }
    await child.signal(signal);
  } catch (error) {
    child.kill(error.message);
  }
  const result = await child.done;
  return { result, reason: afterSignal(result, open.expected, signal), note: signalNote(result, signal) };
}

const cases = [
  {
    id: '08',
    name: 'SIGTERM while waiting on a FIFO with no writer, after a file with an open push',
    async run() {
      const dir = scratch('fifo');
      const file = path.join(dir, 'nexus.log');
      const open = L.push(8, 0, { rejected: false });
      fs.writeFileSync(file, `${open.lines.join('\n')}\n`);
      const fifo = path.join(dir, 'nexus-fifo.log');
      execFileSync('mkfifo', [fifo]);
      const child = start(cli('--ready', file, fifo), { memMB: 512, timeMs: 30_000 });
      try {
        await child.stderr.waitFor((line) => line.startsWith('ready: reading') && line.includes('nexus-fifo.log'), { what: 'ready: reading the FIFO' });
        await child.signal('SIGTERM');
      } catch (error) {
        child.kill(error.message);
      }
      const result = await child.done;
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: afterSignal(result, open.expected, 'SIGTERM'), note: signalNote(result, 'SIGTERM') };
    },
  },
  {
    id: '09e',
    name: 'SIGTERM while reading a 256 MB file (cut into segments for the worker threads)',
    async run() {
      const dir = scratch('big-file');
      const file = path.join(dir, 'nexus.log');
      const open = L.push(90, 0, { rejected: false, thread: 'qtp9-open' });
      // An open push first, then 300,000 whole pushes up to 256 MB, all within its 10 s window (40 a
      // millisecond): it is still open, and the run busy reading, when the signal comes.
      let next = 1000;
      writeChunks(file, 1024, (i) => {
        const batch = [];
        for (let k = 0; k < 300; k++, next++) batch.push(...L.push(next, Math.floor(next / 40)).lines);
        return `${i === 0 ? `${open.lines.join('\n')}\n` : ''}${batch.join('\n')}\n`;
      });
      const child = start(cli(file), { memMB: 1024, timeMs: 120_000 });
      try {
        await child.stdout.waitFor((line) => line.includes('"rule":"docker-manifest-missing-layers"'), { what: 'a first incident', ms: 60_000 });
        await child.signal('SIGTERM');
      } catch (error) {
        child.kill(error.message);
      }
      const result = await child.done;
      fs.rmSync(dir, { recursive: true, force: true });
      // Reading stopped before the end: the push opened at the start is still open, reported as shutdown.
      return { result, reason: afterSignal(result, open.expected, 'SIGTERM'), note: `${signalNote(result, 'SIGTERM')}, ${result.stdout.lines.length} incidents before` };
    },
  },
  {
    id: '09f',
    name: 'SIGTERM with --follow waiting for a file that does not exist yet',
    async run() {
      const dir = scratch('follow-missing');
      const child = start(cli('--follow', '--ready', path.join(dir, 'nexus.log')), { memMB: 512, timeMs: 30_000 });
      try {
        await child.stderr.waitFor(/^ready:/, { what: 'ready' });
        await child.signal('SIGTERM');
      } catch (error) {
        child.kill(error.message);
      }
      const result = await child.done;
      fs.rmSync(dir, { recursive: true, force: true });
      const problems = basics(result);
      if (result.exitAfterSignalMs === null || result.exitAfterSignalMs > EXIT_WITHIN_MS) problems.push(`exit ${Math.round(result.exitAfterSignalMs ?? -1)} ms after SIGTERM`);
      return { result, reason: reasonOf(problems), note: signalNote(result, 'SIGTERM') };
    },
  },
  { id: '09a', name: 'SIGINT mid-stream on stdin with a push open', run: () => midStream('SIGINT', { huge: false }) },
  { id: '09b', name: 'SIGTERM mid-stream on stdin with a push open', run: () => midStream('SIGTERM', { huge: false }) },
  { id: '09c', name: 'SIGTERM while matching 1 MiB lines written non-stop (stdin)', run: () => midStream('SIGTERM', { huge: true }) },
  { id: '09d', name: 'SIGINT while matching 1 MiB lines written non-stop (stdin)', run: () => midStream('SIGINT', { huge: true }) },
];

module.exports = { cases };
