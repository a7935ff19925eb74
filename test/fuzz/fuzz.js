#!/usr/bin/env node
'use strict';
/**
 * Fuzzes the tokenizer and the header parser with random and mutated lines (not part of
 * `npm test`; run `npm run fuzz -- [lines] [seed]`). Checks, for every input:
 *   - parseTimestamp / parseHeader never throw, and what they return is consistent;
 *   - the line splitter gives the same lines as a simple reference splitter, in any chunking;
 *   - the Analyzer never throws and gives the same incidents in any chunking.
 * A failure prints the input as JSON and exits 1: copy it into a regular test.
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { parseTimestamp } = require('../../dist/events/timestamp.js');
const { parseHeader } = require('../../dist/events/header-parser.js');
const { LineSplitter } = require('../../dist/lines/line-splitter.js');
const { Analyzer } = require('../../dist/analyzer.js');

const totalLines = Number(process.argv[2] ?? 1_000_000);
let seed = Number(process.argv[3] ?? 1);
const random = () => {
  // mulberry32: deterministic for a given seed, so a finding can be replayed
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (n) => Math.floor(random() * n);

const samplesDir = path.join(__dirname, '..', '..', 'samples');
const corpus = fs
  .readdirSync(samplesDir)
  .filter((name) => name.startsWith('nexus'))
  .flatMap((name) => {
    const bytes = fs.readFileSync(path.join(samplesDir, name));
    return (name.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes).toString('utf8').split(/\r?\n/);
  })
  .filter((line) => line.length > 0);
const PIECES = ['[', ']', '] ', ' - ', '-', '\t', '\r', '\u0000', '  ', '{', '}', "='", "'", '2025-09-10 01:36:22,857+0000 ', ':', ',', '+', 'Z', 'T', '9', '\ufffd', 'é', '\n'];

function mutate(line) {
  let text = line;
  for (let n = 1 + int(4); n > 0; n--) {
    const at = int(text.length + 1);
    switch (int(6)) {
      case 0: text = text.slice(0, at) + PIECES[int(PIECES.length)] + text.slice(at); break;
      case 1: text = text.slice(0, at) + text.slice(at + 1 + int(20)); break;
      case 2: text = text.slice(0, at); break;
      case 3: text = text.slice(0, at) + text.slice(at, at + int(30)) + text.slice(at); break;
      case 4: text = text.slice(0, at) + String.fromCharCode(int(0x3000)) + text.slice(at + 1); break;
      default: text = text.slice(0, at) + corpus[int(corpus.length)].slice(int(80)) + text.slice(at); break;
    }
  }
  return text;
}

function randomLine() {
  if (random() < 0.8) return mutate(corpus[int(corpus.length)]);
  let text = '';
  for (let n = int(120); n > 0; n--) text += random() < 0.3 ? PIECES[int(PIECES.length)] : String.fromCharCode(int(128));
  return text;
}

function fail(what, input, detail) {
  const saved = path.join(require('node:os').tmpdir(), `nla-fuzz-finding-${process.pid}.json`);
  fs.writeFileSync(saved, JSON.stringify({ what, detail, input }));
  process.stderr.write(`FUZZ FINDING (${what}): ${detail}\ninput (also in ${saved}): ${JSON.stringify(input)}\n`);
  process.exit(1);
}

function checkParsers(line) {
  let ts;
  let header;
  try {
    ts = parseTimestamp(line);
    header = parseHeader(line);
  } catch (error) {
    fail('parser threw', line, error.stack);
  }
  if (ts !== undefined && (!Number.isFinite(ts.epochMs) || ts.length < 19 || ts.length > line.length)) fail('timestamp', line, JSON.stringify(ts));
  if (header !== undefined) {
    if (!line.endsWith(header.message)) fail('header message is not the end of the line', line, JSON.stringify(header));
    if (/[ \t]/.test(header.logger) || header.logger === '') fail('logger', line, JSON.stringify(header));
    if (!line.startsWith(header.timestampText)) fail('timestamp text', line, JSON.stringify(header));
    if (!Number.isFinite(header.epochMs)) fail('header time', line, JSON.stringify(header));
  }
}

/** NUL bytes before a line are not part of it (a preallocated file appended to after a crash). */
const withoutLeadingNuls = (line) => line.replace(/^\0+/, '');

/** The reference: what the splitter must produce (no cap). */
function referenceLines(bytes) {
  return referenceLinesWithNuls(bytes).map(withoutLeadingNuls);
}

function referenceLinesWithNuls(bytes) {
  let text = bytes;
  if (text.length >= 3 && text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) text = text.subarray(3);
  // A source with no \n in its first 64 KiB and a lone \r is split on \r (old Mac, some copy tools).
  const head = text.subarray(0, 64 * 1024);
  if (head.indexOf(0x0a) === -1 && head.indexOf(0x0d) !== -1) {
    const crLines = text.toString('latin1').split('\r');
    if (crLines[crLines.length - 1] === '') crLines.pop();
    return crLines;
  }
  const lines = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf(0x0a, start);
    const end = nl === -1 ? text.length : nl;
    if (nl === -1 && start === text.length) break;
    let stop = end;
    if (stop > start && text[stop - 1] === 0x0d) stop--;
    lines.push(text.toString('latin1', start, stop));
    if (nl === -1) break;
    start = nl + 1;
  }
  return lines;
}

function split(bytes, sizes) {
  const out = [];
  const splitter = new LineSplitter({ line: (buf, s, e) => out.push(buf.toString('latin1', s, e)) }, { maxLineBytes: 1 << 30 });
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    splitter.write(bytes.subarray(at, at + size));
    at += size;
  }
  splitter.end();
  return out;
}

function analyze(bytes, sizes) {
  const analyzer = new Analyzer({ maxOpenGroups: 8 });
  const out = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    out.push(...analyzer.write(bytes.subarray(at, at + size)));
    at += size;
  }
  out.push(...analyzer.end());
  return JSON.stringify(out);
}

const started = Date.now();
let lines = 0;
let documents = 0;
while (lines < totalLines) {
  const docLines = [];
  for (let n = 1 + int(40); n > 0; n--) docLines.push(randomLine());
  const bytes = Buffer.from(docLines.join(random() < 0.5 ? '\n' : '\r\n') + (random() < 0.5 ? '\n' : ''), 'utf8');
  // The parsers see physical lines, as the splitter hands them over (no \n, no final \r).
  for (const line of bytes.toString('utf8').split('\n')) checkParsers(line.endsWith('\r') ? line.slice(0, -1) : line);
  lines += docLines.length;
  const sizes = Array.from({ length: 1 + int(5) }, () => 1 + int(300));
  const expected = referenceLines(bytes);
  const got = split(bytes, sizes);
  if (JSON.stringify(got) !== JSON.stringify(expected)) fail('splitter differs from reference', bytes.toString('utf8'), `chunks ${sizes}`);
  if (documents % 10 === 0) {
    let whole;
    let chunked;
    try {
      whole = analyze(bytes, [bytes.length || 1]);
      chunked = analyze(bytes, sizes);
    } catch (error) {
      fail('analyzer threw', bytes.toString('utf8'), error.stack);
    }
    if (whole !== chunked) fail('incidents depend on chunking', bytes.toString('utf8'), `chunks ${sizes}`);
  }
  documents++;
}
const seconds = (Date.now() - started) / 1000;
console.log(`fuzz: ${lines.toLocaleString('en')} lines in ${documents.toLocaleString('en')} documents, ${seconds.toFixed(1)} s, no finding (seed ${process.argv[3] ?? 1})`);
