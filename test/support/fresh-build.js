'use strict';
/**
 * jest globalSetup: the CLI, worker and packed-package tests run the built dist/, so a jest run
 * on a dist/ older than src/ would test old code and pass or fail for the wrong reason. When any
 * src/ file is newer than its build (or has none), this rebuilds before any test runs, and a
 * build that fails stops the run with the compiler's message. `npm test` builds first anyway.
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');

/** src/ files (relative) whose dist/ .js is missing or older than them, or than a tsconfig. */
function staleSources() {
  const configTime = Math.max(...['tsconfig.json', 'tsconfig.build.json'].map((name) => fs.statSync(path.join(ROOT, name)).mtimeMs));
  const stale = [];
  for (const entry of fs.readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const source = path.join(entry.parentPath ?? entry.path, entry.name);
    const relative = path.relative(SRC, source);
    let built;
    try {
      built = fs.statSync(path.join(DIST, relative.replace(/\.ts$/, '.js'))).mtimeMs;
    } catch {
      stale.push(relative);
      continue;
    }
    if (built < fs.statSync(source).mtimeMs || built < configTime) stale.push(relative);
  }
  return stale;
}

module.exports = function freshBuild() {
  const stale = staleSources();
  if (stale.length === 0) return;
  const shown = stale.slice(0, 3).join(', ') + (stale.length > 3 ? ` and ${stale.length - 3} more` : '');
  process.stderr.write(`\ndist/ is older than src/ (${shown}): building (tsc -p tsconfig.build.json) before the tests\n`);
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    throw new Error(`the build failed, so the tests would run an old dist/:\n${error.stdout || ''}${error.stderr || ''}${error.stdout || error.stderr ? '' : error.message}`);
  }
};
