/**
 * Side by side: `tail -F` (coreutils) and `followFile` follow the same nexus.log while a writer
 * process appends numbered lines as fast as it can and a rotator process rotates the file;
 * then every numbered line is counted in each one's output. Used by
 * test/reliability/follow-vs-tail.test.ts.
 *
 * All four are processes of their own: the race is real. followFile runs in a small Node
 * program (src/source/follow-file.ts compiled the way Jest compiles it) that writes what it
 * reads to stdout, as tail does; both write into files, not pipes, so that the test process
 * counting does not hold them back.
 *
 * Nothing here sleeps to let something happen: each step waits for what it can observe (both
 * followers printed READY, the writer reported its progress, the rotator exited, both printed
 * END), under a guard against hangs. The writer notes when it wrote each burst of lines and the
 * rotator when it truncated, so that each line lost with a truncation has a known least time
 * it was in the file (`livedMs`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { transformSync } from '@babel/core';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Writes src/source/follow-file.ts (or another version's text), compiled the way Jest compiles
 * it, as `follow-file.js` in a new folder readable by everyone, for child processes (a follower
 * in a process of its own, or run as another user). Returns the folder.
 */
export function compiledFollower(source = readFileSync(path.join(ROOT, 'src', 'source', 'follow-file.ts'), 'utf8')): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nla-follower-'));
  chmodSync(dir, 0o755);
  const compiled = transformSync(source, {
    filename: 'follow-file.ts',
    babelrc: false,
    configFile: false,
    presets: [['@babel/preset-typescript', { onlyRemoveTypeImports: false }]],
    plugins: ['@babel/plugin-transform-modules-commonjs'],
  });
  if (compiled?.code == null) throw new Error('follow-file.ts did not compile');
  writeFileSync(path.join(dir, 'follow-file.js'), compiled.code, { mode: 0o644 });
  return dir;
}

/**
 * The followFile process: the file from its start to stdout (with backpressure), until SIGTERM.
 * With a `slow` argument it takes 4 KiB chunks and 2 ms over each, as a consumer busy
 * analysing: it is behind when the file is rotated (followFile reads ahead meanwhile).
 */
const FOLLOWER = `
const { once } = require('events');
const { followFile } = require('./follow-file.js');
const slow = process.argv[3] === 'slow';
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
(async () => {
  for await (const chunk of followFile(process.argv[2], { fromStart: true, signal: stop.signal, ...(slow ? { chunkBytes: 4096 } : {}) })) {
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    if (slow) await new Promise((resolve) => setTimeout(resolve, 2));
  }
})();
`;

/**
 * The writer: appends `L0000042 xxx...` lines in bursts of 20 (giving its event loop a turn
 * between bursts to hear "stop" on stdin), prints its count every 500 lines, stops writing at
 * `max` (and says `max`), and on stop writes `END` and prints `written N`. `reopen` opens the path for every line
 * (O_APPEND|O_CREAT, as a writer that follows the name: it re-creates a deleted file); `hold`
 * keeps one O_APPEND descriptor (the writer copytruncate exists for). It notes when each burst
 * began and ended (epoch ms) and the lines written by its end; on stop it writes these to
 * `timesFile` as JSON `[[lines, startMs, endMs], ...]`.
 */
const WRITER = `
const fs = require('fs');
const [file, mode, maxText, timesFile] = process.argv.slice(2);
const max = Number(maxText);
const pad = 'x'.repeat(40);
let stop = false;
process.stdin.on('data', () => (stop = true));
process.stdin.on('end', () => (stop = true));
const fd = mode === 'hold' ? fs.openSync(file, 'a') : -1;
const write = (text) => (fd >= 0 ? fs.writeSync(fd, text) : fs.appendFileSync(file, text));
const times = [];
let n = 0;
function burst() {
  const from = n;
  const start = Date.now();
  for (let i = 0; i < 20 && !stop && n < max; i++, n++) {
    write('L' + String(n).padStart(7, '0') + ' ' + pad + '\\n');
    if ((n + 1) % 500 === 0) process.stdout.write(n + 1 + '\\n');
  }
  if (n > from) times.push([n, start, Date.now()]);
  if (stop) {
    write('END\\n');
    if (fd >= 0) fs.closeSync(fd);
    fs.writeFileSync(timesFile, JSON.stringify(times));
    process.stdout.write('written ' + n + '\\n');
    process.stdin.destroy();
    return;
  }
  if (n >= max) {
    process.stdout.write('max\\n');
    process.stdin.once('data', burst); // END only once told: after the rotator, never truncated away
    return;
  }
  setImmediate(burst);
}
burst();
`;

