/** The runnable examples in docs/examples/ run, against the built package, and say what the docs say. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, SAMPLES } from './support/helpers';

function runExample(name: string, args: string[] = [], input?: Buffer): string[] {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'docs', 'examples', name), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.trim().split('\n');
}

describe('docs/examples', () => {
  it('analyze-files.js lists every failed push in samples/', () => {
    const lines = runExample('analyze-files.js', ['samples/']);
    expect(lines).toHaveLength(11);
    expect(lines[0]).toContain('ctbots-docker  ctbots/base/llamafactory:pytorch2.7.1-cu12.8-flashattn2.7.4  5 missing layer(s)');
    expect(lines.some((line) => line.includes('staging-validation@sha256:'))).toBe(true);
  });

  it('transform.js reads stdin and prints each incident', () => {
    const lines = runExample('transform.js', [], readFileSync(path.join(SAMPLES, 'nexus.log')));
    expect(lines).toHaveLength(7); // 6 pushes, plus the 400 whose burst is in the rotated .gz
    expect(lines.every((line) => /^\[(matched|window|end-of-input)\] /.test(line))).toBe(true);
  });

  it('embed-analyzer.js forwards incidents and ends with the stats', () => {
    const lines = runExample('embed-analyzer.js');
    const stats = JSON.parse(lines[lines.length - 1] as string) as { incidents: number; openGroups: number };
    expect(lines).toHaveLength(stats.incidents + 1);
    expect(stats.openGroups).toBe(0);
  });
});
