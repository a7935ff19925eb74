/** proxy-conditional-get-ignored (NEXUS-13363), from org.apache.http.headers DEBUG lines. */
import { builtinRules } from '../../src/rules/builtin/index';
import { analyze } from '../support/helpers';
import type { ConditionalGetIncident } from '../../src/rules/builtin/proxy-conditional-get-ignored';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const at = (ms: string): string => `2017-05-10 10:00:00,${ms}+0000`;
const header = (ms: string, text: string, thread = 'qtp-12'): string => `${at(ms)} DEBUG [${thread}]  admin org.apache.http.headers - ${text}`;

function exchange(conn: string, start: number, status: string, conditional = true, thread = 'qtp-12'): string[] {
  const t = (n: number): string => String(start + n).padStart(3, '0');
  return [
    header(t(0), `${conn} >> GET /v2/library/nginx/blobs/${DIGEST} HTTP/1.1`, thread),
    header(t(1), `${conn} >> Host: nexus-a.example.com:14440`, thread),
    ...(conditional ? [header(t(2), `${conn} >> If-Modified-Since: Wed, 10 May 2017 09:00:00 GMT`, thread)] : []),
    header(t(3), `${conn} >> User-Agent: Nexus/3.3.1`, thread),
    header(t(4), `${conn} << HTTP/1.1 ${status}`, thread),
    header(t(5), `${conn} << Content-Length: 52428800`, thread),
  ];
}

const run = (lines: string[]): ConditionalGetIncident[] =>
  analyze(lines.join('\n'), { rules: builtinRules({ optional: ['proxy-conditional-get-ignored'] }) }).filter(
    (i) => i.rule === 'proxy-conditional-get-ignored',
  ) as ConditionalGetIncident[];

describe('proxy-conditional-get-ignored', () => {
  it('a conditional GET of a layer answered 200 is an incident with the remote, the digest and the bytes', () => {
    const [incident] = run(exchange('http-outgoing-5', 0, '200 OK'));
    expect(incident).toMatchObject({
      remote: 'nexus-a.example.com:14440',
      digest: DIGEST,
      bytes: 52428800,
      conditional: 'If-Modified-Since: Wed, 10 May 2017 09:00:00 GMT',
      closeReason: 'matched',
    });
    expect(incident?.summary).toBe(`nexus-a.example.com:14440 answered a conditional GET of layer ${DIGEST} with 200: 52428800 bytes downloaded again instead of 304 Not Modified.`);
    expect(incident?.diagnosis.remediation.join(' ')).toContain('component max age to -1');
    expect(incident?.evidence).toHaveLength(5); // request, Host, If-Modified-Since, status, length (not User-Agent)
  });

  it('a 304, or a 200 to a request that was not conditional, is fine', () => {
    expect(run(exchange('http-outgoing-5', 0, '304 Not Modified'))).toEqual([]);
    expect(run(exchange('http-outgoing-5', 0, '200 OK', false))).toEqual([]);
  });

  it('keeps connections and threads apart, and a reused connection starts a new exchange', () => {
    const lines = [...exchange('http-outgoing-5', 0, '200 OK'), ...exchange('http-outgoing-5', 100, '304 Not Modified'), ...exchange('http-outgoing-6', 200, '200 OK', true, 'qtp-13')];
    expect(run(lines).map((i) => [i.thread, i.evidence[0]?.text.includes('http-outgoing-6')])).toEqual([
      ['qtp-12', false],
      ['qtp-13', true],
    ]);
  });

  it('repeats of the same layer from the same remote share a fingerprint and count occurrences', () => {
    const incidents = run([...exchange('http-outgoing-5', 0, '200 OK'), ...exchange('http-outgoing-5', 100, '200 OK')]);
    expect(incidents.map((i) => i.occurrences)).toEqual([1, 2]);
  });
});

describe('outbound-request.log', () => {
  const { parseOutboundLine, isOutboundLogName } = require('../../src/source/outbound-log') as typeof import('../../src/source/outbound-log');
  const line = (time: string, status = 200, bytes = '52428800'): string =>
    `[10/May/2017:${time} +0000] *SYSTEM "GET https://nexus-a.example.com:14440/v2/library/nginx/blobs/${DIGEST} HTTP/1.1" ${status} ${bytes} 812 "Nexus/3.60.0-02 (OSS; Linux)" [qtp-12]`;

  it('parses the 3.59+ layout', () => {
    expect(parseOutboundLine(line('10:00:00'))).toEqual({
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
    expect(isOutboundLogName('/nexus-data/log/outbound-request.log')).toBe(true);
    expect(isOutboundLogName('/nexus-data/log/request.log')).toBe(false);
  });

  it('a layer downloaded in full more than once is an incident, with the bytes fetched again (rule on)', async () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const dir = fs.mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'nla-outbound-'));
    fs.writeFileSync(`${dir}/nexus.log`, '2017-05-10 10:00:00,000+0000 INFO  [main]  *SYSTEM a.B - started\n');
    fs.writeFileSync(`${dir}/outbound-request.log`, [line('10:00:00'), line('11:00:00'), line('12:00:00'), line('12:30:00', 304, '-')].join('\n'));
    const { analyzeFiles } = require('../../src/api/analyze-files') as typeof import('../../src/api/analyze-files');
    const collect = async (optional: string[]) => {
      const out: ConditionalGetIncident[] = [];
      for await (const i of analyzeFiles(dir, { rules: builtinRules({ optional }) })) out.push(i as ConditionalGetIncident);
      return out.filter((i) => i.rule === 'proxy-conditional-get-ignored');
    };
    const [incident] = await collect(['proxy-conditional-get-ignored']);
    expect(incident).toMatchObject({ remote: 'nexus-a.example.com:14440', digest: DIGEST, bytes: 2 * 52428800, revision: 3 });
    expect(incident?.summary).toBe(`nexus-a.example.com:14440 sent layer ${DIGEST} in full 3 times: 104857600 bytes downloaded again.`);
    expect(incident?.evidence.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(await collect([])).toEqual([]); // off by default
  });
});
