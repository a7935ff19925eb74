'use strict';
/**
 * --follow as reliable as tail -F: rotations in quick succession, copytruncate under a fast
 * writer (tail -F alongside), files that become or start unreadable (the CLI runs as nobody:
 * we are root, who reads any file).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { asNobody, cli, run, scratch, start } = require('../harness');
const { basics, reasonOf } = require('../checks');
const L = require('../lines');

/** A warning about permissions (not the `ready:` line, which names the file). */
const PERMISSION = /^(?!ready:).*(?:permission denied|EACCES|not readable)/i;

/** Waits until `count` pushes were reported, or nothing new came for `quietMs`; then SIGTERM and the result. */
async function stopWhenFound(child, count, { quietMs = 3000 } = {}) {
  const keys = new Set();
  let parsed = 0;
  for (;;) {
    // Only the lines not looked at yet: the output can be tens of thousands of incidents.
    const upTo = child.stdout.lines.length;
    const fresh = L.parseIncidents(child.stdout.lines.slice(parsed, upTo));
    parsed = upTo;
    for (const key of L.pushesFound(fresh).keys()) keys.add(key);
    if (keys.size >= count) break;
    const more = await child.stdout.waitFor(() => true, { from: parsed, ms: quietMs }).then(
      () => true,
      () => false,
    );
    if (!more) break;
  }
  await child.signal('SIGTERM');
  return child.done;
}

/** Writes pushes `from`..`to` (exclusive), ms `step` apart in log time, as one file's text. */
function pushesText(from, to, step = 100) {
  const list = [];
  for (let id = from; id < to; id++) list.push(L.push(id, id * step));
  return { text: `${list.flatMap((p) => p.lines).join('\n')}\n`, expected: list.map((p) => p.expected) };
}

async function rotations(name, rotate) {
  const dir = scratch(name);
  const log = path.join(dir, 'nexus.log');
  fs.writeFileSync(log, '');
  const child = start(cli('--follow', '--ready', log), { memMB: 512, timeMs: 60_000 });
  const expected = [];
  try {
    await child.stderr.waitFor(/^ready:/, { what: 'ready' });
    let id = 0;
    for (let round = 0; round < 3; round++) {
      // Three files in a row, two rotations between them with no pause: A, rotate, B, rotate, C.
      for (let file = 0; file < 3; file++) {
        const batch = pushesText(id, id + 40);
        id += 40;
        expected.push(...batch.expected);
        fs.appendFileSync(log, batch.text);
        if (file < 2) rotate(dir, round * 2 + file);
      }
    }
  } catch (error) {
    child.kill(error.message);
  }
  const result = await stopWhenFound(child, expected.length);
  fs.rmSync(dir, { recursive: true, force: true });
  const found = L.pushesFound(L.parseIncidents(result.stdout.lines)).size;
  return { result, reason: reasonOf(basics(result), L.checkPushes(L.parseIncidents(result.stdout.lines), expected)), note: `${found} of ${expected.length} pushes in 9 files` };
}

