/**
 * The folder layout is the pipeline (docs/architecture.md): source -> lines -> events -> rules ->
 * incidents -> outputs, then the wiring (analyzer, api, cli with its fleet commands). A module
 * imports only from its own stage or an earlier one, and no modules import each other in a loop.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './support/helpers';

const SRC = path.join(ROOT, 'src');
/** Stage of each top-level name under src/; a leaf module any stage may use comes first. */
const STAGE: Record<string, number> = {
  'format-number': 0,
  source: 1,
  lines: 2,
  events: 3,
  rules: 4,
  incidents: 5,
  outputs: 6,
  'snapshot-validation': 7,
  analyzer: 7,
  api: 8,
  fleet: 9,
  cli: 9,
  index: 10,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of a file, resolved to files; type-only imports flagged (they vanish at run time). */
function importsOf(file: string): Array<{ target: string; typeOnly: boolean }> {
  const text = readFileSync(file, 'utf8');
  const found: Array<{ target: string; typeOnly: boolean }> = [];
  const pattern = /(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|require\('(\.[^']+)'\)|import\('(\.[^']+)'\)/g;
  for (const match of text.matchAll(pattern)) {
    const spec = (match[3] ?? match[4] ?? match[5]) as string;
    let target = path.resolve(path.dirname(file), spec);
    if (!target.endsWith('.ts')) target = readdirSafe(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts');
    found.push({ target, typeOnly: match[2] !== undefined });
  }
  return found;
}

function readdirSafe(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}

const stageOf = (file: string): string => (path.relative(SRC, file).split(path.sep)[0] as string).replace(/\.ts$/, '');

describe('the source layout', () => {
  const files = sourceFiles(SRC);

  it('puts every module in a known stage', () => {
    expect(files.map(stageOf).filter((stage) => STAGE[stage] === undefined)).toEqual([]);
  });

  it('imports only from the same stage or an earlier one', () => {
    const against: string[] = [];
    for (const file of files) {
      for (const { target } of importsOf(file)) {
        if ((STAGE[stageOf(target)] as number) > (STAGE[stageOf(file)] as number)) against.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, target)}`);
      }
    }
    expect(against).toEqual([]);
  });

  it('has no import cycles between modules', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file).filter((i) => !i.typeOnly).map((i) => i.target)]));
    const cycles: string[] = [];
    const state = new Map<string, 'active' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'active') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' -> '));
        return;
      }
      state.set(file, 'active');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
