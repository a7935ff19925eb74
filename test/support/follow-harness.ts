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
 * END), under a guard against hangs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
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
 * With a `slow` argument it reads 4 KiB at a time and takes 2 ms over each chunk, as a consumer
 * busy analysing: the file is rotated several times while it is not looking.
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
 * keeps one O_APPEND descriptor (the writer copytruncate exists for).
 */
const WRITER = `
const fs = require('fs');
const [file, mode, maxText] = process.argv.slice(2);
const max = Number(maxText);
const pad = 'x'.repeat(40);
let stop = false;
process.stdin.on('data', () => (stop = true));
process.stdin.on('end', () => (stop = true));
const fd = mode === 'hold' ? fs.openSync(file, 'a') : -1;
const write = (text) => (fd >= 0 ? fs.writeSync(fd, text) : fs.appendFileSync(file, text));
let n = 0;
function burst() {
  for (let i = 0; i < 20 && !stop && n < max; i++, n++) {
    write('L' + String(n).padStart(7, '0') + ' ' + pad + '\\n');
    if ((n + 1) % 500 === 0) process.stdout.write(n + 1 + '\\n');
  }
  if (stop) {
    write('END\\n');
    if (fd >= 0) fs.closeSync(fd);
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
  /** sh script run in the log folder while the writer writes. */
  rotator: string;
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

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts the writer; `reached(n)` resolves once it reports n lines written; `stop()` ends it and gives the count. */
function startWriter(work: string, file: string, mode: Scenario['writer'], max: number) {
  const script = path.join(work, 'writer.js');
  writeFileSync(script, WRITER);
  const child = spawn(process.execPath, [script, file, mode, String(max)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let progress = 0;
  let full = false;
  let written: number | null = null;
  let out = '';
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const wake = (): void => {
    for (const waiter of waiters.splice(0)) {
      if (progress >= waiter.n || full || written !== null) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const line of lines) {
      const done = /^written (\d+)$/.exec(line);
      if (done !== null) written = Number(done[1]);
      else if (line === 'max') full = true;
      else if (/^\d+$/.test(line)) progress = Number(line);
    }
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

function runRotator(dir: string, script: string): Promise<void> {
  const child = spawn('sh', ['-c', `set -e\n${script}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return exited(child).then((code) => {
    if (code !== 0) throw new Error(`rotator exited ${code}: ${stderr}`);
  });
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
    writer = startWriter(work, file, scenario.writer, options.maxLines ?? 10_000);
    await guard(writer.reached(500), 15_000, 'the writer to write 500 lines');
    await guard(runRotator(dir, scenario.rotator), 15_000, 'the rotator');
    await guard(writer.reached(writer.progress() + 500), 15_000, 'the writer to write 500 more lines');
    const written = await writer.stop();
    await Promise.all([settlesWithin(tailOut.saw('END'), 15_000), settlesWithin(followOut.saw('END'), 15_000)]);
    const onDisk = linesOnDisk(dir);
    const notOnDisk: number[] = [];
    for (let n = 0; n < written; n++) if (!onDisk.has(n)) notOnDisk.push(n);
    return { scenario: scenario.name, written, notOnDisk, tail: tailOut.tally(written), follow: followOut.tally(written), ms: Date.now() - started };
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
  const header = ['scenario', 'tool', 'written', 'in no file', 'seen', 'missing', 'of them in no file', 'duplicated', 'garbled', 'END seen'];
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
        String(counts.duplicated.length),
        String(counts.garbled),
        counts.ended ? 'yes' : 'no',
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
