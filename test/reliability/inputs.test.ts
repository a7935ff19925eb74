/** Inputs that are not plain readable files: each gets a clear answer naming it, and nothing found is lost. */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { resolveInputs } from '../../src/source/resolve-inputs';
import { CLI, parseNdjson, ROOT, runCli, SAMPLES } from '../support/helpers';

const SEED = readFileSync(path.join(SAMPLES, 'nexus-seed-excerpt.log'));
const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'nla-inputs-'));

describe('inputs', () => {
  it('a FIFO is read as a stream', async () => {
    const fifo = path.join(tempDir(), 'nexus.log');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [CLI, fifo], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await fsp.writeFile(fifo, SEED); // blocks until the CLI opens the FIFO, closes it after writing
    expect(await closed).toBe(0);
    expect(parseNdjson(stdout).map((i) => i.evidence[0]?.source)).toEqual([fifo]);
  });

  it('a directory given where a file was expected: its nexus*.log* files, or a clear error', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'nexus.log.d')); // a directory that matches the pattern is not a file
    writeFileSync(path.join(dir, 'nexus.log'), SEED);
    expect(parseNdjson(runCli([dir]).stdout)).toHaveLength(1);
    const empty = tempDir();
    const run = runCli([empty]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`nexus-log-analyzer: error: ${empty}: directory has no Nexus log files (nexus*.log*, request*.log*, audit*.log*, tasks/*.log, support-*.zip)\n`);
  });

  it('a file without read permission is named with "permission denied"', async () => {
    const file = path.join(tempDir(), 'nexus.log');
    writeFileSync(file, SEED);
    chmodSync(file, 0o000);
    const access = jest.spyOn(fsp, 'access');
    if (process.getuid?.() === 0) {
      // root reads anything: make access() answer as it would for anyone else
      access.mockRejectedValueOnce(Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    }
    await expect(resolveInputs([file])).rejects.toThrow(`${file}: permission denied`);
    access.mockRestore();
  });

  it('a .gz corrupted in the middle (not just cut short) is named as corrupt; the other files are still read', () => {
    const dir = tempDir();
    const gz = gzipSync(Buffer.from(Array.from({ length: 20_000 }, (_, i) => `2025-01-01 10:00:00,000+0000 INFO  [t]  *SYSTEM a.B - line ${i}`).join('\n')));
    for (let at = 200; at < 260; at++) gz[at] = (gz[at] as number) ^ 0xff;
    writeFileSync(path.join(dir, 'nexus-2025-01-01.log.gz'), gz);
    writeFileSync(path.join(dir, 'nexus.log'), SEED);
    const run = runCli([dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/nexus-2025-01-01\.log\.gz: (corrupt gzip data|invalid|incorrect)/);
    expect(parseNdjson(run.stdout)).toHaveLength(1);
  });

  it('a missing file among good ones stops before any output, naming it', () => {
    const run = runCli([path.join(SAMPLES, 'nexus.log'), 'gone.log']);
    expect([run.status, run.stdout, run.stderr]).toEqual([2, '', 'nexus-log-analyzer: error: gone.log: no such file or directory\n']);
  });
});
