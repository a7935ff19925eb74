/**
 * Live streams (stdin, FIFOs) go quiet: a push's 400 may be the last line for minutes, and an
 * unanswered burst must still close when its window passes. While no data arrives, every
 * `idleMs` the reader is told to complete the event in progress and to move event time
 * forward by the wall-clock time since the last data. Files are read to their end at once
 * and never see this, so batch results stay independent of timing.
 */

export const IDLE = Symbol('idle');

const NOT_YET = Symbol('not yet');

/** The next value of `next`, or IDLE when it takes longer than `idleMs`; the timer is always cleared. */
export async function nextOrIdle<T>(next: Promise<T>, idleMs: number): Promise<T | typeof IDLE> {
  // A busy stream has its next chunk ready: take it without arming a timer (a timer per
  // 64 KiB chunk cost ~0.4 s per GB through a pipe).
  const ready = await Promise.race([next, Promise.resolve(NOT_YET)]);
  if (ready !== NOT_YET) return ready as T;
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<typeof IDLE>((resolve) => {
    timer = setTimeout(() => resolve(IDLE), idleMs);
  });
  try {
    return await Promise.race([next, idle]);
  } finally {
    clearTimeout(timer);
  }
}

/** Maps wall-clock time since the last data onto event time. */
export class LiveClock {
  private eventTimeAtData = Number.NEGATIVE_INFINITY;
  private wallAtData = 0;

  /** Data arrived; `eventTime` is the latest log time seen after it. */
  data(eventTime: number, now: number = Date.now()): void {
    this.eventTimeAtData = eventTime;
    this.wallAtData = now;
  }

  /** The event time now, had the log kept writing; -Infinity before any event. */
  eventTimeNow(now: number = Date.now()): number {
    return this.eventTimeAtData + Math.max(0, now - this.wallAtData);
  }
}
