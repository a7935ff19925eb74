/**
 * Support zips read in place: listing, info, truncation markers, nested gzip, and the whole
 * path through analyzeFiles and the built CLI (run `npm run build` first for the CLI tests).
 * Zips are built here with yazl (deterministic: fixed times, no extended time field), plus the
 * committed fixture made by test/fixtures/support-zip/make-support-zip.js.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as yazl from 'yazl';
import { analyzeFiles, type AnalyzeFilesOptions } from '../../src/api/analyze-files';
import type { InputKind } from '../../src/events/log-event';
import type { Incident } from '../../src/incidents/incident';
import { declarativeRule } from '../../src/rules/declarative';
import { builtinRuleIds } from '../../src/rules/builtin';
import { dockerManifestMissingLayers } from '../../src/rules/builtin/docker-manifest-missing-layers';
import type { AnyRule } from '../../src/rules/rule';
import { InputError } from '../../src/source/input-error';
import { readInput } from '../../src/source/read-input';
import { resolveInputs } from '../../src/source/resolve-inputs';
import {
  describeSupportZip,
  entryRole,
  INFO_MAX_BYTES,
  infoFromJmx,
  infoFromSysinfo,
  isZipMagic,
  listSupportZip,
  readZipEntry,
  skippedMessage,
  TRUNCATED_MARKER,
} from '../../src/source/support-zip';
import { FIXTURES, missingLayerLine, parseNdjson, rejectionLine, runCli } from '../support/helpers';

const FIXTURE = path.join(FIXTURES, 'support-zip', 'support-20250910-013622-1.zip');
const ROOT = 'support-20250910-013622-1';
const MTIME = new Date(2025, 8, 10, 1, 36, 22);

interface ZipFileSpec {
  /** Path under the root folder. */
  path: string;
  data: string | Buffer;
  /** Default true (deflate). */
  compress?: boolean;
}

/** A zip's bytes, entries under `root/` (none when root is ''). */
async function zipBytes(files: readonly ZipFileSpec[], root = ROOT): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const name = (p: string): string => (root === '' ? p : `${root}/${p}`);
  if (root !== '') zip.addEmptyDirectory(root, { mtime: MTIME, forceDosTimestamp: true });
  for (const file of files) {
    const data = typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data;
    zip.addBuffer(data, name(file.path), { mtime: MTIME, forceDosTimestamp: true, mode: 0o100644, compress: file.compress ?? true });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(tmpdir(), 'nla-zip-'));
});
afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/** A new empty folder for one test. */
function folder(): string {
  return fs.mkdtempSync(path.join(base, 't-'));
}

async function writeZip(dir: string, name: string, files: readonly ZipFileSpec[], root = ROOT): Promise<string> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, await zipBytes(files, root));
  return file;
}

const ts = (time: string): string => `2025-09-10 ${time}+0000`;

/** A failed push: missing layer then the rejected manifest, on one thread. */
function push(time: string, image: string, thread: string): string[] {
  return [missingLayerLine(ts(`${time},100`), `${image}-l1`, image, '1.0', { thread }), rejectionLine(ts(`${time},150`), image, '1.0', { thread })];
}

const lines = (...list: string[][]): string => `${list.flat().join('\n')}\n`;

/** A docker missing-layer line in a task log is an incident of this rule. */
const taskRule = declarativeRule({
  id: 'test-task-missing-layer',
  title: 'missing layer seen by a task',
  severity: 'warning',
  kind: 'single',
  input: 'task',
  literals: ['Manifest refers to missing layer'],
  levels: ['ERROR'],
  match: { message: 'missing layer: (?P<digest>\\S+)' },
  summary: 'task saw a missing layer {digest}',
  diagnosis: { cause: 'test', explanation: 'test', confidence: 'low', remediation: ['none'] },
});

/** Every audit record is an incident of this rule. */
const auditRule: AnyRule = {
  id: 'test-audit-record',
  title: 'an audit record',
  severity: 'info',
  category: 'custom',
  reads: [{ input: 'audit', literals: ['"domain"'] }],
  windowMs: 60_000,
  match: (event) => (event.kind === 'audit' ? {} : undefined),
  key: () => 'audit',
  open: () => ({}),
  add: () => undefined,
  describe: () => ({ subject: null, fingerprint: ['audit'], summary: 'an audit record', diagnosis: { cause: 'test', explanation: 'test', confidence: 'low', remediation: ['none'] } }),
};

const RULES: AnyRule[] = [dockerManifestMissingLayers(), taskRule, auditRule];

interface Run {
  incidents: Incident[];
  inputs: Array<[string, InputKind]>;
  zips: Array<Record<string, unknown>>;
  warnings: string[];
  /** The order callbacks came in: `zip <path>`, `input <name>`. */
  order: string[];
}

