/** The wrappers logs come in (containers, pastes) are taken off, per source, in any chunking. */
import { LineFramer, type FramingKind } from '../../src/lines/framing';
import { LineSplitter } from '../../src/lines/line-splitter';
import { isNexusRecordStart } from '../../src/events/event-extractor';

function unwrap(text: string, chunk = text.length): { lines: string[]; framing: FramingKind | null; foreign: number; places: Array<[number, number]> } {
  const lines: string[] = [];
  const places: Array<[number, number]> = [];
  const framer = new LineFramer(
    {
      line: (buf, start, end, line, offset) => {
        lines.push(buf.toString('utf8', start, end));
        places.push([line, offset]);
      },
    },
    { isRecordStart: isNexusRecordStart, maxLineBytes: 1 << 20 },
  );
  const splitter = new LineSplitter(framer, { maxLineBytes: 1 << 20 });
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += Math.max(1, chunk)) splitter.write(bytes.subarray(at, at + Math.max(1, chunk)));
  splitter.end();
  framer.end();
  return { lines, framing: framer.framing, foreign: framer.counters.foreignLines, places };
}

const A = '2022-07-18 05:43:59,234+0000 INFO  [qtp1-507] admin org.x.A - first';
const B = '2022-07-18 05:43:59,237+0000 WARN  [qtp1-511] admin org.x.B - second';
const TRACE = '\tat org.x.C.d(C.java:1)';

