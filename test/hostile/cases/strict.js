'use strict';
/**
 * A stricter round of issue 12, found by red-teaming main: file-system conditions, signals in
 * states the first round did not reach (a --follow FIFO, a full stdout, files read in parallel,
 * the report being written), support zips as an attacker or an unlucky operator makes them,
 * memory that follows the number of incidents, entries, rules or files, and input that is read
 * wrongly without a word. Each case states what it expects; expectations come from what was
 * written, never from the tool's output.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const yazl = require('yazl');
const { CLI, asNobody, cli, run, scratch, start, writeChunks } = require('../harness');
const { basics, reasonOf } = require('../checks');
const L = require('../lines');

const EXIT_WITHIN_MS = 1000;
const ZIP_ROOT = 'support-20250910-013622-1/';

/** "internal error" is how bin/ reports an exception nobody caught (exit 70). */
function internalError(result) {
  const line = result.stderr.lines.find((l) => /internal error/i.test(l));
  return line === undefined ? null : `internal error on stderr: ${line.slice(0, 160)}`;
}

/** Writes a zip of `entries` ([name, Buffer or string]) and resolves once it is on disk. */
function writeZip(file, entries, { compress = true } = {}) {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const out = fs.createWriteStream(file);
    out.on('close', resolve);
    out.on('error', reject);
    zip.outputStream.pipe(out);
    for (const [name, data] of entries) zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name, { compress });
    zip.end();
  });
}

/**
 * Writes a zip of stored (uncompressed) entries by hand, with a zip64 end record: yazl takes
 * minutes for hundreds of thousands of entries.
 */
function writeStoredZip(file, entries) {
  const fd = fs.openSync(file, 'w');
  const central = [];
  let offset = 0;
  const put = (buffer) => {
    fs.writeSync(fd, buffer);
    offset += buffer.length;
  };
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const crc = zlib.crc32(body);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const at = offset;
    put(Buffer.concat([local, nameBytes, body]));
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(body.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt32LE(at, 42);
    central.push(header, nameBytes);
  }
  const centralAt = offset;
  for (let i = 0; i < central.length; i += 4096) put(Buffer.concat(central.slice(i, i + 4096)));
  const centralSize = offset - centralAt;
  const zip64At = offset;
  const end64 = Buffer.alloc(56);
  end64.writeUInt32LE(0x06064b50, 0);
  end64.writeBigUInt64LE(44n, 4);
  end64.writeUInt16LE(45, 12);
  end64.writeUInt16LE(45, 14);
  end64.writeBigUInt64LE(BigInt(entries.length), 24);
  end64.writeBigUInt64LE(BigInt(entries.length), 32);
  end64.writeBigUInt64LE(BigInt(centralSize), 40);
  end64.writeBigUInt64LE(BigInt(centralAt), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(zip64At), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralAt, 16);
  put(Buffer.concat([end64, locator, end]));
  fs.closeSync(fd);
}

/** `count` whole pushes from id `from`, `step` ms apart: their text and what they must become. */
function pushes(from, count, step = 100, o = {}) {
  const list = [];
  for (let id = from; id < from + count; id++) list.push(L.push(id, id * step, o));
  return { text: `${list.flatMap((p) => p.lines).join('\n')}\n`, expected: list.map((p) => p.expected) };
}

/** A push whose 400 never comes, on its own image name (so no other push can be mistaken for it). */
function openPush(ms = 0) {
  const p = L.push(1, ms, { rejected: false, thread: 'qtp-open' });
  const lines = p.lines.map((line) => line.replace('team/app1/', 'team/still-open/'));
  return { text: `${lines.join('\n')}\n`, expected: { ...p.expected, image: 'team/still-open' } };
}

/** Problems with a signalled run: exit 0 within the bound, no stack trace, `open` reported `shutdown` (when given). */
function afterSignal(result, open) {
  const problems = basics(result, { rssMB: null });
  if (result.exitAfterSignalMs === null) problems.push('the signal was never sent');
  else if (result.exitAfterSignalMs > EXIT_WITHIN_MS) problems.push(`exit ${Math.round(result.exitAfterSignalMs)} ms after the signal > ${EXIT_WITHIN_MS} ms`);
  if (open !== undefined) {
    const pushes = L.checkPushes(L.parseIncidents(result.stdout.lines), [open], { closeReason: 'shutdown' });
    if (pushes !== null) problems.push(`the open push: ${pushes}`);
  }
  return problems;
}