async function run(patterns: string | string[], options: AnalyzeFilesOptions = {}): Promise<Run> {
  const out: Run = { incidents: [], inputs: [], zips: [], warnings: [], order: [] };
  for await (const incident of analyzeFiles(patterns, {
    rules: RULES,
    onInput: (name, kind) => {
      out.inputs.push([name, kind]);
      out.order.push(`input ${name}`);
    },
    onSupportZip: (info) => {
      out.zips.push({ ...info });
      out.order.push(`zip ${info.path}`);
    },
    onWarning: (warning) => out.warnings.push(warning.message),
    ...options,
  })) {
    out.incidents.push(incident);
  }
  return out;
}

/** `image <- entry, entry...` for the failed pushes; `rule <- entry...` for the rest. */
function sources(incidents: readonly Incident[]): string[] {
  return incidents
    .map((incident) => {
      const what = (incident as Incident & { image?: string }).image ?? incident.rule;
      const from = [...new Set(incident.evidence.map((e) => e.source.slice(e.source.indexOf('!') + 1)))];
      return `${what} <- ${from.join(', ')}`;
    })
    .sort();
}

describe('support zip entries', () => {
  it('knows a zip by its magic bytes (an empty zip too)', () => {
    expect(isZipMagic(Buffer.from('PK\x03\x04rest', 'latin1'))).toBe(true);
    expect(isZipMagic(Buffer.from('PK\x05\x06', 'latin1'))).toBe(true);
    expect(isZipMagic(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe(false);
    expect(isZipMagic(Buffer.from('2025-09-10 01:00:00,000+0000 INFO', 'latin1'))).toBe(false);
    expect(isZipMagic(Buffer.from('PK'))).toBe(false);
  });

  it('reads the logs by their path in the zip, and the two info files', () => {
    const logs = [
      'log/nexus.log',
      'log/request.log',
      'log/outbound-request.log',
      'log/audit.log',
      'log/audit/audit.log',
      'log/karaf.log',
      'log/jvm.log',
      'log/nexus_cluster.log',
      'log/tasks/repository.docker.gc-20250910011500000.log',
      'log/archived-logs//nexus-2025-09-09.log.gz',
      'log/archived-logs//request-2025-09-09.log.gz',
      'log/archived-logs//audit-2025-09-09.log.gz',
      'log/archived-logs/nexus-2025-09-09.log.gz',
    ];
    for (const p of logs) expect([p, entryRole(p)]).toEqual([p, 'log']);
    expect(entryRole('info/sysinfo.json')).toBe('info');
    expect(entryRole('info/jmx.json')).toBe('info');
    expect(entryRole('truncated')).toBe('flag');
    for (const p of ['info/threads.txt', 'install/etc/nexus.properties', 'log/replication/x.log', 'log/tasks/sub/x.log', 'log/archived-logs//other-2025-09-09.log.gz', 'work/log/nexus.log']) {
      expect([p, entryRole(p)]).toEqual([p, undefined]);
    }
  });

  it('lists the committed fixture: entries to read, truncated ones, the server info', async () => {
    const listing = await listSupportZip(FIXTURE);
    expect(listing.entries.map((e) => e.path)).toEqual([
      'log/archived-logs//nexus-2025-09-09.log.gz',
      'log/audit.log',
      'log/karaf.log',
      'log/nexus.log',
      'log/request.log',
      'log/tasks/repository.docker.gc-20250910011500000.log',
    ]);
    expect(listing.entries.find((e) => e.path === 'log/karaf.log')).toEqual({ name: `${ROOT}/log/karaf.log`, path: 'log/karaf.log', size: 4096 + 15 });
    expect(listing.truncated).toEqual([
      { name: `${ROOT}/log/karaf.log`, path: 'log/karaf.log', how: 'cut' },
      { name: `${ROOT}/log/outbound-request.log`, path: 'log/outbound-request.log', how: 'replaced' },
    ]);
    expect(listing.truncationFlagged).toBe(true);
    expect(listing.info).toEqual({
      version: '3.77.1-01',
      edition: 'OSS',
      nodeId: 'node-a',
      javaVersion: '17.0.12',
      javaVendor: 'Eclipse Adoptium',
      os: 'Linux 6.8.0-1015-aws amd64',
      database: 'PostgreSQL',
    });
    expect(describeSupportZip(listing.info)).toBe('Nexus 3.77.1-01 OSS on node-a, Java 17.0.12 (Eclipse Adoptium), PostgreSQL database');
  });

  it('streams an entry: inflated, a nested .gz gunzipped, a trailing marker dropped and reported', async () => {
    const listing = await listSupportZip(FIXTURE);
    const read = async (entry: string, onTruncated?: () => void): Promise<string> => {
      const pieces: Buffer[] = [];
      for await (const chunk of readZipEntry(FIXTURE, `${ROOT}/${entry}`, `x!${entry}`, onTruncated === undefined ? {} : { onTruncated })) pieces.push(Buffer.from(chunk));
      return Buffer.concat(pieces).toString('utf8');
    };
    const content = (p: string): string => fs.readFileSync(path.join(FIXTURES, 'support-zip', 'content', p), 'utf8');
    expect(await read('log/nexus.log')).toBe(content('log/nexus.log'));
    expect(await read('log/archived-logs//nexus-2025-09-09.log.gz')).toBe(content('log/archived-logs/nexus-2025-09-09.log'));
    let cut = 0;
    const karaf = await read('log/karaf.log', () => cut++);
    expect(cut).toBe(1);
    expect(karaf).toBe(content('log/karaf.log').slice(0, 4096)); // up to the marker, mid-line
    expect(karaf).not.toContain('TRUNCATED');
    expect(await read('log/outbound-request.log')).toBe(''); // only the marker
    expect(listing.entries).toHaveLength(6);
  });

  it('a cut archived .gz is read up to the cut; a damaged one is a gzip error naming zip!entry', async () => {
    const dir = folder();
    // Varied text so the gzip is well over one 4 KiB chunk.
    const text = lines(Array.from({ length: 400 }, (_, i) => `2025-09-09 10:00:00,000+0000 INFO  [t]  *SYSTEM org.x.Y - blob ${createHash('sha256').update(String(i)).digest('hex')}`));
    const gz = gzipSync(text);
    expect(gz.length).toBeGreaterThan(2 * 4096);
    const damagedGz = Buffer.from(gz);
    for (let i = 2000; i < 2100; i++) damagedGz[i] = (damagedGz[i] as number) ^ 0xff;
    const file = await writeZip(dir, 'support-gz.zip', [
      { path: 'log/archived-logs//nexus-2025-09-09.log.gz', data: Buffer.concat([gz.subarray(0, 4096), TRUNCATED_MARKER]) },
      { path: 'log/archived-logs//nexus-2025-09-08.log.gz', data: damagedGz },
      { path: 'truncated', data: '' },
    ]);
    const listing = await listSupportZip(file);
    expect(listing.truncated).toEqual([{ name: `${ROOT}/log/archived-logs//nexus-2025-09-09.log.gz`, path: 'log/archived-logs//nexus-2025-09-09.log.gz', how: 'cut' }]);

    let cut = 0;
    let read = '';
    for await (const chunk of readZipEntry(file, `${ROOT}/log/archived-logs//nexus-2025-09-09.log.gz`, 'z!cut', { onTruncated: () => cut++ })) read += chunk.toString('utf8');
    expect(cut).toBe(1);
    expect(read.length).toBeGreaterThan(4096);
    expect(text.startsWith(read)).toBe(true);
    expect(read.length).toBeLessThan(text.length);

    const broken = (async () => {
      for await (const chunk of readZipEntry(file, `${ROOT}/log/archived-logs//nexus-2025-09-08.log.gz`, 'z!damaged')) void chunk;
    })();
    await expect(broken).rejects.toThrow(/^z!damaged: corrupt gzip data in the zip entry: /);
  });

  it('streams a large entry in bounded chunks, stored or deflated, and reads a zip without a root folder', async () => {
    const dir = folder();
    const big = lines(Array.from({ length: 60_000 }, (_, i) => `2025-09-10 01:00:00,000+0000 INFO  [t]  *SYSTEM org.x.Y - line ${i} ${'y'.repeat(40)}`));
    const file = await writeZip(dir, 'flat.zip', [
      { path: 'log/nexus.log', data: big },
      { path: 'log/request.log', data: big, compress: false },
    ], '');
    const listing = await listSupportZip(file);
    expect(listing.entries.map((e) => [e.name, e.path])).toEqual([['log/nexus.log', 'log/nexus.log'], ['log/request.log', 'log/request.log']]);
    for (const entry of ['log/nexus.log', 'log/request.log']) {
      let total = 0;
      let largest = 0;
      let chunks = 0;
      for await (const chunk of readZipEntry(file, entry, `${file}!${entry}`)) {
        total += chunk.length;
        largest = Math.max(largest, chunk.length);
        chunks++;
      }
      expect(total).toBe(Buffer.byteLength(big));
      expect(chunks).toBeGreaterThan(4);
      expect(largest).toBeLessThanOrEqual(256 * 1024 + 15); // never the whole entry at once
    }
  });

  it('takes the info it can: jmx.json when there is no sysinfo.json, nothing from broken JSON, never an error', async () => {
    const dir = folder();
    const jmx = {
      'java.lang:type=Runtime': {
        VmVendor: 'Red Hat, Inc.',
        VmVersion: '17.0.9+9-LTS',
        SystemProperties: [
          { key: 'java.version', value: '17.0.9' },
          { key: 'java.vendor', value: 'Red Hat, Inc.' },
        ],
      },
      'java.lang:type=OperatingSystem': { Name: 'Linux', Version: '5.14.0', Arch: 'amd64' },
    };
    const onlyJmx = await writeZip(dir, 'support-jmx.zip', [
      { path: 'info/jmx.json', data: JSON.stringify(jmx) },
      { path: 'log/nexus.log', data: lines(push('01:00:00', 'a/b', 't1')) },
    ]);
    expect((await listSupportZip(onlyJmx)).info).toEqual({ javaVersion: '17.0.9', javaVendor: 'Red Hat, Inc.', os: 'Linux 5.14.0 amd64' });
    expect(describeSupportZip((await listSupportZip(onlyJmx)).info)).toBe('Nexus (version unknown), Java 17.0.9 (Red Hat, Inc.)');

    const broken = await writeZip(dir, 'support-broken.zip', [
      { path: 'info/sysinfo.json', data: '{"nexus-status": {"version": "3.7' },
      { path: 'log/nexus.log', data: lines(push('01:00:00', 'a/b', 't1')) },
    ]);
    expect((await listSupportZip(broken)).info).toEqual({});

    const truncatedInfo = await writeZip(dir, 'support-cut-info.zip', [
      { path: 'info/sysinfo.json', data: TRUNCATED_MARKER },
      { path: 'log/nexus.log', data: lines(push('01:00:00', 'a/b', 't1')) },
      { path: 'truncated', data: '' },
    ]);
    const listing = await listSupportZip(truncatedInfo);
    expect(listing.info).toEqual({});
    expect(listing.truncated).toEqual([{ name: `${ROOT}/info/sysinfo.json`, path: 'info/sysinfo.json', how: 'replaced' }]);

    // Other shapes (older versions, other sections) are tolerated field by field.
    expect(infoFromSysinfo({ 'nexus-status': { version: '3.29.2-02', edition: 'PRO' }, 'nexus-node': { 'node-id': 42 }, 'nexus-properties': { 'nexus.datastore.enabled': 'false' } })).toEqual({
      version: '3.29.2-02',
      edition: 'PRO',
      nodeId: '42',
      database: 'OrientDB',
    });
    expect(infoFromSysinfo({ 'system-environment': { NEXUS_DATASTORE_NEXUS_JDBCURL: 'jdbc:h2:file:${karaf.data}/db/nexus' } })).toEqual({ database: 'H2' });
    expect(infoFromSysinfo(null)).toEqual({});
    expect(infoFromSysinfo([1, 2])).toEqual({});
    expect(infoFromJmx({ 'java.lang:type=Runtime': { SystemProperties: 'not a list' } })).toEqual({});
  });

  it('a zip expands into one input per log entry, named zip!path', async () => {
    const listings: string[] = [];
    const inputs = await resolveInputs([FIXTURE], (listing) => listings.push(listing.zip));
    expect(listings).toEqual([FIXTURE]);
    expect(inputs.map((input) => input.name)).toEqual([
      `${FIXTURE}!log/archived-logs//nexus-2025-09-09.log.gz`,
      `${FIXTURE}!log/audit.log`,
      `${FIXTURE}!log/karaf.log`,
      `${FIXTURE}!log/nexus.log`,
      `${FIXTURE}!log/request.log`,
      `${FIXTURE}!log/tasks/repository.docker.gc-20250910011500000.log`,
    ]);
    expect(inputs[3]).toEqual({ name: `${FIXTURE}!log/nexus.log`, kind: 'zip-entry', zip: FIXTURE, entry: `${ROOT}/log/nexus.log` });
    // readInput reads an entry like a file.
    let text = '';
    for await (const chunk of readInput(inputs[3] as (typeof inputs)[number])) text += chunk.toString('utf8');
    expect(text).toContain('nexus.log: the live day');
    // Given twice (the zip and its folder): listed and expanded once.
    const again = await resolveInputs([FIXTURE, path.dirname(FIXTURE)], (listing) => listings.push(listing.zip));
    expect(again).toHaveLength(6);
    expect(listings).toHaveLength(2);
  });
});

describe('support zips through analyzeFiles', () => {
  it('finds the incidents of every entry, with zip!entry sources, and reports info and truncation first', async () => {
    const result = await run(FIXTURE);
    expect(sources(result.incidents)).toEqual([
      'team/api <- log/nexus.log, log/request.log', // the push, sharpened by request.log
      'team/batch <- log/karaf.log', // the kept part of the cut karaf.log
      'team/web <- log/archived-logs//nexus-2025-09-09.log.gz', // the archived day, gzip in the zip
      'test-audit-record <- log/audit.log',
      'test-task-missing-layer <- log/tasks/repository.docker.gc-20250910011500000.log',
    ]);
    expect(result.incidents.every((i) => i.evidence.every((e) => e.source.startsWith(`${FIXTURE}!`)))).toBe(true);
    // team/lost is after the cut: not in the zip, so not found.
    expect(JSON.stringify(result.incidents)).not.toContain('team/lost');

    // Every entry read, with the kind its path says, in the usual order (nexus logs by time, then the secondary logs).
    expect(result.inputs.map(([name, kind]) => [name.slice(FIXTURE.length + 1), kind])).toEqual([
      ['log/archived-logs//nexus-2025-09-09.log.gz', 'nexus'],
      ['log/karaf.log', 'nexus'],
      ['log/nexus.log', 'nexus'],
      ['log/tasks/repository.docker.gc-20250910011500000.log', 'task'],
      ['log/request.log', 'request'],
      ['log/audit.log', 'audit'],
    ]);

    expect(result.zips).toEqual([
      {
        path: FIXTURE,
        truncated: ['log/karaf.log', 'log/outbound-request.log'],
        version: '3.77.1-01',
        edition: 'OSS',
        nodeId: 'node-a',
        javaVersion: '17.0.12',
        javaVendor: 'Eclipse Adoptium',
        os: 'Linux 6.8.0-1015-aws amd64',
        database: 'PostgreSQL',
      },
    ]);
    expect(result.order[0]).toBe(`zip ${FIXTURE}`); // before any entry is read
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings[0]).toMatch(new RegExp(`^${escape(FIXTURE)}!log/karaf\\.log: cut by the support zip generator .*read up to the cut`));
    expect(result.warnings[1]).toMatch(new RegExp(`^${escape(FIXTURE)}!log/outbound-request\\.log: replaced by "\\*\\* TRUNCATED \\*\\*" .*none of its lines are in the zip`));
  });

  it('mixes several zips and plain files on one command line', async () => {
    const dir = folder();
    const second = await writeZip(dir, 'support-20250911-090000-1.zip', [
      { path: 'info/sysinfo.json', data: JSON.stringify({ 'nexus-status': { version: '3.80.0-06', edition: 'PRO' }, 'nexus-node': { 'node-id': 'node-b' } }) },
      { path: 'log/nexus.log', data: lines(push('02:00:00', 'second/zip', 'qtp2-1')) },
      { path: 'log/archived-logs//nexus-2025-09-09.log.gz', data: gzipSync(lines(push('00:30:00', 'second/day', 'qtp2-2')).replace(/2025-09-10/g, '2025-09-09')) },
    ]);
    const plain = path.join(dir, 'nexus.log');
    fs.writeFileSync(plain, lines(push('03:00:00', 'plain/file', 'qtp3-1')));

    const result = await run([FIXTURE, second, plain]);
    expect(sources(result.incidents.filter((i) => i.rule === 'docker-manifest-missing-layers'))).toEqual([
      'plain/file <- ' + plain,
      'second/day <- log/archived-logs//nexus-2025-09-09.log.gz',
      'second/zip <- log/nexus.log',
      'team/api <- log/nexus.log, log/request.log',
      'team/batch <- log/karaf.log',
      'team/web <- log/archived-logs//nexus-2025-09-09.log.gz',
    ]);
    const day = result.incidents.find((i) => (i as Incident & { image?: string }).image === 'second/day');
    expect(day?.evidence[0]?.source).toBe(`${second}!log/archived-logs//nexus-2025-09-09.log.gz`);
    expect(result.zips.map((z) => [z['path'], z['version'], z['nodeId']])).toEqual([
      [FIXTURE, '3.77.1-01', 'node-a'],
      [second, '3.80.0-06', 'node-b'],
    ]);
    // The nexus logs of both zips and the plain file in one log-time order.
    expect(result.inputs.filter(([, kind]) => kind === 'nexus').map(([name]) => name)).toEqual([
      `${second}!log/archived-logs//nexus-2025-09-09.log.gz`, // 00:30 that day
      `${FIXTURE}!log/archived-logs//nexus-2025-09-09.log.gz`, // 23:40 that day
      `${FIXTURE}!log/karaf.log`,
      `${FIXTURE}!log/nexus.log`,
      `${second}!log/nexus.log`,
      plain,
    ]);
  });

  it('a folder holding a support zip reads it, and --since skips archived days inside the zip', async () => {
    const dir = folder();
    fs.copyFileSync(FIXTURE, path.join(dir, path.basename(FIXTURE)));
    const result = await run(dir);
    expect(result.inputs).toHaveLength(6);
    const since = await run(dir, { since: Date.UTC(2025, 8, 11) });
    expect(since.inputs.map(([name]) => name.slice(name.indexOf('!') + 1))).not.toContain('log/archived-logs//nexus-2025-09-09.log.gz');
    expect(since.inputs).toHaveLength(5);
  });

  it('writes nothing to disk: every file is opened read-only, no temp file or folder appears', async () => {
    const dir = folder();
    const zip = path.join(dir, path.basename(FIXTURE));
    fs.copyFileSync(FIXTURE, zip);
    const temp = folder();
    const before = fs.readdirSync(dir);
    const flags: string[] = [];
    const open = fs.open;
    const openPromise = fs.promises.open;
    const spies = [
      jest.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) => {
        flags.push(typeof args[1] === 'string' ? args[1] : 'r');
        return (open as (...a: unknown[]) => void)(...args);
      }) as typeof fs.open),
      jest.spyOn(fs.promises, 'open').mockImplementation(((file: fs.PathLike, flag?: string | number) => {
        flags.push(typeof flag === 'string' ? flag : 'r');
        return openPromise(file, flag);
      }) as typeof fs.promises.open),
    ];
    const writers = [
      jest.spyOn(fs, 'createWriteStream'),
      jest.spyOn(fs, 'writeFile'),
      jest.spyOn(fs, 'mkdtemp'),
      jest.spyOn(fs.promises, 'writeFile'),
      jest.spyOn(fs.promises, 'mkdtemp'),
      jest.spyOn(fs.promises, 'mkdir'),
    ];
    const savedTmp = process.env['TMPDIR'];
    process.env['TMPDIR'] = temp;
    try {
      const result = await run(zip);
      expect(result.incidents.length).toBeGreaterThanOrEqual(5);
    } finally {
      if (savedTmp === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = savedTmp;
      for (const spy of [...spies, ...writers]) spy.mockRestore();
    }
    expect(flags.length).toBeGreaterThan(0);
    expect(new Set(flags)).toEqual(new Set(['r']));
    for (const writer of writers) expect(writer).not.toHaveBeenCalled();
    expect(fs.readdirSync(temp)).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(before);
  });

  it('a corrupt zip is one clear error naming it; a damaged entry names zip!entry', async () => {
    const dir = folder();
    const good = await zipBytes([{ path: 'log/nexus.log', data: lines(push('01:00:00', 'a/b', 't1')) }]);
    const cut = path.join(dir, 'support-cut.zip');
    fs.writeFileSync(cut, good.subarray(0, good.length - 30)); // an incomplete download: no end record
    const error = await run(cut).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(cut);
    expect((error as InputError).message).toBe(`${cut}: incomplete or corrupt zip: its end record (the central directory) is missing; was the download or copy cut short?`);

    const notZip = path.join(dir, 'support-x.zip');
    fs.writeFileSync(notZip, '<html>404</html>');
    await expect(run(notZip)).rejects.toThrow(`${notZip}: not a zip file`);

    const otherZip = await writeZip(dir, 'photos.zip', [{ path: 'a.jpg', data: 'x' }]);
    await expect(run(otherZip)).rejects.toThrow(`${otherZip}: not a Nexus support zip`);

    // Flip bytes in the middle of the deflated nexus.log: the entry fails, naming it.
    const entryData = lines(...Array.from({ length: 200 }, (_, i) => push(`01:00:${String(i % 60).padStart(2, '0')}`, `img${i}`, `t${i}`)));
    const bytes = await zipBytes([{ path: 'log/nexus.log', data: entryData }]);
    const at = bytes.indexOf(Buffer.from('log/nexus.log')) + 200;
    for (let i = at; i < at + 64; i++) bytes[i] = (bytes[i] as number) ^ 0x5a;
    const damaged = path.join(dir, 'support-damaged.zip');
    fs.writeFileSync(damaged, bytes);
    const errors: InputError[] = [];
    await run(damaged, { onInputError: (error) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.input).toBe(`${damaged}!log/nexus.log`);
    expect(errors[0]?.message).toMatch(new RegExp(`^${escape(damaged)}!log/nexus\\.log: corrupt zip entry: `));
    expect(errors[0]?.message).not.toContain('\n');
  });

  it('a support zip cannot be followed', async () => {
    await expect(run(FIXTURE, { follow: true })).rejects.toThrow(`${FIXTURE}: a support zip cannot be followed`);
  });
});