/** Counts, per push id, the lines of it in `text`. */
function countPushLines(text, counts) {
  for (const match of text.matchAll(/team\/app(\d+)\/1\.\d+ in repository|PUT \/v2\/team\/app(\d+)\/manifests/g)) {
    const id = Number(match[1] ?? match[2]);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * --follow run as nobody on a nexus.log holding the first of `pushes`, through `steps(log,
 * child, pushes)`; then SIGTERM. It must exit 0 with no stack trace, say at most one
 * permission warning per condition, and report every push.
 */
async function followAsNobody(name, pushes, { unreadableAtStart }, steps) {
  const dir = scratch(name);
  const log = path.join(dir, 'nexus.log');
  fs.writeFileSync(log, `${pushes[0].lines.join('\n')}\n`);
  if (unreadableAtStart) fs.chmodSync(log, 0o000);
  const child = start(asNobody(cli('--follow', '--from-start', '--ready', log)), { memMB: 512, timeMs: 60_000 });
  const problems = [];
  try {
    await steps(log, child, pushes);
  } catch (error) {
    problems.push(error.message);
  }
  await child.signal('SIGTERM');
  const result = await child.done;
  const warnings = result.stderr.lines.filter((line) => PERMISSION.test(line));
  if (warnings.length > 1) problems.push(`${warnings.length} permission warnings, not one`);
  fs.rmSync(dir, { recursive: true, force: true });
  const found = L.checkPushes(L.parseIncidents(result.stdout.lines), pushes.map((p) => p.expected));
  return { result, reason: reasonOf(basics(result), problems, found), note: warnings[0]?.slice(0, 100) ?? '' };
}

const WRITER = `
const fs = require('node:fs');
const L = require(${JSON.stringify(path.join(__dirname, '..', 'lines.js'))});
const [file, count] = [process.argv[1], Number(process.argv[2])];
const fd = fs.openSync(file, 'a');
for (let id = 0; id < count; id++) fs.writeSync(fd, L.push(id, id * 10).lines.join('\\n') + '\\n');
fs.closeSync(fd);
`;

const cases = [
  {
    id: '16',
    name: '--follow: two rename rotations in quick succession, three times (dated names)',
    run: () =>
      rotations('rename-dated', (dir, n) => {
        fs.renameSync(path.join(dir, 'nexus.log'), path.join(dir, `nexus-2025-09-${String(10 + n).padStart(2, '0')}.log`));
        fs.writeFileSync(path.join(dir, 'nexus.log'), '');
      }),
  },
  {
    id: '16b',
    name: '--follow: two rename rotations in quick succession, three times (nexus.log.1, .2 ...)',
    run: () =>
      rotations('rename-numbered', (dir) => {
        const names = fs.readdirSync(dir).filter((f) => /^nexus\.log\.\d+$/.test(f));
        for (let n = names.length; n >= 1; n--) fs.renameSync(path.join(dir, `nexus.log.${n}`), path.join(dir, `nexus.log.${n + 1}`));
        fs.renameSync(path.join(dir, 'nexus.log'), path.join(dir, 'nexus.log.1'));
        fs.writeFileSync(path.join(dir, 'nexus.log'), '');
      }),
  },
  {
    id: '17',
    name: '--follow: copytruncate while a writer appends non-stop (tail -F alongside)',
    async run() {
      const dir = scratch('copytruncate');
      const log = path.join(dir, 'nexus.log');
      fs.writeFileSync(log, '');
      const child = start(cli('--follow', '--ready', log), { memMB: 512, timeMs: 90_000 });
      const tailOut = path.join(dir, 'tail.out');
      const tailFd = fs.openSync(tailOut, 'w');
      const tail = spawn('tail', ['-F', '-n', '+1', log], { stdio: ['ignore', tailFd, 'ignore'] });
      fs.closeSync(tailFd);
      const count = 10_000;
      let copies = 0;
      let writer = null;
      try {
        await child.stderr.waitFor(/^ready:/, { what: 'ready' });
        writer = spawn(process.execPath, ['-e', WRITER, log, String(count)], { stdio: ['ignore', 'ignore', 'inherit'] });
        let finished = false;
        writer.on('close', () => (finished = true));
        // logrotate's copytruncate, in one process: copy, then truncate at once.
        while (!finished) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          if (finished) break;
          fs.copyFileSync(log, path.join(dir, `nexus.log.${++copies}`));
          fs.truncateSync(log, 0);
        }
      } catch (error) {
        child.kill(error.message);
      }
      const inFiles = new Map();
      for (const name of fs.readdirSync(dir).filter((f) => f.startsWith('nexus.log'))) countPushLines(fs.readFileSync(path.join(dir, name), 'utf8'), inFiles);
      const whole = [...inFiles].filter(([, n]) => n === 3).map(([id]) => id);
      const expected = whole.map((id) => ({ image: `team/app${id}`, tag: `1.${id}`, layers: 2, rejected: true }));
      let result;
      try {
        result = await stopWhenFound(child, expected.length);
      } finally {
        // tail -F has had the same time: its figure, for comparison.
        tail.kill('SIGTERM');
        writer?.kill('SIGKILL');
      }
      const seenByTail = countPushLines(fs.readFileSync(tailOut, 'utf8'), new Map());
      const tailWhole = whole.filter((id) => seenByTail.get(id) === 3).length;
      const found = L.pushesFound(L.parseIncidents(result.stdout.lines));
      const foundWhole = whole.filter((id) => found.has(`team/app${id}:1.${id}`)).length;
      fs.rmSync(dir, { recursive: true, force: true });
      const problems = copies < 2 ? [`only ${copies} copytruncate(s) happened while writing`] : [];
      return {
        result,
        reason: reasonOf(basics(result), problems, L.checkPushes(L.parseIncidents(result.stdout.lines), expected)),
        note: `${count} pushes written, ${whole.length} whole in some file after ${copies} copytruncates; found ${foundWhole}, tail -F saw ${tailWhole}`,
      };
    },
  },
  {
    id: '18',
    name: '--follow as nobody: the file becomes unreadable (chmod 000, then a new 000 file)',
    run: () =>
      followAsNobody('chmod', [L.push(180, 0), L.push(181, 10_000), L.push(182, 20_000)], { unreadableAtStart: false }, async (log, child, [, b, c]) => {
        await child.stderr.waitFor(/^ready:/, { what: 'ready' });
        await child.stdout.waitFor((line) => line.includes('team/app180'), { what: 'push A' });
        fs.chmodSync(log, 0o000);
        fs.appendFileSync(log, `${b.lines.join('\n')}\n`); // root writes; the follower holds the file open
        await child.stdout.waitFor((line) => line.includes('team/app181'), { what: 'push B, written to the open file after chmod 000' });
        fs.renameSync(log, `${log}.1`);
        fs.writeFileSync(log, `${c.lines.join('\n')}\n`);
        fs.chmodSync(log, 0o000);
        await child.stderr.waitFor(PERMISSION, { what: 'a permission warning' });
        fs.chmodSync(log, 0o644);
        await child.stdout.waitFor((line) => line.includes('team/app182'), { what: 'push C once readable' });
      }),
  },
  {
    id: '18b',
    name: '--follow: the file is deleted, missing for over a second, then written again',
    run: () =>
      followAsNobody('vanished', [L.push(183, 0), L.push(184, 10_000)], { unreadableAtStart: false }, async (log, child, [, b]) => {
        await child.stdout.waitFor((line) => line.includes('team/app183'), { what: 'push A' });
        fs.rmSync(log);
        await child.stderr.waitFor(/^(?!ready:).*(?:not found|deleted|missing|does not exist|ENOENT)/i, { what: 'a warning that the file is gone' });
        fs.writeFileSync(log, `${b.lines.join('\n')}\n`);
        await child.stdout.waitFor((line) => line.includes('team/app184'), { what: 'push B in the new file' });
      }),
  },
  {
    id: '19',
    name: '--follow as nobody: the file is unreadable at start, readable later',
    run: () =>
      followAsNobody('mode-000', [L.push(190, 0)], { unreadableAtStart: true }, async (log, child) => {
        await child.stderr.waitFor(PERMISSION, { what: 'a permission warning' });
        fs.chmodSync(log, 0o644);
        await child.stdout.waitFor((line) => line.includes('team/app190'), { what: 'the push once readable' });
      }),
  },
  {
    id: '19b',
    name: 'as nobody, without --follow: an unreadable file among good ones is named, exit 2',
    async run() {
      const dir = scratch('mode-000-batch');
      const good = path.join(dir, 'nexus-2025-09-09.log');
      const bad = path.join(dir, 'nexus.log');
      fs.writeFileSync(good, `${L.push(191, 0).lines.join('\n')}\n`);
      fs.writeFileSync(bad, `${L.push(192, 60_000).lines.join('\n')}\n`);
      fs.chmodSync(bad, 0o000);
      const result = await run(asNobody(cli(good, bad)), { memMB: 512, timeMs: 30_000 });
      const named = result.stderr.lines.some((line) => line.includes(bad) && PERMISSION.test(line));
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result, { code: 2 }), named ? null : `stderr does not name ${bad}: ${result.stderr.lines.join(' | ').slice(0, 160)}`), note: result.stderr.lines[0]?.slice(0, 100) ?? '' };
    },
  },
];

module.exports = { cases };
