'use strict';
/** Rules cannot hang the process, and a rule's bug is reported as one. */
const fs = require('node:fs');
const path = require('node:path');
const { cli, run, scratch } = require('../harness');
const { basics, driverCase, reasonOf } = require('../checks');
const L = require('../lines');

const REDOS_RULES = `- id: redos-probe
  title: Catastrophic backtracking probe
  severity: warning
  kind: single
  levels: [ERROR]
  prefilter: ["aaaa"]
  match:
    message: "(a+)+$"
  summary: "A line of a's ({count})"
  diagnosis:
    cause: redos-probe
    explanation: "The message is only a's."
    confidence: low
    remediation: ["None."]
`;

const THROWING_RULE = `'use strict';
// A rule with a bug: it throws on the first line it is given.
module.exports = {
  id: 'throwing-rule',
  title: 'Throws on purpose',
  severity: 'warning',
  category: 'custom',
  reads: [{ levels: ['WARN'], loggers: ['V2Handlers'], literals: ['Invalid Manifest'] }],
  windowMs: 1000,
  match() { throw new TypeError('boom: a bug in the rule'); },
  key() { return 'k'; },
  open() { return {}; },
  add() { return true; },
  describe() { return null; },
};
`;

function errorLine(ms, message) {
  return `${L.header(L.ts(ms), 'ERROR', 'qtp6-1', 'org.sonatype.nexus.hostile.Probe')} - ${message}`;
}

const cases = [
  {
    id: '06',
    name: "custom rule regex (a+)+$ on lines of a's then '!' (48 a's to 1 MiB)",
    async run() {
      const dir = scratch('redos');
      const rulesFile = path.join(dir, 'rules.yaml');
      fs.writeFileSync(rulesFile, REDOS_RULES);
      const file = path.join(dir, 'nexus.log');
      const lines = [48, 64, 5000, 1024 * 1024 - 200].map((n, i) => errorLine(i * 1000, `${'a'.repeat(n)}!`));
      lines.push(errorLine(10_000, 'aaaaaaaa')); // ends in a's: the one line the pattern matches
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const result = await run(cli('--rules', rulesFile, file), { memMB: 1024, timeMs: 30_000 });
      const probes = L.parseIncidents(result.stdout.lines).filter((i) => i.rule === 'redos-probe');
      const rejected = result.code === 2 && /redos-probe/.test(result.stderr.lines.join('\n'));
      const reason = rejected ? reasonOf(basics(result, { code: 2 })) : reasonOf(basics(result), probes.length === 1 ? null : `${probes.length} probe incidents, wanted 1 (the line that ends in a's)`);
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason, note: rejected ? 'rejected at load' : 'completed (RE2)' };
    },
  },
  {
    id: '06b',
    name: 'custom rule regex with a backreference (a)\\1: rejected at load naming it',
    async run() {
      const dir = scratch('backref');
      const rulesFile = path.join(dir, 'rules.yaml');
      fs.writeFileSync(rulesFile, REDOS_RULES.replace('"(a+)+$"', '"(a)\\\\1"'));
      const file = path.join(dir, 'nexus.log');
      fs.writeFileSync(file, `${errorLine(0, 'aaaa')}\n`);
      const result = await run(cli('--rules', rulesFile, file), { memMB: 512, timeMs: 30_000 });
      const stderr = result.stderr.lines.join('\n');
      const named = /redos-probe/.test(stderr) && /backreference|\\1|RE2/i.test(stderr);
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result, { code: 2 }), named ? null : `stderr does not name the rule and construct: ${stderr.slice(0, 200)}`), note: stderr.split('\n')[0]?.slice(0, 110) };
    },
  },
  // The driver builds 0.8 GB of lines in its own process: 300 MB.
  driverCase('07', "library: every built-in rule's reads on 486 KB adversarial messages", 'builtin-patterns', [String(486 * 1024), '1000'], { timeMs: 180_000, rssMB: 300 }),
  {
    id: '07b',
    name: 'proxy fetch failures with 486 KB status lines (CLI)',
    async run() {
      const dir = scratch('proxy');
      const file = path.join(dir, 'nexus.log');
      const head = (ms) => L.header(L.ts(ms), 'WARN', 'qtp7-9', 'org.sonatype.nexus.repository.maven.internal.proxy.MavenProxyFacet');
      const size = 486 * 1024;
      const start = 'Exception java.io.IOException: remote broke checking remote for update, proxy repo maven-central failed to fetch /org/a/b.pom with status line ';
      const bodies = [' with status line , '.repeat(size / 20), 'HTTP/1.1 502 Bad Gateway <html>'.padEnd(size, ' ,'), ', '.repeat(size / 2)];
      const lines = bodies.map((body, i) => `${head(i * 1000)} - ${start}${body}${i === 0 ? '' : ', content not in cache.'}`);
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const result = await run(cli(file), { memMB: 1024, timeMs: 30_000 });
      const proxy = L.parseIncidents(result.stdout.lines).filter((i) => i.rule === 'proxy-remote-unavailable');
      const counted = proxy.reduce((n, i) => n + i.count, 0);
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result), counted === lines.length ? null : `${counted} of ${lines.length} fetch failures counted`) };
    },
  },
  {
    id: '24',
    name: 'a rule module that throws: exit 70 naming the rule, not an input error',
    async run() {
      const dir = scratch('throwing');
      const ruleFile = path.join(dir, 'throwing-rule.js');
      fs.writeFileSync(ruleFile, THROWING_RULE);
      const file = path.join(dir, 'nexus.log');
      fs.writeFileSync(file, `${L.push(1, 0).lines.join('\n')}\n`);
      const result = await run(cli('--rules', ruleFile, file), { memMB: 512, timeMs: 30_000 });
      const stderr = result.stderr.lines.join('\n');
      const problems = [];
      if (!stderr.includes('throwing-rule')) problems.push(`stderr does not name the rule: ${stderr.slice(0, 160)}`);
      if (/cannot read|not readable|unreadable|permission/i.test(stderr)) problems.push('reported as an input error');
      fs.rmSync(dir, { recursive: true, force: true });
      return { result, reason: reasonOf(basics(result, { code: 70 }), problems), note: stderr.split('\n')[0]?.slice(0, 110) };
    },
  },
];

module.exports = { cases };