export interface Scenario {
  name: string;
  /** How the writer opens the file (see WRITER). */
  writer: 'reopen' | 'hold';
  /**
   * sh script run in the log folder while the writer writes. Shell functions: `marked <command>`
   * notes the time just before and just after running it (truncations run so tell how long
   * the lines they destroy were in the file at least); `after_lines N` returns once the writer
   * reported N more lines written (a wider window between a copy and its truncation).
   */
  rotator: string;
  /** Lines the writer writes at most (default 10,000). */
  maxLines?: number;
  /** followFile's consumer is slow (see FOLLOWER): it is behind when the rotations happen. */
  slowReader?: boolean;
}

export interface Tally {
  /** Distinct numbered lines seen. */
  seen: number;
  /** Numbered lines written and never seen. */
  missing: number[];
  /** Numbered lines seen more than once (each listed once per extra copy). */
  duplicated: number[];
  /** Lines neither numbered nor READY/END (a line cut in two, say). */
  garbled: number;
  /** END was seen before the guard ran out. */
  ended: boolean;
}

export interface ScenarioResult {
  scenario: string;
  written: number;
  /** Numbered lines in no file left in the folder (copytruncate: written between the copy and the truncation, or in a file overwritten by `mv`). */
  notOnDisk: number[];
  /** For lines in no file destroyed by a `marked` truncation (see Scenario.rotator): how long they were in the file at least, in ms. */
  livedMs: Map<number, number>;
  tail: Tally;
  follow: Tally;
  ms: number;
}

/** Counts the numbered lines in a follower's output. */
function tally(text: string, written: number, ended: boolean): Tally {
  const counts = new Map<number, number>();
  let garbled = 0;
  for (const line of text.split('\n')) {
    const numbered = /^L(\d{7}) x{40}$/.exec(line);
    if (numbered !== null) {
      const n = Number(numbered[1]);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    } else if (line !== 'READY' && line !== 'END' && line !== '') garbled++;
  }
  const missing: number[] = [];
  const duplicated: number[] = [];
  for (let n = 0; n < written; n++) {
    const count = counts.get(n) ?? 0;
    if (count === 0) missing.push(n);
    for (let extra = 1; extra < count; extra++) duplicated.push(n);
  }
  return { seen: written - missing.length, missing, duplicated, garbled, ended };
}

