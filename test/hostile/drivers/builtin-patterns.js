'use strict';
/**
 * Library: every built-in rule's reads, on long adversarial messages. For each read spec and
 * literal, lines that pass the rule's prefilter (level, logger, literal, input kind) carry a
 * message of `bytes` bytes built to make backtracking patterns work hard: runs of the
 * separators the rules' messages use, the literal repeated, and one long run of a word
 * character, with the literal at the start, at the end, and (for stack-trace reads) in an
 * exception line. Each line is written and flushed on its own and timed; one line taking more
 * than `perLineMs` is a finding (a linear pass over 0.5 MB takes a few milliseconds).
 *
 *   node builtin-patterns.js [bytes] [perLineMs]
 */
const path = require('node:path');
const { Analyzer, allBuiltinRules } = require(path.join(__dirname, '..', '..', '..', 'dist', 'index.js'));
const L = require('../lines');

const bytes = Number(process.argv[2] ?? 486 * 1024);
const perLineMs = Number(process.argv[3] ?? 1000);

const FILLERS = {
  separators: "a, b: 'c' = d/e (f) [g] {h} \"i\" with status line j; for: k in repository l - m | n @ o # p ",
  spaces: ' \t ',
  word: 'a',
};

function fill(unit, size) {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function loggerName(spec) {
  const first = spec.loggers?.[0];
  if (first === undefined) return 'org.sonatype.nexus.hostile.AnyLogger';
  return first.includes('.') ? first : `org.sonatype.nexus.hostile.${first}`;
}

function accessDate(ms) {
  const d = new Date(L.BASE_MS + ms);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** Messages holding `text` where its anchor allows, padded to `bytes` with `unit`. */
function messages(literal, unit) {
  const text = typeof literal === 'string' ? literal : literal.text;
  const at = typeof literal === 'string' ? 'anywhere' : literal.at;
  const pad = fill(unit === 'literal' ? `${text} ` : unit, Math.max(0, bytes - text.length));
  const out = [];
  if (at !== 'end') out.push(text + pad);
  if (at !== 'start') out.push(pad + text);
  return out;
}

/** [kind, line text] pairs for one read spec. */
function linesFor(spec, ms) {
  const input = spec.input ?? 'nexus';
  const literals = spec.literals !== undefined && spec.literals.length > 0 ? spec.literals : [''];
  const out = [];
  for (const literal of literals) {
    for (const unit of [...Object.values(FILLERS), 'literal']) {
      for (const message of messages(literal, unit)) {
        if (input === 'nexus' || input === 'task') {
          // One level: the patterns a rule runs do not depend on it.
          const head = L.header(L.ts(ms), spec.levels[0], 'qtp7-1', loggerName(spec));
          out.push([input, `${head} - ${message}`]);
          if (spec.continuation === true) out.push([input, `${head} - Request failed\njava.lang.IllegalStateException: ${message}\n\tat org.example.Foo.bar(Foo.java:1)`]);
        } else if (input === 'request') {
          const status = spec.statuses?.[0]?.[0] ?? 500;
          out.push([input, `10.0.0.1 - alice [${accessDate(ms)}] "GET /repository/r/${message} HTTP/1.1" ${status} - 0 3 "${message}" [qtp7-2]`]);
        } else if (input === 'outbound') {
          const status = spec.statuses?.[0]?.[0] ?? 200;
          out.push([input, `[${accessDate(ms)}] alice "GET https://remote.example/${message} HTTP/1.1" ${status} 100 3 "${message}" [qtp7-3]`]);
        } else if (input === 'audit') {
          const record = { timestamp: L.ts(ms), nodeId: 'n1', initiator: 'alice/10.0.0.1', domain: 'security', type: 'authentication', context: message, thread: 'qtp7-4', attributes: { note: message } };
          out.push([input, JSON.stringify(record)]);
        }
      }
    }
  }
  return out;
}

const rules = allBuiltinRules();
const analyzer = new Analyzer({ rules });
const problems = [];
let lines = 0;
let slowest = { ms: 0, what: '' };
let total = 0;
let ms = 0;
let source = 0;
for (const rule of rules) {
  rule.reads.forEach((spec, specIndex) => {
    for (const [kind, line] of linesFor(spec, (ms += 1000))) {
      const name = `${rule.id}-${specIndex}-${source++}.log`;
      const started = performance.now();
      try {
        analyzer.beginSource(name, kind);
        analyzer.write(`${line}\n`);
        analyzer.flushPendingEvent();
      } catch (error) {
        problems.push(`${rule.id} reads[${specIndex}] threw ${error.name}: ${error.message.slice(0, 100)}`);
      }
      const took = performance.now() - started;
      total += took;
      lines++;
      if (took > slowest.ms) slowest = { ms: took, what: `${rule.id} reads[${specIndex}] ${kind}` };
      if (took > perLineMs) problems.push(`${rule.id} reads[${specIndex}]: ${took.toFixed(0)} ms on one ${(line.length / 1024).toFixed(0)} KB line`);
    }
  });
}
try {
  analyzer.end();
} catch (error) {
  problems.push(`end() threw ${error.name}: ${error.message.slice(0, 100)}`);
}
const note = `${rules.length} rules, ${lines} lines of ${(bytes / 1024).toFixed(0)} KB in ${(total / 1000).toFixed(1)} s; slowest ${slowest.ms.toFixed(0)} ms (${slowest.what})`;
process.stdout.write(`${JSON.stringify({ problems: problems.slice(0, 5), note })}\n`);
