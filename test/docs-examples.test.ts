/**
 * Docs that are tests. The package is packed once (`npm pack`) and installed into a scratch
 * consumer project, as a user would install it; there, every JavaScript block of README.md and
 * docs/**\/*.md runs as written (an ES module when it imports, CommonJS otherwise), every
 * TypeScript block type-checks under `strict` with `node16` and with `bundler` resolution, and
 * the runnable examples of docs/examples/ run and say what the docs say. A block that is only a
 * fragment says so, with its reason, in a `<!-- not-a-test: reason -->` line just before it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Script } from 'node:vm';
import { infoLine, missingLayerLine, rejectionLine, ROOT, SAMPLES } from './support/helpers';

interface Block {
  /** `docs/api.md:23`: the file and the line of the opening fence. */
  id: string;
  lang: 'js' | 'ts';
  /** JavaScript that imports or exports: run as an ES module (.mjs). */
  esm: boolean;
  code: string;
  /** The reason given in a `<!-- not-a-test: ... -->` line before the block, or null. */
  optOut: string | null;
}

const LANGS: Record<string, Block['lang']> = { js: 'js', javascript: 'js', mjs: 'js', cjs: 'js', ts: 'ts', typescript: 'ts' };

function markdownFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.md'));
  return ['README.md', ...docs.map((name) => path.join('docs', name))].sort();
}

