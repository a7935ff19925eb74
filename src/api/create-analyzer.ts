/**
 * `createAnalyzer()`: the Analyzer as a Node Transform. Write raw chunks (Buffers or
 * strings, in any chunking) or, with `lines: true`, one line per write; read Incident objects.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Analyzer, type AnalyzerOptions, type AnalyzerStats } from '../analyzer';
import type { Incident } from '../incidents/incident';

export interface AnalyzerStreamOptions extends AnalyzerOptions {
  /** Each write is exactly one line (e.g. from split2 or a shipper); default false: raw chunks. */
  lines?: boolean;
}

export class AnalyzerStream extends Transform {
  private readonly analyzer: Analyzer;
  private readonly lineMode: boolean;

  constructor(options: AnalyzerStreamOptions = {}) {
    const lineMode = options.lines === true;
    super({ readableObjectMode: true, writableObjectMode: lineMode });
    this.analyzer = new Analyzer(options);
    this.lineMode = lineMode;
  }

  get stats(): AnalyzerStats {
    return this.analyzer.stats;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pushAll(this.lineMode ? this.analyzer.writeLine(chunk) : this.analyzer.write(chunk));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.pushAll(this.analyzer.end());
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private pushAll(incidents: readonly Incident[]): void {
    for (const incident of incidents) this.push(incident);
  }
}

export function createAnalyzer(options: AnalyzerStreamOptions = {}): AnalyzerStream {
  return new AnalyzerStream(options);
}