/** Resolves with `promise`, or rejects after `ms` (a guard, not a wait). */
function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`waited ${ms} ms in vain for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  try {
    await guard(promise, ms, '');
    return true;
  } catch {
    return false;
  }
}

/** Calls `onLine` with each whole line the child writes to stdout. */
function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts the writer; `reached(n)` resolves once it reports n lines written; `stop()` ends it and gives the count. */
function startWriter(work: string, file: string, mode: Scenario['writer'], max: number, timesFile: string) {
  const script = path.join(work, 'writer.js');
  writeFileSync(script, WRITER);
  const child = spawn(process.execPath, [script, file, mode, String(max), timesFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  let progress = 0;
  let full = false;
  let written: number | null = null;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const wake = (): void => {
    for (const waiter of waiters.splice(0)) {
      if (progress >= waiter.n || full || written !== null) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  onLines(child, (line) => {
    const done = /^written (\d+)$/.exec(line);
    if (done !== null) written = Number(done[1]);
    else if (line === 'max') full = true;
    else if (/^\d+$/.test(line)) progress = Number(line);
    wake();
  });
  const closed = exited(child);
  child.stdin?.on('error', () => undefined); // ended already
  return {
    progress: (): number => progress,
    reached: (n: number): Promise<void> =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        wake();
      }),
    stop: async (): Promise<number> => {
      child.stdin?.end('stop\n');
      await guard(closed, 15_000, 'the writer to stop');
      if (written === null) throw new Error('the writer did not say how many lines it wrote');
      return written;
    },
    kill: (): void => {
      if (child.exitCode === null) child.kill();
    },
  };
}

function runRotator(dir: string, script: string, marksFile: string, afterLines: (n: number) => Promise<void>): Promise<void> {
  const functions = [
    `mark() { date +%s%3N >> '${marksFile}'; }`,
    'marked() { mark; "$@"; mark; }',
    'after_lines() { echo "after_lines $1"; read -r go; }',
  ].join('\n');
  const child = spawn('sh', ['-c', `set -e\n${functions}\n${script}`], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  onLines(child, (line) => {
    const asked = /^after_lines (\d+)$/.exec(line);
    if (asked !== null) void afterLines(Number(asked[1])).then(() => child.stdin?.write('go\n'), () => child.kill());
  });
  child.stdin?.on('error', () => undefined); // ended already
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return exited(child).then((code) => {
    if (code !== 0) throw new Error(`rotator exited ${code}: ${stderr}`);
  });
}

/**
 * How long each line in no file was in the file at least. A line was written during its burst
 * (`start`..`end`); the truncation that destroyed it is the first one after that, so not one
 * that ended before the burst began: it came at the earliest at the `before` mark of the first
 * truncation whose `after` mark is not before the burst's start. At least `before - end`, then
 * (times are whole ms: 1 ms is given away on each side).
 */
function lifetimes(notOnDisk: readonly number[], timesFile: string, marksFile: string): Map<number, number> {
  const lived = new Map<number, number>();
  if (!existsSync(marksFile)) return lived;
  const bursts = JSON.parse(readFileSync(timesFile, 'utf8')) as Array<[number, number, number]>;
  const marks = readFileSync(marksFile, 'utf8').split('\n').filter(Boolean).map(Number);
  const truncations: Array<{ before: number; after: number }> = [];
  for (let i = 0; i + 1 < marks.length; i += 2) truncations.push({ before: marks[i] as number, after: marks[i + 1] as number });
  let b = 0;
  for (const n of notOnDisk) {
    while (b < bursts.length && (bursts[b] as [number, number, number])[0] <= n) b++;
    const burst = bursts[b];
    if (burst === undefined) continue;
    const [, start, end] = burst;
    const truncation = truncations.find(({ after }) => after + 1 >= start);
    if (truncation !== undefined) lived.set(n, Math.max(0, truncation.before - (end + 1)));
  }
  return lived;
}

/** Every numbered line in the files left in the folder. */
function linesOnDisk(dir: string): Set<number> {
  const found = new Set<number>();
  for (const name of readdirSync(dir)) {
    for (const match of readFileSync(path.join(dir, name), 'latin1').matchAll(/^L(\d{7}) /gm)) found.add(Number(match[1]));
  }
  return found;
}

/**
 * An output file a follower writes into. `saw(word)` resolves once the file starts (READY) or
 * ends (END) with that line; it looks again on every change reported in its folder.
 */
class Output {
  private readonly checks: Array<() => void> = [];
  private readonly watcher: FSWatcher;
  private readonly safety: NodeJS.Timeout;

  constructor(readonly file: string) {
    writeFileSync(file, '');
    const check = (): void => {
      for (const c of this.checks.slice()) c();
    };
    this.watcher = watch(path.dirname(file), { persistent: false }, check);
    this.safety = setInterval(check, 100); // should the watch miss a change: this only looks again
  }

  saw(word: 'READY' | 'END'): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.has(word)) {
          this.checks.splice(this.checks.indexOf(check), 1);
          resolve();
        }
      };
      this.checks.push(check);
      check();
    });
  }

  has(word: 'READY' | 'END'): boolean {
    const size = statSync(this.file).size;
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(word.length + 1);
      const read = readSync(fd, buffer, 0, buffer.length, word === 'READY' ? 0 : Math.max(0, size - buffer.length));
      return buffer.subarray(0, read).toString() === `${word}\n`;
    } finally {
      closeSync(fd);
    }
  }

  tally(written: number): Tally {
    return tally(readFileSync(this.file, 'latin1'), written, this.has('END'));
  }

  close(): void {
    this.watcher.close();
    clearInterval(this.safety);
  }
}

/**
 * Runs one scenario: `tail -F -n +1` and a followFile process (fromStart) follow log/nexus.log,
 * each writing what it reads into a file; once both printed the file's READY line, the writer
 * starts; after 500 lines the rotator runs; 500 lines after it finished the writer stops and
 * writes END; each follower is given 15 s to print END; then both are stopped and counted.
 */
export async function runScenario(scenario: Scenario, options: { maxLines?: number; followerSource?: string } = {}): Promise<ScenarioResult> {
  const started = Date.now();
  const work = mkdtempSync(path.join(tmpdir(), 'nla-follow-vs-tail-'));
  const dir = path.join(work, 'log');
  mkdirSync(dir);
  const file = path.join(dir, 'nexus.log');
  writeFileSync(file, 'READY\n');
  const code = compiledFollower(options.followerSource);
  writeFileSync(path.join(code, 'follower.js'), FOLLOWER);

  const tailOut = new Output(path.join(work, 'tail.out'));
  const followOut = new Output(path.join(work, 'follow.out'));
  const tailFd = openSync(tailOut.file, 'a');
  const followFd = openSync(followOut.file, 'a');
  const tail = spawn('tail', ['-F', '-n', '+1', file], { stdio: ['ignore', tailFd, 'ignore'] });
  const followerArgs = [path.join(code, 'follower.js'), file, scenario.slowReader === true ? 'slow' : 'fast'];
  const follower = spawn(process.execPath, followerArgs, { stdio: ['ignore', followFd, 'inherit'] });
  closeSync(tailFd);
  closeSync(followFd);
  const following = exited(follower);

  let writer: ReturnType<typeof startWriter> | null = null;
  try {
    // Both have the file open before anything is written or rotated.
    await guard(Promise.all([tailOut.saw('READY'), followOut.saw('READY')]), 15_000, 'both followers to print READY');
    const timesFile = path.join(work, 'times.json');
    const marksFile = path.join(work, 'marks');
    const running = startWriter(work, file, scenario.writer, options.maxLines ?? scenario.maxLines ?? 10_000, timesFile);
    writer = running;
    await guard(writer.reached(500), 15_000, 'the writer to write 500 lines');
    const afterLines = (n: number): Promise<void> => guard(running.reached(running.progress() + n), 15_000, `the writer to write ${n} more lines`);
    await guard(runRotator(dir, scenario.rotator, marksFile, afterLines), 30_000, 'the rotator');
    await guard(writer.reached(writer.progress() + 500), 15_000, 'the writer to write 500 more lines');
    const written = await writer.stop();
    await Promise.all([settlesWithin(tailOut.saw('END'), 15_000), settlesWithin(followOut.saw('END'), 15_000)]);
    const onDisk = linesOnDisk(dir);
    const notOnDisk: number[] = [];
    for (let n = 0; n < written; n++) if (!onDisk.has(n)) notOnDisk.push(n);
    const livedMs = lifetimes(notOnDisk, timesFile, marksFile);
    return { scenario: scenario.name, written, notOnDisk, livedMs, tail: tailOut.tally(written), follow: followOut.tally(written), ms: Date.now() - started };
  } finally {
    writer?.kill();
    if (tail.exitCode === null) tail.kill();
    follower.kill('SIGTERM');
    const status = await guard(following, 15_000, 'the followFile process to end on SIGTERM');
    tailOut.close();
    followOut.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(code, { recursive: true, force: true });
    if (status !== 0) throw new Error(`the followFile process ended with ${status} on SIGTERM`);
  }
}

/** The comparison table, one row per scenario and tool. */
export function formatTable(results: readonly ScenarioResult[]): string {
  const header = ['scenario', 'tool', 'written', 'in no file', 'seen', 'missing', 'of them in no file', 'longest in file', 'duplicated', 'garbled', 'END seen'];
  const rows: string[][] = [header];
  for (const result of results) {
    const gone = new Set(result.notOnDisk);
    for (const [tool, counts] of [
      ['tail -F', result.tail],
      ['followFile', result.follow],
    ] as const) {
      rows.push([
        tool === 'tail -F' ? result.scenario : '',
        tool,
        String(result.written),
        String(result.notOnDisk.length),
        String(counts.seen),
        String(counts.missing.length),
        String(counts.missing.filter((n) => gone.has(n)).length),
        longestLived(result, counts.missing),
        String(counts.duplicated.length),
        String(counts.garbled),
        counts.ended ? 'yes' : 'no',
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** How long the missed line that lived longest in the file was there at least (`3 ms`), `-` when none is known. */
function longestLived(result: ScenarioResult, missing: readonly number[]): string {
  const known = missing.flatMap((n) => result.livedMs.get(n) ?? []);
  return known.length === 0 ? '-' : `${Math.max(...known)} ms`;
}
