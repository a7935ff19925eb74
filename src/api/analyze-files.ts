/**
 * `analyzeFiles(patterns)`: resolve inputs, read them in log-time order (rotated days
 * first, .gz transparently) through one Analyzer, and yield incidents as they close.
 */
import type { Readable } from 'node:stream';
import { Analyzer, type AnalyzerOptions } from '../analyzer';
import type { Incident } from '../incidents/incident';
import type { InputError } from '../source/input-error';
import { orderInputs } from '../source/order-inputs';
import { readInput } from '../source/read-input';
import { resolveInputs } from '../source/resolve-inputs';

export interface AnalyzeFilesOptions extends AnalyzerOptions {
  /**
   * Called when an input fails while being read (e.g. corrupt gzip); analysis goes on with
   * the next input. Without it, the incidents found so far are yielded and the error is thrown.
   */
  onInputError?: (error: InputError) => void;
  /** Called before each input is read, with its name (for progress or logging). */
  onInput?: (name: string) => void;
  /** Stream read for `-`. Default process.stdin. */
  stdin?: Readable;
  /** Receives the analyzer once created, e.g. to read its stats at the end. */
  analyzer?: (analyzer: Analyzer) => void;
  /**
   * Stops reading (e.g. on SIGTERM): every open group is then yielded with closeReason
   * `shutdown`, and the iteration ends normally.
   */
  signal?: AbortSignal;
}

/**
 * Yields every incident in the given files, directories (their nexus*.log*), glob patterns
 * or `-` (stdin). Throws an InputError naming the input when one cannot be found or read.
 */
export async function* analyzeFiles(
  patterns: string | readonly string[],
  options: AnalyzeFilesOptions = {},
): AsyncGenerator<Incident, void, undefined> {
  const inputs = await orderInputs(await resolveInputs(typeof patterns === 'string' ? [patterns] : patterns));
  const analyzer = new Analyzer(options);
  options.analyzer?.(analyzer);
  const readOptions = {
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  for (const input of inputs) {
    if (options.signal?.aborted) break;
    options.onInput?.(input.name);
    yield* analyzer.beginSource(input.name);
    try {
      for await (const chunk of readInput(input, readOptions)) yield* analyzer.write(chunk);
    } catch (error) {
      if (options.onInputError === undefined) {
        yield* analyzer.end(); // nothing found so far is lost
        throw error;
      }
      options.onInputError(error as InputError);
    }
  }
  yield* options.signal?.aborted ? analyzer.shutdown() : analyzer.end();
}