/** An entry's bytes through readZipEntry, as text. */
async function entryText(zip: string, entry: string): Promise<string> {
  let text = '';
  for await (const chunk of readZipEntry(zip, entry, `${zip}!${entry}`)) text += chunk.toString('utf8');
  return text;
}

/** Bytes read from files through a FileHandle (how zips are read) while `work` runs. */
async function bytesReadDuring(work: () => Promise<unknown>): Promise<number> {
  const probe = await fs.promises.open(FIXTURE, 'r');
  const prototype = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
  await probe.close();
  const read = prototype.read;
  let total = 0;
  const spy = jest.spyOn(prototype, 'read').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const result = await read.apply(this, args);
    total += result.bytesRead;
    return result;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return total;
}

describe('hostile support zips (test/hostile S09-S13)', () => {
  it('an info file over INFO_MAX_BYTES is skipped and named; the other info file and the logs are read', async () => {
    const dir = folder();
    // An array of empty objects: parsing it whole took 1 GB for 31 MB.
    const sysinfo = `[${'{},'.repeat(INFO_MAX_BYTES / 2)}{}]`; // 3 MiB
    const jmx = { 'java.lang:type=Runtime': { VmVersion: '17.0.9+9-LTS', VmVendor: 'Red Hat, Inc.' } };
    const zip = await writeZip(dir, 'support-big-info.zip', [
      { path: 'info/sysinfo.json', data: sysinfo },
      { path: 'info/jmx.json', data: JSON.stringify(jmx) },
      { path: 'log/nexus.log', data: lines(push('01:00:00', 'a/b', 't1')) },
    ]);
    const listing = await listSupportZip(zip);
    expect(listing.skipped).toEqual([{ name: `${ROOT}/info/sysinfo.json`, path: 'info/sysinfo.json', size: Buffer.byteLength(sysinfo) }]);
    expect(listing.info).toEqual({ javaVersion: '17.0.9+9-LTS', javaVendor: 'Red Hat, Inc.' });
    expect(listing.entries.map((e) => e.path)).toEqual(['log/nexus.log']);
    expect(skippedMessage(zip, listing.skipped[0] as (typeof listing.skipped)[number])).toBe(
      `${zip}!info/sysinfo.json: skipped, 3 MiB where info files are read up to 2 MiB (a real one is a few KB): the server's version, node or Java may be unknown; the logs are read`,
    );
    expect(sources((await run(zip)).incidents)).toEqual(['a/b <- log/nexus.log']);
  });

  it('reads every entry of a zip of 1,000 task logs from one pass over its directory', async () => {
    const dir = folder();
    const tasks = Array.from({ length: 1000 }, (_, i) => ({ path: `log/tasks/repository.cleanup-${String(i).padStart(4, '0')}.log`, data: `task ${i}\n`, compress: false }));
    const zip = await writeZip(dir, 'support-tasks.zip', tasks);
    const texts: string[] = [];
    const bytes = await bytesReadDuring(async () => {
      const listing = await listSupportZip(zip);
      // As planning then reading does: each entry's head, then all of it.
      for (const entry of listing.entries) {
        for await (const chunk of readZipEntry(zip, entry.name, `${zip}!${entry.path}`)) {
          void chunk;
          break;
        }
        texts.push(await entryText(zip, entry.name));
      }
    });
    expect(texts).toEqual(tasks.map((task) => task.data));
    // The directory once, then each entry's header and data twice: a few times the zip's size.
    // A pass over the directory for each entry read was ~1,000 times it.
    expect(bytes).toBeLessThan(4 * fs.statSync(zip).size);
  });

  it('finds the logs among 10,000 other entries, in a directory larger than its read-ahead window', async () => {
    const dir = folder();
    const others = (from: number, to: number): ZipFileSpec[] =>
      Array.from({ length: to - from }, (_, i) => ({ path: `install/lib/${'long-folder-name/'.repeat(5)}file-${from + i}.jar`, data: '', compress: false }));
    const zip = await writeZip(dir, 'support-many.zip', [
      { path: 'log/nexus.log', data: 'first\n' },
      ...others(0, 5000),
      { path: 'log/request.log', data: 'middle\n' },
      ...others(5000, 10_000),
      { path: 'log/audit.log', data: 'last\n' },
    ]);
    expect(fs.statSync(zip).size).toBeGreaterThan(2 * 1024 * 1024); // the directory alone is over 1 MiB
    const listing = await listSupportZip(zip);
    expect(listing.entries.map((e) => e.path)).toEqual(['log/nexus.log', 'log/request.log', 'log/audit.log']);
    for (const [entry, text] of [['log/nexus.log', 'first\n'], ['log/request.log', 'middle\n'], ['log/audit.log', 'last\n']] as const) {
      expect(await entryText(zip, `${ROOT}/${entry}`)).toBe(text);
    }
    const none = await writeZip(dir, 'photos.zip', others(0, 3));
    await expect(listSupportZip(none)).rejects.toThrow(`${none}: not a Nexus support zip: none of its 4 entries is a log/ entry`);
  });

  it('a zip re-zipped on a Mac: __MACOSX/, .DS_Store and a note beside the root folder do not hide it', async () => {
    const dir = folder();
    const zip = await writeZip(
      dir,
      'support-macos.zip',
      [
        { path: `${ROOT}/log/nexus.log`, data: lines(push('01:00:00', 'a/b', 't1')) },
        { path: `${ROOT}/.DS_Store`, data: Buffer.from([0, 0, 0, 1]) },
        { path: `__MACOSX/${ROOT}/log/._nexus.log`, data: Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]) },
        { path: '.DS_Store', data: Buffer.from([0, 0, 0, 1]) },
        { path: 'README.txt', data: 'support zip for ticket 1234\n' },
      ],
      '',
    );
    const listing = await listSupportZip(zip);
    expect(listing.entries.map((e) => [e.name, e.path])).toEqual([[`${ROOT}/log/nexus.log`, 'log/nexus.log']]);
    expect(sources((await run(zip)).incidents)).toEqual(['a/b <- log/nexus.log']);
  });

  it('two entries of the same name are both read, the second as zip!path#2', async () => {
    const dir = folder();
    const zip = await writeZip(dir, 'support-twice.zip', [
      { path: 'log/nexus.log', data: lines(push('01:00:00', 'first/copy', 't1')) },
      { path: 'log/tasks/a.log', data: 'task\n' },
      { path: 'log/nexus.log', data: lines(push('02:00:00', 'second/copy', 't2')) },
    ]);
    const listing = await listSupportZip(zip);
    expect(listing.entries.map((e) => [e.name, e.path])).toEqual([
      [`${ROOT}/log/nexus.log`, 'log/nexus.log'],
      [`${ROOT}/log/tasks/a.log`, 'log/tasks/a.log'],
      [`${ROOT}/log/nexus.log#2`, 'log/nexus.log#2'],
    ]);
    expect(await entryText(zip, `${ROOT}/log/nexus.log#2`)).toContain('second/copy');
    const result = await run(zip);
    expect(result.inputs.map(([name]) => name.slice(zip.length + 1))).toEqual(['log/nexus.log', 'log/nexus.log#2', 'log/tasks/a.log']);
    expect(sources(result.incidents)).toEqual(['first/copy <- log/nexus.log', 'second/copy <- log/nexus.log#2']);
  });

  it('a zip replaced at the same path is listed again, not read through the directory kept of the old one', async () => {
    const dir = folder();
    const file = path.join(dir, 'support-replaced.zip');
    fs.writeFileSync(file, await zipBytes([{ path: 'log/nexus.log', data: 'old\n' }]));
    expect(await entryText(file, `${ROOT}/log/nexus.log`)).toBe('old\n');
    fs.writeFileSync(file, await zipBytes([{ path: 'log/request.log', data: 'padding entry\n' }, { path: 'log/nexus.log', data: 'new, longer\n' }]));
    expect(await entryText(file, `${ROOT}/log/nexus.log`)).toBe('new, longer\n');
    expect((await listSupportZip(file)).entries.map((e) => e.path)).toEqual(['log/request.log', 'log/nexus.log']);
  });
});

