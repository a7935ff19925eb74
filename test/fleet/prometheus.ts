/** A real HTTP scrape of a /metrics address, and the Prometheus text format parsed (samples by `name{labels}`). */
import { get } from 'node:http';

export function fetchText(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), body }));
    }).on('error', reject);
  });
}

/** Samples by series (`name` or `name{label="value",...}` as written), checking every line is well formed. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)(?: \d+)?$/i.exec(line);
    if (match === null) throw new Error(`bad sample line: ${line}`);
    samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

export async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetchText(url);
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
  return parsePrometheus(response.body);
}
