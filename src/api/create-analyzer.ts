/**
 * `createAnalyzer()`: the Analyzer as a Node Transform. Write raw chunks (Buffers or
 * strings, in any chunking) or, with `lines: true`, one line per write; read Incident objects.
 * A stream destroyed before its end still reports what was open: `'aborted'` gives those
 * incidents (closeReason `aborted`), never a silent loss.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Analyzer, type AnalyzerOptions, type AnalyzerStats } from '../analyzer';
import type { Incident } from '../incidents/incident';

export interface AnalyzerStreamOptions extends AnalyzerOptions {
  /** Each write is exactly one line (e.g. from split2 or a shipper); default false: raw chunks. */
  lines?: boolean;
}

export interface AnalyzerStream {
  on(event: 'data', listener: (incident: Incident) => void): this;
  /** The stream was destroyed with groups still open: they are here, closed with reason `aborted`. */
  on(event: 'aborted', listener: (incidents: readonly Incident[]) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  once(event: 'data', listener: (incident: Incident) => void): this;
  once(event: 'aborted', listener: (incidents: readonly Incident[]) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  read(size?: number): Incident | null;
  [Symbol.asyncIterator](): AsyncIterableIterator<Incident>;
}

export class AnalyzerStream extends Transform {
  private readonly analyzer: Analyzer;
  private readonly lineMode: boolean;
  /** What was open when the stream was destroyed before its end (closeReason `aborted`). */
  abortedIncidents: readonly Incident[] = [];

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

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.analyzer.hasEnded) {
      const open = this.analyzer.abort();
      this.abortedIncidents = open;
      if (error !== null) Object.assign(error, { incidents: open });
      if (open.length > 0) process.nextTick(() => this.emit('aborted', open));
    }
    callback(error);
  }

  private pushAll(incidents: readonly Incident[]): void {
    for (const incident of incidents) this.push(incident);
  }
}

export function createAnalyzer(options: AnalyzerStreamOptions = {}): AnalyzerStream {
  return new AnalyzerStream(options);
}
