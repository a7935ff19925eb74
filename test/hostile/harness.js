'use strict';
/**
 * One child process under limits, measured: it runs under GNU time (`/usr/bin/time -f %M`,
 * the kernel's peak RSS of the process), its RSS is polled from /proc and it is killed past
 * the memory limit, and killed at the time limit. Output lines are kept and can be waited on
 * (readiness lines, incidents), and signals go to the program itself, not to `time`.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
/** The built CLI; HOSTILE_CLI names another entry point (e.g. a patched build) to compare. */
const CLI = process.env.HOSTILE_CLI ?? path.join(ROOT, 'bin', 'nexus-log-analyzer.js');
const NOBODY = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];

/** `node bin/nexus-log-analyzer.js ...args` */
function cli(...args) {
  return [process.execPath, CLI, ...args];
}

/** `node test/hostile/drivers/<name>.js ...args` */
function driver(name, ...args) {
  return [process.execPath, path.join(__dirname, 'drivers', `${name}.js`), ...args];
}

/** The same command with the open-file limit lowered first (bash's ulimit, then exec). */
function withFileLimit(limit, argv) {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['bash', '-c', `ulimit -n ${limit} && exec ${quoted}`];
}

/** The same command as the unprivileged user nobody (we run as root, who reads any file). */
function asNobody(argv) {
  return [...NOBODY, ...argv];
}

class Lines {
  constructor() {
    this.lines = [];
    this.partial = '';
    this.bytes = 0;
    this.waiters = [];
  }

  push(chunk) {
    this.bytes += chunk.length;
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop();
    for (const line of parts) this.lines.push(line);
    if (parts.length > 0) this.wake();
  }

  end() {
    if (this.partial !== '') this.lines.push(this.partial);
    this.partial = '';
    this.ended = true;
    this.wake();
  }

  wake() {
    this.waiters = this.waiters.filter((w) => !w.check());
  }