const fileSystem = [
  {
    id: 'S01',
    name: 'as nobody: the log folder itself cannot be listed (mode 000)',
    async run() {
      const dir = scratch('unlistable');
      const logs = path.join(dir, 'log');
      fs.mkdirSync(logs);
      fs.writeFileSync(path.join(logs, 'nexus.log'), pushes(1, 1).text);
      fs.chmodSync(logs, 0o000);
      const result = await run(asNobody(cli(logs)), { memMB: 512, timeMs: 20_000 });
      fs.chmodSync(logs, 0o755);
      fs.rmSync(dir, { recursive: true, force: true });
      const named = result.stderr.lines.some((l) => l.includes(logs) || l.includes('log:')) ? null : 'the folder is not named on stderr';
      return { result, reason: reasonOf(basics(result, { code: 2 }), internalError(result), named) };
    },
  },
  {
    id: 'S02',
    name: 'as nobody: a log folder whose tasks/ subfolder cannot be listed',
    async run() {
      const dir = scratch('unlistable-tasks');
      const written = pushes(1, 2);
      fs.writeFileSync(path.join(dir, 'nexus.log'), written.text);
      const tasks = path.join(dir, 'tasks');
      fs.mkdirSync(tasks);
      fs.writeFileSync(path.join(tasks, 'repository.cleanup-20250910.log'), 'x\n');
      fs.chmodSync(tasks, 0o000);
      const result = await run(asNobody(cli(dir)), { memMB: 512, timeMs: 20_000 });
      fs.chmodSync(tasks, 0o755);
      fs.rmSync(dir, { recursive: true, force: true });
      // nexus.log is readable: its pushes are found; tasks/ is named on stderr; exit 0 or 2, never 70.
      const named = result.stderr.lines.some((l) => l.includes('tasks')) ? null : 'tasks/ is not named on stderr';
      const found = L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected);
      return { result, reason: reasonOf(basics(result, { code: [0, 2] }), internalError(result), named, found) };
    },
  },
  {
    id: 'S03',
    name: 'a glob through a symlink loop (two links back to the folder it is in)',
    async run() {
      const dir = scratch('symlink-loop');
      const written = pushes(1, 2);
      fs.writeFileSync(path.join(dir, 'nexus.log'), written.text);
      fs.mkdirSync(path.join(dir, 'a'));
      // Two links back to the folder, both inside it: find -L says "File system loop detected" and goes on.
      fs.symlinkSync('..', path.join(dir, 'a', 'up'));
      fs.symlinkSync('..', path.join(dir, 'a', 'up2'));
      const result = await run(cli(path.join(dir, '**', 'nexus*.log')), { memMB: 600, timeMs: 30_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result, { code: [0, 2] }), internalError(result), L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected)) };
    },
  },
];