describe('LineFramer', () => {
  it('passes a plain log through untouched', () => {
    expect(unwrap([A, TRACE, B].join('\n'))).toMatchObject({ lines: [A, TRACE, B], framing: 'plain' });
  });

  it('docker compose v1 and v2 prefixes, setting aside the lines of other services', () => {
    const text = [`nexus_1        | ${A}`, `db_1           | LOG:  database system is ready`, `nexus_1        | ${TRACE}`, `nexus_1        | ${B}`].join('\n');
    expect(unwrap(text)).toMatchObject({ lines: [A, TRACE, B], framing: 'compose', foreign: 1 });
    expect(unwrap([`nexus-1  | ${A}`, `nexus-1  | ${B}`].join('\n')).lines).toEqual([A, B]);
  });

  it('kubectl --prefix, CRI files (P parts joined) and Docker json-file lines', () => {
    expect(unwrap([`[pod/nexus-0/nexus] ${A}`, `[pod/nexus-0/nexus] ${B}`].join('\n'))).toMatchObject({ lines: [A, B], framing: 'kubectl' });
    const half = A.slice(0, 30);
    const cri = [`2024-05-01T10:00:00.123456789Z stdout P ${half}`, `2024-05-01T10:00:00.123456790Z stdout F ${A.slice(30)}`, `2024-05-01T10:00:01.000000000Z stderr F ${B}`].join('\n');
    expect(unwrap(cri)).toMatchObject({ lines: [A, B], framing: 'cri' });
    const json = [A, TRACE, B].map((line) => JSON.stringify({ log: `${line}\n`, stream: 'stdout', time: '2022-07-18T05:43:59.2Z' })).join('\n');
    expect(unwrap(json)).toMatchObject({ lines: [A, TRACE, B], framing: 'docker-json' });
  });

  it('markdown quotes and indentation, keeping a stack frame\'s own indentation', () => {
    expect(unwrap([`> ${A}`, `> ${TRACE}`, `>`, `> > ${B}`].join('\n'))).toMatchObject({ lines: [A, TRACE, '', B], framing: 'quoted' });
    expect(unwrap([`    ${A}`, `    ${TRACE}`, `    ${B}`].join('\n'))).toMatchObject({ lines: [A, TRACE, B], framing: 'indented' });
  });

  it('the systemd journal, short and ISO times, and names before every line (stern, a pod\'s console)', () => {
    const journal = [`Sep 10 01:36:22 repo1 nexus[812]: ${A}`, `Sep 10 01:36:22 repo1 nexus[812]: ${TRACE}`, `Sep  9 01:36:22 repo1 nexus[812]: ${B}`].join('\n');
    expect(unwrap(journal)).toMatchObject({ lines: [A, TRACE, B], framing: 'journal' });
    expect(unwrap([`2025-09-10T01:36:22+0000 repo1 nexus[812]: ${A}`, `2025-09-10T01:36:23+0000 repo1 nexus[812]: ${B}`].join('\n')).lines).toEqual([A, B]);
    const stern = [`nexus-nxrm-dd947787-vzxf8 nexus-repository-manager ${A}`, `nexus-nxrm-dd947787-vzxf8 nexus-repository-manager ${TRACE}`, `nexus-nxrm-dd947787-vzxf8 nexus-repository-manager ${B}`];
    expect(unwrap(stern.join('\n'))).toMatchObject({ lines: [A, TRACE, B], framing: 'prefixed' });
    // helm-charts#986: `nexus3 ` before every line, a script's own lines between records.
    expect(unwrap([`nexus3 ${A}`, 'nexus3 Updating anonymous access...', `nexus3 ${B}`].join('\n')).lines).toEqual([A, 'Updating anonymous access...', B]);
  });

  it('docker logs -t times, a log viewer column before ` | `, and a tab-separated export (CloudWatch)', () => {
    const stamped = [`2026-03-10T17:32:03.169783772Z ${A}`, `2026-03-10T17:32:03.169785013Z ${TRACE}`, `2026-03-10T17:32:03.169785708Z ${B}`];
    expect(unwrap(stamped.join('\n'))).toMatchObject({ lines: [A, TRACE, B], framing: 'timestamped' });
    // np-934: only a stack trace and logback's status lines, no record: the time column still goes.
    const stack = ['2026-03-10T17:32:03.169783772Z  at org.x.Main.main(Main.java:1)', '2026-03-10T17:32:03.169785013Z Caused by: java.lang.IllegalStateException: boom', '2026-03-10T17:32:03.169785708Z ERROR in ch.qos.logback.X - Could not create component'];
    expect(unwrap(stack.join('\n'))).toMatchObject({ lines: ['at org.x.Main.main(Main.java:1)', 'Caused by: java.lang.IllegalStateException: boom', 'ERROR in ch.qos.logback.X - Could not create component'], framing: 'timestamped' });
    const piped = [`Thu, Sep 28 2023 6:59:02 pm | ${TRACE.trim()}`, `Thu, Sep 28 2023 6:59:03 pm | ${A}`, `Thu, Sep 28 2023 6:59:03 pm | ${B}`];
    expect(unwrap(piped.join('\n'))).toMatchObject({ lines: [TRACE.trim(), A, B], framing: 'piped' });
    const tabbed = [`1755699474174\t2025-08-20T14:17:54.174Z\t${A}`, `1755699474175\t2025-08-20T14:17:54.175Z\t${B}`];
    expect(unwrap(tabbed.join('\n'))).toMatchObject({ lines: [A, B], framing: 'tabbed' });
  });

  it('a layout with ISO times and a level stays plain', () => {
    const iso = ['2025-09-10T01:36:22.857Z WARN  [qtp1-1] admin org.x.A - first', '2025-09-10T01:36:22.900Z INFO  [qtp1-1] admin org.x.B - second'];
    expect(unwrap(iso.join('\n')).framing).toBe('plain');
  });

  it('a plain line that happens to start with a word is not taken for a prefix', () => {
    expect(unwrap(['Caused by: java.io.IOException: 2022-07-18 05:43:59,234+0000', A].join('\n')).framing).toBe('plain');
  });

  it('lines before the first record wait for the decision, keep their places, and go through the same framing', () => {
    const text = ['nexus_1  | Nexus starting...', `nexus_1  | ${A}`].join('\n');
    const { lines, places } = unwrap(text);
    expect(lines).toEqual(['Nexus starting...', A]);
    expect(places).toEqual([
      [1, 0],
      [2, 29],
    ]);
  });

  it('decides the same way in any chunking', () => {
    const texts = [
      [`nexus_1  | ${A}`, `nexus_1  | ${TRACE}`, `nexus_1  | ${B}`].join('\n'),
      [`> ${A}`, `> ${B}`].join('\n'),
      [A, B].map((line) => JSON.stringify({ log: `${line}\n` })).join('\n'),
      [`Sep 10 01:36:22 repo1 nexus[812]: ${A}`, `Sep 10 01:36:22 repo1 nexus[812]: ${B}`].join('\n'),
      [`pod-0 nexus ${A}`, `pod-0 nexus ${TRACE}`, `pod-0 nexus ${B}`].join('\n'),
    ];
    for (const text of texts) {
      const whole = unwrap(text);
      for (const chunk of [1, 5, 64]) expect(unwrap(text, chunk)).toEqual(whole);
    }
  });

  it('gives up after many lines with no record: plain, nothing lost', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `not a log line ${i}`);
    expect(unwrap(lines.join('\n'))).toMatchObject({ lines, framing: 'plain' });
  });
});
