/**
 * The library's promises under hostile use (issue 12): a checkpoint is checked whole before it
 * is trusted, a snapshot stays bounded by the options whatever the lines hold, over-cap lines do
 * not make results depend on chunking, a rule's bug is named as such, and a run waiting on a
 * FIFO with no writer still ends on SIGTERM with what it found.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Analyzer, type AnalyzerSnapshot } from '../../src/analyzer';
import { analyzeFiles } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { RuleError, type Rule } from '../../src/rules/rule';
import { CheckpointError } from '../../src/snapshot-validation';
import { analyze, CLI, infoLine, missingLayerLine, parseNdjson, rejectionLine, ROOT, runCli } from '../support/helpers';

const TS = (ms: number): string => `2025-03-01 10:00:${String(Math.floor(ms / 1000)).padStart(2, '0')},${String(ms % 1000).padStart(3, '0')}+0000`;

function openPushSnapshot(): AnalyzerSnapshot {
  const analyzer = new Analyzer();
  analyzer.write(`${missingLayerLine(TS(0), 'l1', 'team/app', '1')}\n${infoLine(TS(5000), 'later')}\n`);
  return JSON.parse(JSON.stringify(analyzer.snapshot())) as AnalyzerSnapshot;
}

function refusal(change: (snapshot: Record<string, any>) => void): CheckpointError {
  const snapshot = openPushSnapshot() as unknown as Record<string, any>;
  change(snapshot);
  try {
    Analyzer.restore(snapshot as unknown as AnalyzerSnapshot);
  } catch (error) {
    return error as CheckpointError;
  }
  throw new Error('restore accepted a damaged checkpoint');
}

describe('restore() checks the whole checkpoint', () => {
  it('a good one goes on where it was', () => {
    const restored = Analyzer.restore(openPushSnapshot());
    restored.write(`${rejectionLine(TS(5001), 'team/app', '1')}\n`);
    expect(restored.end().filter((i) => i.rule === 'docker-manifest-missing-layers').map((i) => i.closeReason)).toEqual(['matched']);
  });

  it.each([
    ['a clock of "abc"', (s: Record<string, any>) => (s.time.clocks[0].frontier = 'abc'), /^checkpoint\.time\.clocks\[0\]\.frontier$/],
    ['an offset of "abc"', (s: Record<string, any>) => (s.source.offset = 'abc'), /^checkpoint\.source\.offset$/],
    ['no engine', (s: Record<string, any>) => delete s.engine, /^checkpoint\.engine$/],
    ['a negative line number', (s: Record<string, any>) => (s.source.state.splitter.nextLineNumber = -3), /^checkpoint\.source\.state\.splitter\.nextLineNumber$/],
    ['another version', (s: Record<string, any>) => (s.version = 1), /^checkpoint\.version$/],
  ])('refuses %s with an error naming the field', (_what, change, field) => {
    const error = refusal(change);
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.field).toMatch(field);
    expect(error.message).toContain(error.field);
  });

  it('refuses a cut-down open group instead of failing later in end()', () => {
    const analyzer = new Analyzer();
    analyzer.write(`${missingLayerLine(TS(0), 'l1', 'team/app', '1')}\n${infoLine(TS(5000), 'later')}\n`);
    analyzer.flushPendingEvent(); // the push reaches the engine: an open group
    const snapshot = JSON.parse(JSON.stringify(analyzer.snapshot())) as Record<string, any>;
    expect(snapshot.engine.groups.length).toBeGreaterThan(0);
    for (const field of ['firstTime', 'count', 'state', 'key']) {
      const cut = JSON.parse(JSON.stringify(snapshot)) as Record<string, any>;
      delete cut.engine.groups[0][field];
      expect(() => Analyzer.restore(cut as unknown as AnalyzerSnapshot)).toThrow(CheckpointError);
    }
  });
});

describe('snapshots are bounded by the options, not by the lines', () => {
  it('200 open pushes each holding a 200 KB line: bounded by the reorder buffer and maxOpenBytes, and serializes', () => {
    const budget = 8 * 1024 * 1024;
    const analyzer = new Analyzer({ maxEvidenceChars: 2048, maxOpenBytes: budget });
    const long = 'x'.repeat(200_000);
    const found: Incident[] = [];
    for (let i = 0; i < 200; i++) {
      found.push(...analyzer.write(`${missingLayerLine(TS(i), `l${i}`, `team/app${i}`, '1', { thread: `t${i}`, repository: `docker-hosted-${long}` })}\n`));
    }
    // Held for ordering, lines are whole, but the buffer holds at most 4 Mi characters of them
    // (text and message: twice that in JSON).
    expect(JSON.stringify(analyzer.snapshot()).length).toBeLessThan(2 * 4 * 1024 * 1024 + 2 * budget);
    // Handed on to the rules, evidence is cut, and what a rule keeps of a line (here the
    // repository name) counts against maxOpenBytes: past it the oldest push is reported early.
    found.push(...analyzer.flushPendingEvent());
    expect(JSON.stringify(analyzer.snapshot()).length).toBeLessThan(2 * budget);
    const incidents = [...found, ...analyzer.end()].filter((i) => i.rule === 'docker-manifest-missing-layers');
    expect(incidents).toHaveLength(200); // none lost: some reported early (evicted), the rest at the end
    expect(new Set(incidents.map((i) => i.closeReason))).toEqual(new Set(['evicted', 'end-of-input']));
    expect(incidents[0]?.evidence[0]?.length).toBeGreaterThan(200_000); // the line as logged, though only 16 KiB was decoded
    expect(incidents[0]?.evidence[0]?.text.length).toBe(2048);
  });
});

describe('over-cap lines', () => {
  it('give the same incidents in any chunking with a small maxLineBytes (property)', () => {
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) {
      lines.push(missingLayerLine(TS(i * 10), `a${i}`, `img${i}`, '1', { thread: `t${i}` }));
      lines.push(`${TS(i * 10 + 1)} INFO  [t9] *SYSTEM org.example.Noise - ${'n'.repeat(150 + i * 37)}`); // over the cap
      lines.push(missingLayerLine(TS(i * 10 + 2), `b${i}`, `img${i}`, '1', { thread: `t${i}`, repository: `r${'y'.repeat(i * 40)}` }));
      lines.push(rejectionLine(TS(i * 10 + 3), `img${i}`, '1', { thread: `t${i}` }));
    }
    const bytes = Buffer.from(`${lines.join('\r\n')}\n`);
    const options = { maxLineBytes: 300 };
    const whole = analyze(bytes, options);
    expect(whole.filter((i) => i.rule === 'docker-manifest-missing-layers').length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 60 }), (sizes) => {
        expect(analyze(bytes, options, sizes)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});

describe('a bug in a rule', () => {
  const throwing: Rule<string, null> = {
    id: 'throws-on-purpose',
    title: 'a rule with a bug',
    severity: 'info',
    category: 'custom',
    reads: [{ levels: ['ERROR'], literals: ['Manifest refers'] }],
    windowMs: 1000,
    match: () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    },
    key: () => '',
    open: () => null,
    add: () => false,
    describe: () => null,
  };

  it('surfaces from analyzeFiles as a RuleError naming the rule, not as an unreadable input', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'nla-rule-bug-')), 'nexus.log');
    writeFileSync(file, `${missingLayerLine(TS(0), 'l1', 'team/app', '1')}\n`);
    const inputErrors: unknown[] = [];
    const run = async () => {
      for await (const _incident of analyzeFiles(file, { rules: [throwing], jobs: 1, onInputError: (e) => void inputErrors.push(e) }));
    };
    await expect(run()).rejects.toThrow(RuleError);
    await expect(run()).rejects.toThrow(/rule throws-on-purpose failed in match/);
    expect(inputErrors).toEqual([]);
  });

  it('ends the CLI with exit 70 and one line naming the rule (a JavaScript rule module)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-rule-module-'));
    const module = path.join(dir, 'throwing-rule.js');
    writeFileSync(
      module,
      `module.exports = { id: 'throws-on-purpose', title: 'a rule with a bug', severity: 'info', category: 'custom',
  reads: [{ levels: ['ERROR'], literals: ['Manifest refers'] }], windowMs: 1000,
  match() { throw new TypeError('boom'); }, key: () => '', open: () => null, add: () => false, describe: () => null };\n`,
    );
    const log = path.join(dir, 'nexus.log');
    writeFileSync(log, `${missingLayerLine(TS(0), 'l1', 'team/app', '1')}\n`);
    const run = runCli(['--rules', module, log]);
    expect(run.status).toBe(70);
    expect(run.stderr).toMatch(/rule throws-on-purpose failed in match: boom/);
    expect(run.stderr).not.toMatch(/cannot read|unreadable|permission/i);
  });

  it('a rules module that is not a rule is refused before reading, naming what is missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-rule-module-bad-'));
    const module = path.join(dir, 'not-a-rule.js');
    writeFileSync(module, "module.exports = { id: 'half', title: 'half a rule' };\n");
    const run = runCli(['--rules', module, path.join(ROOT, 'samples', 'nexus.log')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/rule half: missing severity, category, reads, windowMs, match, key, open, add, describe/);
  });
});

describe('rules modules that throw what is not an Error', () => {
  it('throw null at load, or an id getter that throws: exit 2 naming the file, no stack trace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-rule-module-throws-'));
    const nullModule = path.join(dir, 'throws-null.js');
    writeFileSync(nullModule, 'throw null;\n');
    const getter = path.join(dir, 'id-getter.js');
    writeFileSync(getter, "module.exports = { get id() { throw 'no id today'; } };\n");
    for (const [module, said] of [[nullModule, /cannot load the rules module: null/], [getter, /cannot read the rules module: no id today/]] as const) {
      const run = runCli(['--rules', module, path.join(ROOT, 'samples', 'nexus.log')]);
      expect([run.status, run.stderr]).toEqual([2, expect.stringMatching(said)]);
      expect(run.stderr).toContain(module);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    }
  });
});

describe('SIGTERM while waiting on a FIFO with no writer', () => {
  it('ends the run and reports the push still open from the file read before', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-fifo-term-'));
    const fifo = path.join(dir, 'pipe');
    const mk = spawn('mkfifo', [fifo]);
    await new Promise((resolve) => mk.on('close', resolve));
    const log = path.join(dir, 'nexus.log');
    writeFileSync(log, `${missingLayerLine(TS(0), 'l1', 'open/app', '1')}\n`);
    const child = spawn(process.execPath, [CLI, '--ready', log, fifo], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Observable readiness: the CLI says when it starts reading the FIFO (the file before it is read).
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes(`ready: reading ${fifo}`)) resolve();
      }),
    );
    child.kill('SIGTERM');
    const code = await closed;
    expect([code, stderr]).toEqual([0, expect.any(String)]);
    const pushes = parseNdjson(stdout).filter((i) => i.rule === 'docker-manifest-missing-layers') as unknown as Array<{ image: string; closeReason: string }>;
    expect(pushes.map((i) => [i.image, i.closeReason])).toEqual([['open/app', 'shutdown']]);
  }, 60_000);
});

describe('SIGTERM with --follow on a FIFO that has no writer', () => {
  it('is ready (no blocking look at the FIFO for a zip header) and ends on the signal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-follow-fifo-'));
    const fifo = path.join(dir, 'nexus.log');
    const mk = spawn('mkfifo', [fifo]);
    await new Promise((resolve) => mk.on('close', resolve));
    const child = spawn(process.execPath, [CLI, '--follow', '--ready', fifo], { cwd: ROOT });
    let stderr = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/^ready:/m.test(stderr)) resolve();
      }),
    );
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
  }, 60_000);
});
