/** readInput: the bytes of an input as UTF-8, whatever encoding a Windows tool saved them in. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { analyzeFiles } from '../../src/api/analyze-files';
import type { Incident } from '../../src/incidents/incident';
import { readInput } from '../../src/source/read-input';
import { missingLayerLine, rejectionLine } from '../support/helpers';

const TEXT = `${[missingLayerLine('2025-09-10 01:36:22,857+0000', 'l1', 'team/app', '1.0'), rejectionLine('2025-09-10 01:36:22,900+0000', 'team/app', '1.0')].join('\r\n')}\r\n`;

function utf16(text: string, bigEndian: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = bigEndian ? Buffer.from(le).swap16() : le;
  return Buffer.concat([Buffer.from(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]), body]);
}

async function bytesOf(chunks: readonly Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of readInput({ kind: 'stdin', name: '-' }, { stdin: Readable.from(chunks) })) out.push(Buffer.from(chunk));
  return Buffer.concat(out).toString('utf8');
}

describe('readInput', () => {
  it('decodes UTF-16 with its BOM (little and big endian) in any chunking, a character cut between chunks included', async () => {
    for (const bigEndian of [false, true]) {
      const bytes = utf16(`${TEXT}é€😀\n`, bigEndian);
      for (const size of [1, 3, 1024]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
        expect(await bytesOf(chunks)).toBe(`${TEXT}é€😀\n`);
      }
    }
  });

  it('passes any other bytes through untouched, a first chunk of one byte included', async () => {
    const bytes = Buffer.from([0xff, 0x41, 0x0a, 0xfe]);
    expect(Buffer.from(await bytesOf([bytes.subarray(0, 1), bytes.subarray(1)]), 'utf8')).toEqual(Buffer.from(bytes.toString('utf8'), 'utf8'));
    expect(await bytesOf([Buffer.from('a'), Buffer.from('bc\n')])).toBe('abc\n');
  });

  it('a nexus.log saved as UTF-16 by PowerShell gives the same push as the original', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nla-utf16-'));
    writeFileSync(path.join(dir, 'nexus.log'), utf16(TEXT, false));
    const found: Incident[] = [];
    for await (const incident of analyzeFiles(path.join(dir, 'nexus.log'))) found.push(incident);
    expect(found.map((i) => i.rule)).toEqual(['docker-manifest-missing-layers']);
  });
});