describe('support zips through the CLI', () => {
  it('reads the fixture in place: incidents with zip!entry sources, one info line, the truncation warnings', () => {
    const temp = folder();
    const result = runCli(['--format', 'ndjson', FIXTURE], { env: { TMPDIR: temp } });
    expect(result.status).toBe(0);
    const pushes = parseNdjson(result.stdout).filter((i) => i.rule === 'docker-manifest-missing-layers');
    expect(sources(pushes)).toEqual([
      'team/api <- log/nexus.log, log/request.log',
      'team/batch <- log/karaf.log',
      'team/web <- log/archived-logs//nexus-2025-09-09.log.gz',
    ]);
    expect(pushes.every((i) => i.evidence.every((e) => e.source.startsWith(`${FIXTURE}!`)))).toBe(true);
    const stderr = result.stderr.trim().split('\n');
    expect(stderr).toContain(`nexus-log-analyzer: support zip ${FIXTURE}: Nexus 3.77.1-01 OSS on node-a, Java 17.0.12 (Eclipse Adoptium), PostgreSQL database`);
    expect(stderr.filter((line) => line.startsWith('nexus-log-analyzer: warning: '))).toEqual([
      expect.stringContaining(`${FIXTURE}!log/karaf.log: cut by the support zip generator`),
      expect.stringContaining(`${FIXTURE}!log/outbound-request.log: replaced by "** TRUNCATED **"`),
    ]);
    expect(fs.readdirSync(temp)).toEqual([]);
  });

  it('a corrupt zip: exit 2 and one error line naming it', () => {
    const dir = folder();
    const bytes = fs.readFileSync(FIXTURE);
    const cut = path.join(dir, 'support-20250910-013622-1.zip');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const result = runCli(['--format', 'ndjson', cut]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`nexus-log-analyzer: error: ${cut}: incomplete or corrupt zip: its end record (the central directory) is missing; was the download or copy cut short?\n`);
  });
});

describe('the support zip fixture and the built-in rules', () => {
  it('exercises every built-in rule: each finds at least one incident in the zip (content/ has a line for each)', async () => {
    const found = new Set<string>();
    for await (const incident of analyzeFiles(FIXTURE)) found.add(incident.rule);
    expect(builtinRuleIds().filter((id) => !found.has(id))).toEqual([]);
    expect([...found].filter((id) => !builtinRuleIds().includes(id))).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