  /** Resolves with the first line from `from` on that satisfies `test` (a RegExp or function); rejects at the end or after `ms`. */
  waitFor(test, { from = 0, ms = 10_000, what = String(test) } = {}) {
    const matches = typeof test === 'function' ? test : (line) => test.test(line);
    return new Promise((resolve, reject) => {
      let at = from;
      const waiter = {
        check: () => {
          for (; at < this.lines.length; at++) {
            if (matches(this.lines[at])) {
              clearTimeout(timer);
              resolve({ line: this.lines[at], index: at });
              return true;
            }
          }
          if (this.ended) {
            clearTimeout(timer);
            reject(new Error(`ended before ${what}`));
            return true;
          }
          return false;
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${ms} ms`));
      }, ms);
      if (!waiter.check()) this.waiters.push(waiter);
    });
  }
}

/** The pid of `parent`'s first child, once it has one. */
async function childPidOf(parent) {
  for (let i = 0; i < 2000; i++) {
    try {
      const children = fs.readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
      if (children !== '') return Number(children.split(' ')[0]);
    } catch {
      return null; // parent gone
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return null;
}

function rssKbOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/**
 * Starts `argv` under limits. `stdin`: 'ignore', 'pipe' (write to `run.stdin`), a Buffer or
 * string (written, then closed), or a readable stream with a file descriptor.
 * Returns { pid (promise), stdin, stdout, stderr (Lines), signal(name), done (promise of the result) }.
 */
function start(argv, { memMB = 1024, timeMs = 60_000, stdin = 'ignore', cwd = ROOT, env = {} } = {}) {
  const timeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nla-hostile-time-')), 'time');
  const given = Buffer.isBuffer(stdin) || (typeof stdin === 'string' && stdin !== 'pipe' && stdin !== 'ignore');
  const stdinOption = given ? 'pipe' : stdin;
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, ...argv], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: [stdinOption, 'pipe', 'pipe'],
  });
  const startedAt = performance.now();
  const stdout = new Lines();
  const stderr = new Lines();
  child.stdout.on('data', (chunk) => stdout.push(chunk));
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  if (child.stdin !== null) child.stdin.on('error', () => {}); // EPIPE when the child exits first
  if (given) child.stdin.end(stdin);

  let killedFor = null;
  let polledPeakKb = 0;
  let signalledAt = null;
  const pid = childPidOf(child.pid);
  const kill = (reason) => {
    if (killedFor === null) killedFor = reason;
    pid.then((p) => {
      try {
        process.kill(p ?? child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
  };
  const timer = setTimeout(() => kill(`time limit ${timeMs / 1000} s`), timeMs);
  const poll = setInterval(async () => {
    const p = await pid;
    if (p === null) return;
    const kb = rssKbOf(p);
    polledPeakKb = Math.max(polledPeakKb, kb);
    if (kb > memMB * 1024) kill(`memory limit ${memMB} MB`);
  }, 50);

  const done = new Promise((resolve) => {
    child.on('close', (timeStatus) => {
      clearTimeout(timer);
      clearInterval(poll);
      const endedAt = performance.now();
      stdout.end();
      stderr.end();
      let peakKb = polledPeakKb;
      let code = timeStatus;
      let signal = null;
      try {
        const report = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
        peakKb = Math.max(peakKb, Number(report[report.length - 1]) || 0);
        for (const line of report) {
          const bySignal = /terminated by signal (\d+)/.exec(line);
          if (bySignal !== null) {
            signal = Number(bySignal[1]);
            code = null;
          }
          const byStatus = /exited with non-zero status (\d+)/.exec(line);
          if (byStatus !== null) code = Number(byStatus[1]);
        }
        fs.rmSync(path.dirname(timeFile), { recursive: true, force: true });
      } catch {
        // time did not write it: keep the polled figure
      }
      resolve({
        code,
        signal,
        wallMs: endedAt - startedAt,
        peakMB: peakKb / 1024,
        killedFor,
        exitAfterSignalMs: signalledAt === null ? null : endedAt - signalledAt,
        stdout,
        stderr,
      });
    });
  });

  return {
    pid,
    stdin: child.stdin,
    stdout,
    stderr,
    /** Sends a signal to the program (not to `time`) and notes when, for `exitAfterSignalMs`. */
    async signal(name) {
      const p = await pid;
      signalledAt = performance.now();
      try {
        process.kill(p ?? child.pid, name);
      } catch {
        // already gone: the result says how it ended
      }
    },
    kill,
    done,
  };
}

/** Starts and waits: the result of `start(...).done`. */
function run(argv, options) {
  return start(argv, options).done;
}

/** A new folder for a scenario's inputs, readable and writable by everyone (for runs as nobody). */
function scratch(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nla-hostile-${name}-`));
  fs.chmodSync(dir, 0o777);
  return dir;
}

/** Writes `count` chunks made by `make(i)` (Buffers or strings) to a file, without holding them all. */
function writeChunks(file, count, make) {
  const fd = fs.openSync(file, 'w');
  try {
    for (let i = 0; i < count; i++) {
      const chunk = make(i);
      fs.writeSync(fd, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes to a writable stream, waiting for drain (false when the stream broke). */
function writeStream(stream, chunk) {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) {
      resolve(false);
      return;
    }
    const ok = stream.write(chunk, (error) => {
      if (error) resolve(false);
    });
    if (ok) resolve(true);
    else stream.once('drain', () => resolve(true));
  });
}

/** The JSON record a library driver prints last on stdout. */
function driverResult(result) {
  for (let i = result.stdout.lines.length - 1; i >= 0; i--) {
    const line = result.stdout.lines[i];
    if (line.startsWith('{')) {
      try {
        return JSON.parse(line);
      } catch {
        return null;
      }
    }
  }
  return null;
}

module.exports = { ROOT, CLI, cli, driver, withFileLimit, asNobody, start, run, scratch, writeChunks, writeStream, driverResult };
