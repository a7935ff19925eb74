/**
 * A newcomer's first runs of the built CLI (issue 15): links they can open, colour as chalk and
 * ripgrep users expect, every option checked before any input is read, one error prefix.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI, parseNdjson, ROOT, runCli } from '../support/helpers';

const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PUBLISHED = `https://unpkg.com/nexus-log-analyzer@${version}/`;
const SEED = path.join('samples', 'nexus-seed-excerpt.log');
const COLOUR = /\u001b\[[0-9;]*m/;

/** Pages the fleet work (issue 14) links to and has not written yet: remove each once it exists. */
const PENDING_PAGES = ['docs/fleet.md', 'docs/metrics.md'];

/**
 * Every mention of a docs page in some text, each checked: a published address of this version
 * (or an absolute path into the installed package), and a page the package ships.
 */
function docsLinks(text: string): string[] {
  const links = [...text.matchAll(/\S*docs\/[\w./-]*\w/g)].map((m) => m[0].replace(/^\(/, ''));
  for (const link of links) {
    const file = link.startsWith(PUBLISHED) ? link.slice(PUBLISHED.length) : link.startsWith(ROOT) ? path.relative(ROOT, link) : null;
    expect({ link, form: file === null ? 'repository-relative: an npm user has no such file' : 'ok' }).toEqual({ link, form: 'ok' });
    if (file !== null && !PENDING_PAGES.includes(file)) expect({ link, shipped: existsSync(path.join(ROOT, file)) }).toEqual({ link, shipped: true });
  }
  return links;
}

/** Runs the CLI with stdin left open: it ends only if the CLI exits without reading its input. */
function runWithOpenStdin(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('links a user can open', () => {
  it('--help points to published pages of this version, never to repository paths', () => {
    const help = runCli(['--help']).stdout;
    expect(docsLinks(help)).toEqual(expect.arrayContaining([`${PUBLISHED}docs/incidents.md`, `${PUBLISHED}docs/cli.md`, `${PUBLISHED}docs/rules/custom-rules.md`]));
    docsLinks(runCli(['fleet', '--help']).stdout);
  });

  it('--list-rules gives each rule page as the installed file or its published address', () => {
    const run = runCli(['--list-rules']);
    expect(run.status).toBe(0);
    const pages = [...run.stdout.matchAll(/ {2}page: (\S+)/g)].map((m) => m[1] as string);
    expect(pages.length).toBeGreaterThan(10);
    expect(docsLinks(pages.join('\n'))).toHaveLength(pages.length);
    docsLinks(run.stdout);
  });

  it('warnings and incidents link to published pages', () => {
    const notALog = runCli(['-'], { input: 'hello\nworld\n' });
    expect(notALog.stderr).toContain(`${PUBLISHED}docs/architecture.md`);
    docsLinks(notALog.stderr);
    const incidents = parseNdjson(runCli(['samples/']).stdout);
    expect(incidents.length).toBeGreaterThan(0);
    for (const incident of incidents) expect(docsLinks(incident.docs)).toHaveLength(1);
  });

  it('package.json names a homepage, bugs and repository, and runs no script at install', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & { scripts: Record<string, string> };
    expect(pkg.homepage).toMatch(/^https:\/\/unpkg\.com\/nexus-log-analyzer\//);
    expect(pkg.bugs).toBeDefined();
    expect(pkg.repository).toBeDefined();
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[hook]).toBeUndefined();
    expect(pkg.scripts.prepack).toContain('build');
  });
});

describe('colour: the flag, then FORCE_COLOR, then NO_COLOR, then a terminal', () => {
  const pretty = (env: NodeJS.ProcessEnv, flags: string[] = []): string => runCli(['--format', 'pretty', ...flags, SEED], { env }).stdout;

  it('FORCE_COLOR colours a pipe, FORCE_COLOR=0 does not', () => {
    expect(pretty({ NO_COLOR: undefined, FORCE_COLOR: '1' })).toMatch(COLOUR);
    expect(pretty({ NO_COLOR: undefined, FORCE_COLOR: '0' })).not.toMatch(COLOUR);
    expect(pretty({ NO_COLOR: undefined, FORCE_COLOR: undefined })).not.toMatch(COLOUR); // a pipe
  });

  it('the flags win over the environment', () => {
    expect(pretty({ NO_COLOR: '1' }, ['--color'])).toMatch(COLOUR);
    expect(pretty({ NO_COLOR: undefined, FORCE_COLOR: '1' }, ['--no-color'])).not.toMatch(COLOUR);
    expect(pretty({ NO_COLOR: '1' })).not.toMatch(COLOUR);
  });
});

describe('options are checked before any input is read (stdin stays open: reading it would never end)', () => {
  it('a report path that cannot be written', async () => {
    const run = await runWithOpenStdin(['--report', '/nonexistent/dir/report.html', '--fail-on', 'info', '-']);
    expect(run).toEqual({ status: 2, stdout: '', stderr: 'nexus-log-analyzer: error: --report /nonexistent/dir/report.html: its folder does not exist\n' });
  });

  it('a report path that is a folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-newcomer-'));
    const run = await runWithOpenStdin(['--report', dir, '-']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`nexus-log-analyzer: error: --report ${dir}: is a directory; give a file name, e.g. ${path.join(dir, 'report.html')}\n`);
  });

  it('--since later than --until', async () => {
    const run = await runWithOpenStdin(['--since', '2025-09-11T00:00:00Z', '--until', '2025-09-10T00:00:00Z', '-']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('nexus-log-analyzer: error: --since (2025-09-11T00:00:00.000Z) must be before --until (2025-09-10T00:00:00.000Z): nothing could match\n');
  });

  it('--help says that times without an offset are local', () => {
    expect(runCli(['--help']).stdout).toContain('an ISO date or time is local time unless it has an offset');
  });
});

describe('one error prefix', () => {
  it.each([
    [['--bogus'], "nexus-log-analyzer: error: unknown option '--bogus'"],
    [['--window', 'abc'], "nexus-log-analyzer: error: option '-w, --window <ms>' argument 'abc' is invalid. --window must be a positive whole number, got 'abc'"],
    [['no/such/nexus.log'], 'nexus-log-analyzer: error: no/such/nexus.log: no such file or directory'],
    [['--from-start', SEED], 'nexus-log-analyzer: error: --from-start goes with --follow'],
  ])('%j', (args, first) => {
    const run = runCli(args);
    expect(run.status).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(first);
  });
});