const signals = [
  {
    id: 'S04',
    name: 'SIGTERM with --follow on a FIFO that has no writer',
    async run() {
      const dir = scratch('follow-fifo');
      const fifo = path.join(dir, 'nexus.log');
      execFileSync('mkfifo', [fifo]);
      const child = start(cli('--follow', fifo), { memMB: 512, timeMs: 10_000 });
      // No readiness line can come while the open blocks: give it the time a start-up takes.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await child.signal('SIGTERM');
      const result = await child.done;
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(afterSignal(result)) };
    },
  },
  {
    id: 'S05',
    name: 'SIGTERM while stdout is a full pipe nobody reads (ndjson of 50,000 open pushes)',
    async run() {
      const dir = scratch('full-pipe');
      const file = path.join(dir, 'nexus.log');
      writeChunks(file, 50, (k) => {
        const lines = [];
        for (let i = k * 1000; i < (k + 1) * 1000; i++) lines.push(L.missingLayerLine(L.ts(i), `qtp-${i}`, `team/app${i}`, `1.${i}`, L.digest(i, 0)));
        return `${lines.join('\n')}\n`;
      });
      // A driver holds the CLI's stdout unread, sends SIGTERM after 4 s and reports how it ended.
      const driverFile = path.join(dir, 'driver.js');
      fs.writeFileSync(
        driverFile,
        `const { spawn } = require('node:child_process');
const child = spawn(process.execPath, [${JSON.stringify(CLI)}, ${JSON.stringify(file)}], { stdio: ['ignore', 'pipe', 'pipe'] });
child.stdout.pause();
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
let signalledAt = null;
setTimeout(() => { signalledAt = Date.now(); child.kill('SIGTERM'); }, 4000);
const give = setTimeout(() => child.kill('SIGKILL'), 10000);
child.on('close', (code, signal) => {
  clearTimeout(give);
  process.stdout.write(JSON.stringify({ code, signal, afterMs: signalledAt === null ? null : Date.now() - signalledAt, stderr: stderr.slice(0, 400) }) + '\\n');
});
`,
      );
      const result = await run([process.execPath, driverFile], { memMB: 1024, timeMs: 30_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      let out = null;
      try {
        out = JSON.parse(result.stdout.lines.find((l) => l.startsWith('{')) ?? 'null');
      } catch {
        out = null;
      }
      const problems = [];
      if (out === null) problems.push('no result from the driver');
      else {
        if (out.signal !== null) problems.push(`the CLI was ended by ${out.signal}`);
        else if (out.code !== 0) problems.push(`the CLI exited ${out.code}`);
        if (out.afterMs === null || out.afterMs > EXIT_WITHIN_MS) problems.push(`the CLI ended ${out.afterMs} ms after SIGTERM`);
        if (/^\s+at /m.test(out.stderr)) problems.push(`stack trace: ${out.stderr.split('\n').slice(0, 2).join(' | ')}`);
      }
      return { result, reason: reasonOf(problems) };
    },
  },
  {
    id: 'S06',
    name: 'SIGTERM while two files are read in parallel (a push open in the first, 60 MB of pushes in the second)',
    async run() {
      const dir = scratch('parallel-stop');
      const open = openPush(0);
      fs.writeFileSync(path.join(dir, 'nexus-a.log'), open.text);
      let next = 1000;
      writeChunks(path.join(dir, 'nexus-b.log'), 200, () => {
        const batch = [];
        for (let k = 0; k < 300; k++, next++) batch.push(...L.push(next, 10 + Math.floor(next / 40)).lines);
        return `${batch.join('\n')}\n`;
      });
      const child = start(cli(path.join(dir, 'nexus-a.log'), path.join(dir, 'nexus-b.log')), { memMB: 1024, timeMs: 60_000 });
      try {
        await child.stdout.waitFor((line) => line.includes('"rule":"docker-manifest-missing-layers"'), { what: 'a first incident', ms: 30_000 });
        await child.signal('SIGTERM');
      } catch (error) {
        child.kill(error.message);
      }
      const result = await child.done;
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(afterSignal(result, open.expected)) };
    },
  },
  {
    id: 'S07',
    name: 'SIGTERM while the --report is being made (800 incidents of 32 long evidence lines)',
    async run() {
      const dir = scratch('report-stop');
      const file = path.join(dir, 'nexus.log');
      const report = path.join(dir, 'report.html');
      writeChunks(file, 800, (p) => {
        const lines = [];
        for (let k = 0; k < 32; k++) lines.push(L.longMissingLayer(p * 100 + k, `qtp-${p}`, `team/fat${p}`, `1.${p}`, L.digest(p, k), 2100));
        lines.push(L.rejectionLine(L.ts(p * 100 + 40), `qtp-${p}`, `team/fat${p}`, `1.${p}`));
        return `${lines.join('\n')}\n`;
      });
      const child = start(cli('--report', report, file), { memMB: 2048, timeMs: 60_000 });
      try {
        // Every incident is out: the reading loop is over and the report is being made.
        await child.stdout.waitFor(() => child.stdout.lines.length >= 800, { what: '800 incidents', ms: 40_000 });
        await child.signal('SIGTERM');
      } catch (error) {
        child.kill(error.message);
      }
      const result = await child.done;
      const problems = afterSignal(result);
      // Either a whole report, or none and a word on stderr: never a half-written page, never silence.
      const text = fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : null;
      if (text !== null && !text.trimEnd().endsWith('</html>')) problems.push(`a cut report of ${text.length} characters was left`);
      if (text === null && !result.stderr.lines.some((l) => /report/i.test(l))) problems.push('no report and nothing said about it');
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(problems) };
    },
  },
  {
    id: 'S08',
    name: 'SIGTERM while a --rules module rule loops in match()',
    async run() {
      const dir = scratch('looping-rule');
      const rules = path.join(dir, 'looping-rule.js');
      fs.writeFileSync(
        rules,
        `'use strict';
module.exports = {
  id: 'looping-rule', title: 'Loops on purpose', severity: 'warning', category: 'custom',
  reads: [{ levels: ['WARN'], loggers: ['V2Handlers'], literals: ['Invalid Manifest'] }],
  windowMs: 1000,
  match() { for (;;) {} },
  key() { return 'k'; }, open() { return {}; }, add() { return true; }, describe() { return null; },
};
`,
      );
      const file = path.join(dir, 'nexus.log');
      fs.writeFileSync(file, pushes(1, 1).text);
      const child = start(cli('--rules', rules, file), { memMB: 512, timeMs: 8_000 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await child.signal('SIGTERM');
      const result = await child.done;
      fs.rmSync(dir, { recursive: true, force: true });
      // Exit 0 (stopped) or 70 naming the rule (it did not finish): either, within the bound.
      const problems = basics(result, { code: [0, 70], rssMB: null });
      if (result.exitAfterSignalMs === null || result.exitAfterSignalMs > EXIT_WITHIN_MS) problems.push(`exit ${Math.round(result.exitAfterSignalMs ?? -1)} ms after SIGTERM`);
      return { result, reason: reasonOf(problems) };
    },
  },
];

const zips = [
  {
    id: 'S09',
    name: 'support zip with a 31 MB info/sysinfo.json (an array of empty objects)',
    async run() {
      const dir = scratch('zip-info');
      const zip = path.join(dir, 'support-20250910-013622-1.zip');
      const written = pushes(1, 2);
      await writeZip(zip, [
        [`${ZIP_ROOT}log/nexus.log`, written.text],
        [`${ZIP_ROOT}info/sysinfo.json`, `[${'{},'.repeat(10 * 1024 * 1024)}{}]`],
      ]);
      const result = await run(cli(zip), { memMB: 1536, timeMs: 60_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected)) };
    },
  },
  {
    id: 'S10',
    name: 'support zip with 1,000 task logs (the same files in a folder: ~2.5 s)',
    async run() {
      const dir = scratch('zip-tasks');
      const zip = path.join(dir, 'support-20250910-013622-1.zip');
      const written = pushes(1, 2);
      const entries = [[`${ZIP_ROOT}log/nexus.log`, written.text]];
      for (let i = 0; i < 1000; i++) entries.push([`${ZIP_ROOT}log/tasks/task-${i}.log`, `${L.infoLine(L.ts(i), 'quartz-1', `task ${i}`)}\n`]);
      writeStoredZip(zip, entries);
      const result = await run(cli(zip), { memMB: 1024, timeMs: 20_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected)) };
    },
  },
  {
    id: 'S11',
    name: 'support zip with 250,000 entries that are not logs (a 40 MB zip)',
    async run() {
      const dir = scratch('zip-entries');
      const zip = path.join(dir, 'support-20250910-013622-1.zip');
      const written = pushes(1, 2);
      const entries = [[`${ZIP_ROOT}log/nexus.log`, written.text]];
      for (let i = 0; i < 250_000; i++) entries.push([`${ZIP_ROOT}other/f${i}.txt`, '']);
      writeStoredZip(zip, entries);
      const result = await run(cli(zip), { memMB: 1024, timeMs: 60_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected)) };
    },
  },
  {
    id: 'S12',
    name: 'support zip re-zipped on macOS (__MACOSX/ entries beside the root folder)',
    async run() {
      const dir = scratch('zip-macos');
      const zip = path.join(dir, 'support-20250910-013622-1.zip');
      const written = pushes(1, 2);
      await writeZip(zip, [
        [`${ZIP_ROOT}log/nexus.log`, written.text],
        [`__MACOSX/${ZIP_ROOT}log/._nexus.log`, Buffer.from([0, 5, 22, 7, 0, 2, 0, 0])],
      ]);
      const result = await run(cli(zip), { memMB: 512, timeMs: 20_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected)) };
    },
  },
  {
    id: 'S13',
    name: 'support zip with two entries of the same name (log/nexus.log twice, different lines)',
    async run() {
      const dir = scratch('zip-same-names');
      const zip = path.join(dir, 'support-20250910-013622-1.zip');
      const first = pushes(1, 1);
      const second = pushes(2, 1);
      await writeZip(zip, [
        [`${ZIP_ROOT}log/nexus.log`, first.text],
        [`${ZIP_ROOT}log/nexus.log`, second.text],
      ]);
      const result = await run(cli(zip), { memMB: 512, timeMs: 20_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      // Both read, or the second named on stderr: never silently left out.
      const found = L.checkPushes(L.parseIncidents(result.stdout.lines), [...first.expected, ...second.expected]);
      const said = result.stderr.lines.some((l) => /twice|duplicate|same name/i.test(l));
      return { result, reason: reasonOf(basics(result, { code: [0, 2] }), found !== null && !said ? `${found}, and nothing on stderr` : null) };
    },
  },
];

const memory = [
  {
    id: 'S14',
    name: 'two files read in parallel: a 3-line one, then 60 MB of whole pushes (default --jobs)',
    async run() {
      const dir = scratch('parallel-memory');
      const open = openPush(0);
      fs.writeFileSync(path.join(dir, 'nexus-a.log'), open.text);
      const expected = [];
      let next = 1000;
      writeChunks(path.join(dir, 'nexus-b.log'), 200, () => {
        const batch = [];
        for (let k = 0; k < 300; k++, next++) {
          const p = L.push(next, 10 + Math.floor(next / 40));
          batch.push(...p.lines);
          expected.push(p.expected);
        }
        return `${batch.join('\n')}\n`;
      });
      const result = await run(cli(path.join(dir, 'nexus-a.log'), path.join(dir, 'nexus-b.log')), { memMB: 1536, timeMs: 120_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      const found = L.pushesFound(L.parseIncidents(result.stdout.lines)).size;
      const missing = found < expected.length + 1 ? `${expected.length + 1 - found} pushes missing` : null;
      return { result, reason: reasonOf(basics(result), missing), note: `${expected.length + 1} pushes` };
    },
  },
  {
    id: 'S15',
    name: '--report with 800 incidents of 32 evidence lines of 2,100 characters (54 MB)',
    async run() {
      const dir = scratch('report-memory');
      const file = path.join(dir, 'nexus.log');
      writeChunks(file, 800, (p) => {
        const lines = [];
        for (let k = 0; k < 32; k++) lines.push(L.longMissingLayer(p * 100 + k, `qtp-${p}`, `team/fat${p}`, `1.${p}`, L.digest(p, k), 2100));
        lines.push(L.rejectionLine(L.ts(p * 100 + 40), `qtp-${p}`, `team/fat${p}`, `1.${p}`));
        return `${lines.join('\n')}\n`;
      });
      const result = await run(cli('--report', path.join(dir, 'report.html'), file), { memMB: 3072, timeMs: 120_000 });
      const size = fs.existsSync(path.join(dir, 'report.html')) ? fs.statSync(path.join(dir, 'report.html')).size : 0;
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result)), note: `report ${(size / 1e6).toFixed(0)} MB` };
    },
  },
  {
    id: 'S16',
    name: '--summary and --report with 50,000 open pushes on 50,000 threads',
    async run() {
      const dir = scratch('summary-memory');
      const file = path.join(dir, 'nexus.log');
      writeChunks(file, 50, (k) => {
        const lines = [];
        for (let i = k * 1000; i < (k + 1) * 1000; i++) lines.push(L.missingLayerLine(L.ts(i), `qtp-${i}`, `team/app${i}`, `1.${i}`, L.digest(i, 0)));
        return `${lines.join('\n')}\n`;
      });
      const result = await run(cli('--summary', '--report', path.join(dir, 'report.html'), file), { memMB: 2048, timeMs: 120_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      const found = L.pushesFound(L.parseIncidents(result.stdout.lines)).size;
      return { result, reason: reasonOf(basics(result), found === 50_000 ? null : `${found} of 50000 pushes`) };
    },
  },
  {
    id: 'S17',
    name: '100,000 open pushes on 100,000 threads (stdin, default --max-open-groups)',
    async run() {
      const lines = [];
      for (let i = 0; i < 100_000; i++) lines.push(L.missingLayerLine(L.ts(i), `qtp-${i}`, `team/app${i}`, `1.${i}`, L.digest(i, 0)));
      const result = await run(cli('-'), { memMB: 2048, timeMs: 120_000, stdin: `${lines.join('\n')}\n` });
      const found = L.pushesFound(L.parseIncidents(result.stdout.lines)).size;
      return { result, reason: reasonOf(basics(result), found === 100_000 ? null : `${found} of 100000 pushes`) };
    },
  },
  {
    id: 'S18',
    name: '--rules with one 2 KB regex (x{1000}y{1000}z{1000} x 100)',
    async run() {
      const dir = scratch('rules-big-regex');
      const rules = path.join(dir, 'rules.json');
      fs.writeFileSync(
        rules,
        JSON.stringify({
          id: 'big-regex',
          title: 'A big regex',
          severity: 'warning',
          kind: 'single',
          levels: ['ERROR'],
          prefilter: ['Manifest'],
          match: { message: 'x{1000}y{1000}z{1000}'.repeat(100) },
          summary: 's',
          diagnosis: { cause: 'c', explanation: 'e', confidence: 'low', remediation: ['r'] },
        }),
      );
      const file = path.join(dir, 'nexus.log');
      const written = pushes(1, 2);
      fs.writeFileSync(file, written.text);
      const result = await run(cli('--rules', rules, file), { memMB: 1536, timeMs: 60_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      // Refused at load (exit 2 naming the rule) or run within the budget.
      const refused = result.code === 2 && result.stderr.lines.some((l) => l.includes('big-regex'));
      return { result, reason: refused ? reasonOf(basics(result, { code: 2 })) : reasonOf(basics(result), L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected)) };
    },
  },
];

const reading = [
  {
    id: 'S19',
    name: '--rules modules that throw a non-Error at load, or whose id getter throws',
    async run() {
      const dir = scratch('rules-throw');
      const file = path.join(dir, 'nexus.log');
      fs.writeFileSync(file, pushes(1, 1).text);
      const problems = [];
      let last = null;
      for (const [name, source] of [
        ['throws-null.js', 'throw null;\n'],
        ['throws-string.js', "throw 'not an Error';\n"],
        ['getter-throws.js', "module.exports = { get id() { throw new Error('getter'); } };\n"],
      ]) {
        fs.writeFileSync(path.join(dir, name), source);
        const result = await run(cli('--rules', path.join(dir, name), file), { memMB: 512, timeMs: 20_000 });
        last = result;
        const own = reasonOf(basics(result, { code: 2 }), internalError(result), result.stderr.lines.some((l) => l.includes(name)) ? null : 'the module is not named');
        if (own !== null) problems.push(`${name}: ${own}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      return { result: last, reason: reasonOf(problems) };
    },
  },
  {
    id: 'S20',
    name: 'request.log: 500s whose URL makes the line longer than --max-line-bytes',
    async run() {
      const dir = scratch('request-long');
      const file = path.join(dir, 'request.log');
      const line = (n, url) => `10.0.4.17 - ci-bot [10/Sep/2025:01:00:${String(n).padStart(2, '0')} +0000] "GET /repository/maven-releases/${url} HTTP/1.1" 500 - 0 4 "curl/8.5" [qtp1985555490-${n}]`;
      // 3 lines of 2 MB (over the 1 MiB cap), 3 of 100 bytes: the same 500s.
      const lines = [];
      for (let n = 0; n < 3; n++) lines.push(line(n, `${'a'.repeat(2 * 1024 * 1024)}${n}`));
      for (let n = 3; n < 6; n++) lines.push(line(n, `short${n}.jar`));
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const result = await run(cli('--stats', file), { memMB: 512, timeMs: 30_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      const stats = result.stderr.lines.find((l) => l.includes('stats:')) ?? '';
      const events = Number(/(\d+) events/.exec(stats)?.[1] ?? -1);
      return { result, reason: reasonOf(basics(result), events === 6 ? null : `${events} of 6 request lines read as records (${stats.slice(stats.indexOf('stats:'), 160)})`) };
    },
  },
  {
    id: 'S21',
    name: 'a run of NUL bytes before a line (the file after a crash: preallocated, then appended)',
    async run() {
      const dir = scratch('nul-run');
      const file = path.join(dir, 'nexus.log');
      const before = pushes(1, 1);
      const after = pushes(2, 2);
      fs.writeFileSync(file, Buffer.concat([Buffer.from(before.text), Buffer.alloc(4096, 0), Buffer.from(after.text)]));
      const result = await run(cli(file), { memMB: 512, timeMs: 30_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      const incidents = L.parseIncidents(result.stdout.lines);
      const extra = incidents.filter((i) => i.rule !== L.PUSH_RULE).map((i) => i.rule);
      return { result, reason: reasonOf(basics(result), L.checkPushes(incidents, [...before.expected, ...after.expected]), extra.length === 0 ? null : `incidents the same lines without the NULs do not give: ${extra.join(', ')}`) };
    },
  },
  {
    id: 'S22',
    name: 'a nexus.log saved as UTF-16LE with its BOM (PowerShell > redirection)',
    async run() {
      const dir = scratch('wide-text');
      const file = path.join(dir, 'nexus.log');
      const written = pushes(1, 2);
      fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(written.text, 'utf16le')]));
      const result = await run(cli(file), { memMB: 512, timeMs: 30_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      // Read (the BOM says how), or a warning that names the encoding: not the generic "is this a nexus.log?".
      const found = L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected);
      const said = result.stderr.lines.some((l) => /utf-?16/i.test(l));
      return { result, reason: reasonOf(basics(result, { code: [0, 2] }), found !== null && !said ? `${found}; stderr does not say UTF-16` : null) };
    },
  },
  {
    id: 'S23',
    name: '--since a duration beyond the range of a date (999999999d, 10^22 d)',
    async run() {
      const dir = scratch('since-range');
      const file = path.join(dir, 'nexus.log');
      const written = pushes(1, 2);
      fs.writeFileSync(file, written.text);
      const problems = [];
      let last = null;
      for (const value of ['999999999d', '10000000000000000000000d']) {
        const result = await run(cli('--since', value, file), { memMB: 512, timeMs: 20_000 });
        last = result;
        // Refused as a usage error naming the option, or read as "since the beginning": every push found.
        const refused = result.code === 2 && result.stderr.lines.some((l) => l.includes('--since'));
        const found = L.checkPushes(L.parseIncidents(result.stdout.lines), written.expected);
        if (!refused && found !== null) problems.push(`--since ${value}: exit ${result.code}, ${found}, nothing on stderr`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      return { result: last, reason: reasonOf(problems) };
    },
  },
  {
    id: 'S24',
    name: 'timestamps in years 0000-0099 and on 30 February',
    async run() {
      const dir = scratch('odd-dates');
      const file = path.join(dir, 'nexus.log');
      const stamps = [
        ['0000-09-10 01:00:00,000+0000', '0000-09-10T01:00:00.000Z'],
        ['0099-09-10 01:00:00,000+0000', '0099-09-10T01:00:00.000Z'],
        ['2025-02-30 01:00:00,000+0000', null], // no such day: unparsed (like 2025-13-45), not moved to March
      ];
      const lines = stamps.map(([stamp], i) => L.push(i + 1, 0, { stamp: () => stamp, layers: 1 }).lines.join('\n'));
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const result = await run(cli(file), { memMB: 512, timeMs: 20_000 });
      fs.rmSync(dir, { recursive: true, force: true });
      const found = L.pushesFound(L.parseIncidents(result.stdout.lines));
      const problems = [];
      stamps.forEach(([stamp, iso], i) => {
        const incident = (found.get(`team/app${i + 1}:1.${i + 1}`) ?? [])[0];
        if (iso !== null && incident === undefined) problems.push(`${stamp}: no incident`);
        else if (iso !== null && incident.firstSeen !== iso) problems.push(`${stamp} reported as ${incident.firstSeen}`);
        else if (iso === null && incident !== undefined && incident.firstSeen !== null && !incident.firstSeen.startsWith('2025-02-30')) problems.push(`${stamp} reported as ${incident.firstSeen}`);
      });
      return { result, reason: reasonOf(basics(result), problems) };
    },
  },
];

module.exports = { cases: [...fileSystem, ...signals, ...zips, ...memory, ...reading] };
