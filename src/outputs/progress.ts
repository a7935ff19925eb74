/**
 * A progress line on stderr while files are read: bar, inputs done, MB read, MB/s, incidents.
 * Redrawn at most 10 times a second, on a timer (the analysis runs between reads), and
 * erased at the end. Only for a terminal; the CLI leaves it off for pipes and with --quiet.
 */
import type { Writable } from 'node:stream';

export interface ProgressSource {
  /** Done so far, 0 to 1. */
  fraction(): number;
  /** Bytes read so far (decompressed). */
  readBytes(): number;
  inputsDone(): number;
  inputs(): number;
  incidents(): number;
}

const BAR = 24;

export class ProgressLine {
  private readonly out: Writable;
  private readonly source: ProgressSource;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(out: Writable, source: ProgressSource) {
    this.out = out;
    this.source = source;
  }

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  /** Erases the line (before something else is written to the same terminal); the timer redraws it. */
  clear(): void {
    if (this.timer !== null) this.out.write('\r\u001b[K');
  }

  /** Draws the final state, then erases the line so the terminal is left clean. */
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.draw(true);
    this.out.write('\r\u001b[K');
  }

  /** `finished`: everything was read, whatever the estimates say. */
  private draw(finished = false): void {
    const fraction = finished ? 1 : Math.max(0, Math.min(1, this.source.fraction()));
    const inputsDone = finished ? this.source.inputs() : this.source.inputsDone();
    const filled = Math.round(fraction * BAR);
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const megabytes = this.source.readBytes() / 1e6;
    this.out.write(
      `\r\u001b[K[${'='.repeat(filled)}${' '.repeat(BAR - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ` +
        `${inputsDone}/${this.source.inputs()} inputs  ${megabytes.toFixed(0)} MB  ${(megabytes / seconds).toFixed(0)} MB/s  ` +
        `${this.source.incidents()} incidents`,
    );
  }
}
