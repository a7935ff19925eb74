import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import { Analyzer, type AnalyzerOptions } from '../../src/analyzer';
import type { Incident } from '../../src/incidents/incident';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SAMPLES = path.join(ROOT, 'samples');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const CLI = path.join(ROOT, 'bin', 'nexus-log-analyzer.js');

/** All incidents for some log text (or bytes), written as chunks of the given sizes. */
export function analyze(input: string | Buffer, options: AnalyzerOptions = {}, chunkSizes?: readonly number[]): Incident[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const analyzer = new Analyzer(options);
  const out: Incident[] = [];
  if (chunkSizes === undefined || chunkSizes.length === 0) out.push(...analyzer.write(bytes));
  else {
    let at = 0;
    let i = 0;
    while (at < bytes.length) {
      const size = Math.max(1, chunkSizes[i++ % chunkSizes.length] as number);
      out.push(...analyzer.write(bytes.subarray(at, at + size)));
      at += size;
    }
  }
  out.push(...analyzer.end());
  return out;
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/, made by `npm test`'s build step). */
export function runCli(args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliRun {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], {
    input: options.input ?? '',
    encoding: 'utf8',
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function parseNdjson(text: string): Incident[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Incident);
}

const DS = 'org.sonatype.nexus.repository.docker.internal.datastore.recipe.V2ManifestUtilImpl';
const V2 = 'org.sonatype.nexus.repository.docker.internal.V2Handlers';

/** A 64-hex digest made from a name, so tests read well. */
export function digest(name: string): string {
  let hex = '';
  for (let i = 0; hex.length < 64; i++) hex += ((name.charCodeAt(i % name.length) * 31 + i * 7) % 256).toString(16).padStart(2, '0');
  return `sha256:${hex.slice(0, 64)}`;
}

export interface LineOptions {
  thread?: string;
  user?: string;
  node?: string;
  repository?: string;
  logger?: string;
}

function prefix(ts: string, level: string, o: LineOptions): string {
  const node = o.node ?? '';
  return `${ts} ${level.padEnd(5)} [${o.thread ?? 'qtp1-1'}] ${node} ${o.user ?? 'ci'}`;
}

export function missingLayerLine(ts: string, layer: string, image: string, tag: string, o: LineOptions = {}): string {
  return (
    `${prefix(ts, 'ERROR', o)} ${o.logger ?? DS} - Manifest refers to missing layer: ${digest(layer)} for: ${image}/${tag} ` +
    `in repository RepositoryImpl$$EnhancerByGuice$$2e20a720{type=hosted, format=docker, name='${o.repository ?? 'docker-hosted'}'}`
  );
}

export function rejectionLine(ts: string, image: string, reference: string, o: LineOptions = {}): string {
  return `${prefix(ts, 'WARN', o)} ${V2} - Error: PUT /v2/${image}/manifests/${reference}: 400 - org.sonatype.nexus.repository.docker.internal.V2Exception: Invalid Manifest`;
}

export function infoLine(ts: string, message: string, o: LineOptions = {}): string {
  return `${prefix(ts, 'INFO', o)} org.sonatype.nexus.Something - ${message}`;
}
