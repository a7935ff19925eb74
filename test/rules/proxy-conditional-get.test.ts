/** proxy-conditional-get-ignored (NEXUS-13363), from org.apache.http.headers DEBUG lines and outbound-request.log. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../../src/api/analyze-files';
import { parseOutboundLine } from '../../src/events/http-log-line';
import type { Incident } from '../../src/incidents/incident';
import { proxyConditionalGetIgnored } from '../../src/rules/builtin/proxy-conditional-get-ignored';
import { analyze } from '../support/helpers';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const at = (ms: number): string => `2017-05-10 10:00:${String(Math.floor(ms / 1000)).padStart(2, '0')},${String(ms % 1000).padStart(3, '0')}+0000`;
const header = (ms: number, text: string, thread = 'qtp-12'): string => `${at(ms)} DEBUG [${thread}]  admin org.apache.http.headers - ${text}`;

function exchange(conn: string, start: number, status: string, options: { conditional?: boolean; thread?: string; host?: string } = {}): string[] {
  const thread = options.thread ?? 'qtp-12';
  return [
    header(start, `${conn} >> GET /v2/library/nginx/blobs/${DIGEST} HTTP/1.1`, thread),
    header(start + 1, `${conn} >> Host: ${options.host ?? 'nexus-a.example.com:14440'}`, thread),
    ...(options.conditional === false ? [] : [header(start + 2, `${conn} >> If-Modified-Since: Wed, 10 May 2017 09:00:00 GMT`, thread)]),
    header(start + 3, `${conn} >> User-Agent: Nexus/3.3.1`, thread),
    header(start + 4, `${conn} << HTTP/1.1 ${status}`, thread),
    header(start + 5, `${conn} << Content-Length: 52428800`, thread),
  ];
}

const run = (lines: string[]): Incident[] => analyze(lines.join('\n'), { rules: [proxyConditionalGetIgnored] });

describe('proxy-conditional-get-ignored from HttpClient header lines', () => {
  it('a conditional GET of a layer answered 200 is an incident with the remote, the layer and the bytes', () => {
    const [incident] = run(exchange('http-outgoing-5', 0, '200 OK'));
    expect(incident).toMatchObject({
      subject: { type: 'remote', name: 'nexus-a.example.com:14440' },
      facts: { remote: 'nexus-a.example.com:14440', 'layers downloaded again': 1, bytes: 52428800 },
    });
    expect(incident?.summary).toBe('nexus-a.example.com:14440 answered 1 conditional GET of cached layers with 200: 52,428,800 bytes downloaded again instead of 304 Not Modified.');
    expect(incident?.diagnosis.remediation.join(' ')).toContain('component max age to -1');
    expect(incident?.diagnosis.explanation).toContain('If-Modified-Since');
  });

  it('a 304, or a 200 to a request that was not conditional, is fine', () => {
    expect(run(exchange('http-outgoing-5', 0, '304 Not Modified'))).toEqual([]);
    expect(run(exchange('http-outgoing-5', 0, '200 OK', { conditional: false }))).toEqual([]);
  });

  it('connections interleave; a reused connection starts a new exchange; a storm is one incident with the count', () => {
    const lines = [
      ...exchange('http-outgoing-5', 0, '200 OK'),
      ...exchange('http-outgoing-5', 100, '304 Not Modified'),
      ...exchange('http-outgoing-6', 200, '200 OK', { thread: 'qtp-13' }),
    ];
    for (let i = 0; i < 200; i++) lines.push(...exchange(`http-outgoing-${7 + (i % 5)}`, 1000 + i * 10, '200 OK'));
    const incidents = run(lines);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.facts['layers downloaded again']).toBe(202);
  });

  it('only DEBUG lines of org.apache.http.headers are read', () => {
    const lines = exchange('http-outgoing-5', 0, '200 OK').map((line) => line.replace('DEBUG', 'INFO '));
    expect(run(lines)).toEqual([]);
    expect(run(exchange('http-outgoing-5', 0, '200 OK').map((line) => line.replace('org.apache.http.headers', 'org.apache.http.wire')))).toEqual([]);
  });
});

describe('proxy-conditional-get-ignored from outbound-request.log', () => {
  const line = (time: string, status = 200, bytes = '52428800'): string =>
    `[10/May/2017:${time} +0000] *SYSTEM "GET https://nexus-a.example.com:14440/v2/library/nginx/blobs/${DIGEST} HTTP/1.1" ${status} ${bytes} 812 "Nexus/3.60.0-02 (OSS; Linux)" [qtp-12]`;

  it('parses the 3.59+ layout', () => {
    expect(parseOutboundLine(line('10:00:00'))).toMatchObject({
      kind: 'outbound',
      time: Date.UTC(2017, 4, 10, 10, 0, 0),
      user: '*SYSTEM',
      method: 'GET',
      url: `https://nexus-a.example.com:14440/v2/library/nginx/blobs/${DIGEST}`,
      status: 200,
      bytes: 52428800,
      elapsed: 812,
      userAgent: 'Nexus/3.60.0-02 (OSS; Linux)',
      thread: 'qtp-12',
    });
    expect(parseOutboundLine('2025-01-01 10:00:00,000+0000 INFO [x] y z - m')).toBeUndefined();
  });

  it('a layer downloaded in full more than once is an incident (rule on by default), read after nexus.log', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-outbound-'));
    writeFileSync(path.join(dir, 'nexus.log'), '2017-05-10 10:00:00,000+0000 INFO  [main]  *SYSTEM a.B - started\n');
    writeFileSync(path.join(dir, 'outbound-request.log'), [line('10:00:00'), line('10:20:00'), line('10:40:00'), line('10:50:00', 304, '-')].join('\n'));
    const out: Incident[] = [];
    for await (const i of analyzeFiles(dir)) out.push(i);
    const incident = out.find((i) => i.rule === 'proxy-conditional-get-ignored');
    expect(incident).toMatchObject({ subject: { type: 'remote', name: 'nexus-a.example.com:14440' }, count: 3, facts: { 'downloads again': 2 } });
    expect(incident?.summary).toBe('nexus-a.example.com:14440 sent 2 layers in full again that Nexus had already downloaded (1 blob URL fetched 3 times).');
    expect(incident?.evidence.map((e) => e.line)).toEqual([1, 2, 3]);
  });
});