/** The JavaScript and TypeScript blocks of a markdown file (fences of other languages are skipped whole). */
function blocksOf(file: string): Block[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```\s*([\w-]*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    const lang = LANGS[(open[1] ?? '').toLowerCase()];
    if (lang !== undefined) {
      let before = i - 1;
      while (before >= 0 && (lines[before] as string).trim() === '') before--;
      const marker = before >= 0 ? /^<!--\s*not-a-test:\s*(.*?)\s*-->$/.exec((lines[before] as string).trim()) : null;
      const code = lines.slice(i + 1, end).join('\n');
      blocks.push({ id: `${file}:${i + 1}`, lang, esm: lang === 'js' && /^(import|export)\s/m.test(code), code: `${code}\n`, optOut: marker === null ? null : (marker[1] as string) });
    }
    i = end;
  }
  return blocks;
}

const BLOCKS = markdownFiles().flatMap(blocksOf);
const JS_BLOCKS = BLOCKS.filter((b) => b.lang === 'js' && b.optOut === null);
const TS_BLOCKS = BLOCKS.filter((b) => b.lang === 'ts' && b.optOut === null);
const slug = (block: Block): string => block.id.replace(/[^\w]+/g, '-');

/** The consumer project: the packed package (and what the examples also use) installed from it. */
let consumer = '';
const children = new Set<ChildProcess>();

/** npm with the given arguments; output kept for the failure message. */
function npm(args: string[], cwd: string): { status: number | null; output: string } {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const versionOf = (name: string): string => (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(() => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'nla-consumer-'));
  // dist/ is fresh (the jest globalSetup rebuilds it), so packing needs no prepack build here.
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT);
  expect(pack.status).toBe(0);
  const tarball = path.join(scratch, (JSON.parse(pack.output.slice(pack.output.indexOf('['))) as Array<{ filename: string }>)[0]?.filename as string);
  consumer = path.join(scratch, 'consumer');
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'docs-consumer', version: '1.0.0', private: true }));
  // The examples also use pino and split2, as their users would install them. Offline from the
  // npm cache when it has everything, else through it.
  const install = ['install', '--no-audit', '--no-fund', tarball, `pino@${versionOf('pino')}`, `split2@${versionOf('split2')}`];
  let installed = npm([...install, '--offline'], consumer);
  if (installed.status !== 0) installed = npm([...install, '--prefer-offline'], consumer);
  expect({ status: installed.status, output: installed.output }).toMatchObject({ status: 0 });

  const compilerOptions = { strict: true, noEmit: true, target: 'es2022', lib: ['es2022'], types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] };
  writeFileSync(path.join(consumer, 'tsconfig.node16.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'node16', moduleResolution: 'node16' }, include: ['ts'] }));
  writeFileSync(path.join(consumer, 'tsconfig.bundler.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'preserve', moduleResolution: 'bundler' }, include: ['ts'] }));
  mkdirSync(path.join(consumer, 'ts'));
  for (const block of TS_BLOCKS) writeFileSync(path.join(consumer, 'ts', `${slug(block)}.ts`), block.code);
  writeFileSync(path.join(consumer, 'ts', 'types-are-honest.ts'), TYPES_ARE_HONEST);
}, 180_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script with node; resolves when it has exited. */
function runNode(script: string, args: string[], options: { cwd: string; input?: Buffer }): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.on('error', () => undefined); // a script that does not read its input
  child.stdin?.end(options.input ?? Buffer.alloc(0));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (status) => {
      children.delete(child);
      resolve({ status, stdout, stderr });
    }),
  );
  return { child, done };
}

describe('the code blocks of README.md and docs/', () => {
  it('are found, and every one is run, type-checked or opted out with a reason', () => {
    expect(JS_BLOCKS.length).toBeGreaterThan(5);
    expect(TS_BLOCKS.length).toBeGreaterThan(1);
    const optedOut = BLOCKS.filter((b) => b.optOut !== null);
    for (const block of optedOut) expect({ id: block.id, reason: (block.optOut as string).length > 10 }).toEqual({ id: block.id, reason: true });
    expect(optedOut.length).toBeLessThanOrEqual(2); // rare: a fragment is better made whole
  });

  it('CommonJS blocks never use top-level await (it is a SyntaxError there)', () => {
    for (const block of BLOCKS.filter((b) => b.lang === 'js' && !b.esm)) {
      expect({ id: block.id, compiles: compiles(block.code) }).toEqual({ id: block.id, compiles: true });
    }
  });

  it.each(JS_BLOCKS.map((block) => [block.id, block] as const))('%s runs as written against the installed package', async (_id, block) => {
    const file = path.join(consumer, `${slug(block)}.${block.esm ? 'mjs' : 'js'}`);
    writeFileSync(file, block.code);
    // Each reads the log folder named on its command line, or standard input.
    const run = await runNode(file, [SAMPLES], { cwd: consumer, input: readFileSync(path.join(SAMPLES, 'nexus.log')) }).done;
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    if (block.code.includes('console.log')) expect(run.stdout.trim()).not.toBe('');
  }, 30_000);

  it.each(['node16', 'bundler'])('the TypeScript blocks, and the public types, check under strict with %s resolution', (resolution) => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${resolution}.json`], { cwd: consumer, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  }, 60_000);

  it('every name api.md lists under "Other exports" is exported', () => {
    const api = readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');
    const section = api.slice(api.indexOf('## Other exports'));
    const names = [...section.matchAll(/`(\w+)(?:\([^`]*\))?`/g)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(20);
    const installed = path.join(consumer, 'node_modules', 'nexus-log-analyzer');
    const runtime = spawnSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(Object.keys(require("nexus-log-analyzer"))))'], { cwd: consumer, encoding: 'utf8' });
    const values = JSON.parse(runtime.stdout) as string[];
    const declarations = readFileSync(path.join(installed, 'dist', 'index.d.ts'), 'utf8');
    const missing = names.filter((name) => !values.includes(name) && !new RegExp(`\\b${name}\\b`).test(declarations));
    expect(missing).toEqual([]);
  });

  it('relative links point to files that exist', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (match[1] as string).split('#')[0] as string;
        if (target === '' || /^[a-z]+:/.test(target)) continue;
        if (!existsSync(path.join(ROOT, path.dirname(file), target))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** Whether code compiles as a CommonJS module body (what node wraps a .js file in). */
function compiles(code: string): boolean {
  try {
    new Script(`(function (exports, require, module, __filename, __dirname) {\n${code}\n})`);
    return true;
  } catch {
    return false;
  }
}

/** Checked by the type-check above: what the stream and the helpers give is typed, never `any`. */
const TYPES_ARE_HONEST = `
import { analyzeFiles, createAnalyzer, formatImageRef, isDockerPushIncident, type Incident } from 'nexus-log-analyzer';

type IsAny<T> = 0 extends 1 & T ? true : false;
const notAny = <T>(value: T, isAny: IsAny<T>): T => (isAny ? value : value);

const stream = createAnalyzer();
stream.on('data', (incident) => {
  const typed: Incident = notAny(incident, false);
  void typed;
});
stream.once('aborted', (incidents) => void notAny(incidents, false));
const read: Incident | null = notAny(stream.read(), false);
void read;

export async function helpersTakeWhatIncidentsHold(): Promise<string[]> {
  const refs: string[] = [];
  for await (const incident of stream) {
    const typed: Incident = notAny(incident, false);
    if (isDockerPushIncident(typed)) {
      const image: string | null = typed.image;
      refs.push(formatImageRef(image, typed.reference));
    }
  }
  for await (const incident of analyzeFiles('/nexus-data/log')) refs.push(notAny(incident, false).summary);
  return refs;
}
`;

/** `image:tag` (or `image@digest`) of each manifest PUT that samples/nexus.log says was rejected (6). */
function rejectedPuts(): string[] {
  const text = readFileSync(path.join(SAMPLES, 'nexus.log'), 'utf8');
  const refs = [...text.matchAll(/PUT \/v2\/(.+?)\/manifests\/(.+?): /g)].map(([, image, ref]) => `${image}${(ref as string).includes(':') ? '@' : ':'}${ref}`);
  expect(refs).toHaveLength(6);
  return refs;
}

describe('docs/examples, run from the installed package', () => {
  /** Runs an example copied into the consumer (so it requires the installed package), from the repository. */
  async function runExample(name: string, args: string[] = [], input?: Buffer): Promise<string[]> {
    const copy = path.join(consumer, 'examples', name);
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(path.join(ROOT, 'docs', 'examples', name), copy);
    const run = await runNode(copy, args, { cwd: ROOT, ...(input === undefined ? {} : { input }) }).done;
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    return run.stdout.trim().split('\n');
  }

  it('analyze-files.js lists the failed pushes in samples/, one line each', async () => {
    const lines = await runExample('analyze-files.js', ['samples/']);
    expect(lines.every((line) => /^\S+ {2}\S+ {2}\S+ {2}\d+ missing layer\(s\) {2}cause: [a-z-]+$/.test(line))).toBe(true);
    // nexus-seed-excerpt.log: 5 "Manifest refers to missing layer" lines, then the 400 on ctbots-docker.
    expect(lines[0]).toContain('ctbots-docker  ctbots/base/llamafactory:pytorch2.7.1-cu12.8-flashattn2.7.4  5 missing layer(s)');
    // Every rejected manifest PUT of nexus.log is one of them, a push by digest with an @.
    for (const ref of rejectedPuts()) expect(lines.filter((line) => line.includes(`  ${ref}  `))).toHaveLength(1);
  }, 30_000);

  it('transform.js reads stdin and prints each incident, every rejected manifest PUT among them', async () => {
    const log = readFileSync(path.join(SAMPLES, 'nexus.log'));
    const lines = await runExample('transform.js', [], log);
    expect(lines.every((line) => /^\[(matched|window|end-of-input)\] /.test(line))).toBe(true);
    for (const ref of rejectedPuts()) expect(lines.filter((line) => line.startsWith(`[matched] Docker push of ${ref} `))).toHaveLength(1);
  }, 30_000);

  it('embed-analyzer.js forwards incidents and ends with the stats', async () => {
    const lines = await runExample('embed-analyzer.js');
    const stats = JSON.parse(lines[lines.length - 1] as string) as { incidents: number; openGroups: number };
    expect(lines).toHaveLength(stats.incidents + 1);
    expect(stats.openGroups).toBe(0);
  }, 30_000);

  describe('shipper.js', () => {
    /** Resolves once `condition()` holds, looking again whenever an entry of `dir` changes (each checkpoint is a rename). */
    function whenChanged(dir: string, condition: () => boolean): Promise<void> {
      return new Promise((resolve) => {
        const watcher = watch(dir, () => {
          if (condition()) {
            watcher.close();
            resolve();
          }
        });
        if (condition()) {
          watcher.close();
          resolve();
        }
      });
    }

    /**
     * Runs the shipper until its checkpoint has caught up with the whole log and its outbox holds
     * `forwarded` incidents (it forwards on its live clock too, as the analyzer releases them),
     * then stops it with SIGTERM.
     */
    async function runUntilForwarded(log: string, state: string, forwarded: number): Promise<void> {
      const copy = path.join(consumer, 'examples', 'shipper.js');
      mkdirSync(path.dirname(copy), { recursive: true });
      copyFileSync(path.join(ROOT, 'docs', 'examples', 'shipper.js'), copy);
      mkdirSync(state, { recursive: true });
      const done = (): boolean => {
        try {
          const checkpoint = JSON.parse(readFileSync(path.join(state, 'checkpoint.json'), 'utf8')) as { analyzer: { source: { offset: number } } };
          const outbox = readFileSync(path.join(state, 'incidents.ndjson'), 'utf8').split('\n').filter((line) => line !== '');
          return checkpoint.analyzer.source.offset === statSync(log).size && outbox.length >= forwarded;
        } catch {
          return false; // no checkpoint or outbox yet
        }
      };
      const shipper = runNode(copy, [log, state], { cwd: ROOT });
      await Promise.race([whenChanged(state, done), shipper.done.then((run) => Promise.reject(new Error(`the shipper exited early: ${JSON.stringify(run)}`)))]);
      shipper.child.kill('SIGTERM');
      expect(await shipper.done).toEqual({ status: 0, stdout: '', stderr: '' });
    }

    it('forwards every push exactly once across a restart in the middle of a push and a crash after forwarding', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'nla-shipper-'));
      const log = path.join(dir, 'nexus.log');
      const state = path.join(dir, 'state');
      writeFileSync(
        log,
        [
          missingLayerLine('2025-07-01 10:00:00,000+0000', 'a1', 'first/app', '1', { thread: 't1' }),
          rejectionLine('2025-07-01 10:00:00,004+0000', 'first/app', '1', { thread: 't1' }),
          missingLayerLine('2025-07-01 10:00:01,000+0000', 'b1', 'straddles/app', '1', { thread: 't2' }),
          '',
        ].join('\n'),
      );
      await runUntilForwarded(log, state, 1);
      const outbox = path.join(state, 'incidents.ndjson');
      expect(readFileSync(outbox, 'utf8').trim().split('\n')).toHaveLength(1);

      // A crash after forwarding but before checkpointing leaves an extra line: the restart cuts it.
      appendFileSync(outbox, '{"half":"forwarded"}\n');
      appendFileSync(
        log,
        [
          rejectionLine('2025-07-01 10:00:01,004+0000', 'straddles/app', '1', { thread: 't2' }),
          missingLayerLine('2025-07-01 10:00:02,000+0000', 'c1', 'third/app', '1', { thread: 't3' }),
          rejectionLine('2025-07-01 10:00:02,004+0000', 'third/app', '1', { thread: 't3' }),
          infoLine('2025-07-01 10:00:03,000+0000', 'quiet'),
          '',
        ].join('\n'),
      );
      await runUntilForwarded(log, state, 3);
      const incidents = readFileSync(outbox, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { image: string; closeReason: string; evidence: unknown[] });
      expect(incidents.map((i) => [i.image, i.closeReason, i.evidence.length])).toEqual([
        ['first/app', 'matched', 2],
        ['straddles/app', 'matched', 2],
        ['third/app', 'matched', 2],
      ]);
    }, 60_000);
  });
});
