import { createReadStream, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import split2 from 'split2';
import { createAnalyzer } from '../../src/api/create-analyzer';
import type { Incident } from '../../src/incidents/incident';
import { SAMPLES } from '../support/helpers';

const SEED = path.join(SAMPLES, 'nexus-seed-excerpt.log');

async function collect(stream: AsyncIterable<Incident>): Promise<Incident[]> {
  const out: Incident[] = [];
  for await (const incident of stream) out.push(incident);
  return out;
}

describe('createAnalyzer (Transform)', () => {
  it('takes raw chunks of any size and yields incident objects', async () => {
    const analyzer = createAnalyzer();
    const [incidents] = await Promise.all([collect(analyzer), pipeline(createReadStream(SEED, { highWaterMark: 7 }), analyzer)]);
    expect(incidents.map((i) => i.rule)).toEqual(['docker-manifest-missing-layers']);
    expect(analyzer.stats.lines).toBe(10);
  });

  it('takes strings as raw text', async () => {
    const analyzer = createAnalyzer();
    const text = readFileSync(SEED, 'utf8');
    const [incidents] = await Promise.all([collect(analyzer), pipeline(Readable.from([text.slice(0, 1000), text.slice(1000)]), analyzer)]);
    expect(incidents).toHaveLength(1);
  });

  it('takes one line per write in line mode, e.g. after split2', async () => {
    const analyzer = createAnalyzer({ lines: true });
    const [incidents] = await Promise.all([collect(analyzer), pipeline(createReadStream(SEED), split2(), analyzer)]);
    expect(incidents.map((i) => (i as Incident & { repository: string }).repository)).toEqual(['ctbots-docker']);
  });

  it('passes options through (window)', async () => {
    const analyzer = createAnalyzer({ windowMs: 1 });
    const [incidents] = await Promise.all([collect(analyzer), pipeline(createReadStream(SEED), analyzer)]);
    expect(incidents.length).toBeGreaterThan(1);
  });

  it('emits open groups when the writable side ends', async () => {
    const analyzer = createAnalyzer();
    const firstLine = readFileSync(SEED, 'utf8').split('\n').slice(0, 2).join('\n');
    const [incidents] = await Promise.all([collect(analyzer), pipeline(Readable.from([firstLine]), analyzer)]);
    expect(incidents.map((i) => i.closeReason)).toEqual(['end-of-input']);
  });

  it('a stream destroyed mid-push reports the open push as aborted, never loses it silently', async () => {
    const analyzer = createAnalyzer();
    const firstLine = readFileSync(SEED, 'utf8').split('\n').slice(0, 2).join('\n');
    const aborted = new Promise<readonly Incident[]>((resolve) => analyzer.once('aborted', resolve));
    analyzer.write(`${firstLine}\n`);
    analyzer.destroy();
    const incidents = await aborted;
    expect(incidents.map((i) => [i.rule, i.closeReason])).toEqual([['docker-manifest-missing-layers', 'aborted']]);
    expect(analyzer.abortedIncidents).toEqual(incidents);
  });

  it('a stream destroyed with an error carries the open incidents on the error', async () => {
    const analyzer = createAnalyzer();
    analyzer.write(`${readFileSync(SEED, 'utf8').split('\n')[0] as string}\n`);
    const failed = new Promise<Error & { incidents?: Incident[] }>((resolve) => analyzer.once('error', resolve));
    analyzer.destroy(new Error('upstream broke'));
    expect((await failed).incidents?.map((i) => i.closeReason)).toEqual(['aborted']);
  });

  it('yields typed incidents to for await', async () => {
    const analyzer = createAnalyzer();
    analyzer.end(readFileSync(SEED));
    const summaries: string[] = [];
    for await (const incident of analyzer) summaries.push(incident.summary); // typed: Incident, not any
    expect(summaries[0]).toMatch(/^Docker push of ctbots/);
  });
});
