/** Retry pacing: doubling waits with jitter, capped, reset on success; and a sleep an abort cuts short. */

export class Backoff {
  private next: number;

  constructor(
    private readonly minMs = 250,
    private readonly maxMs = 30_000,
  ) {
    this.next = minMs;
  }

  /** The wait before the next try (grows each call, with up to 25 % jitter so edges do not retry in step). */
  delay(): number {
    const ms = this.next;
    this.next = Math.min(this.maxMs, this.next * 2);
    return Math.round(ms * (1 + Math.random() * 0.25));
  }

  reset(): void {
    this.next = this.minMs;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds or `signal` aborts (then resolves undefined), waiting with
 * backoff between tries; `onFailure` hears of the first failure and `onRecovery` of the success
 * after failures, so a long outage is one message, not one per try.
 */
export async function retrying<T>(
  attempt: () => Promise<T>,
  signal: AbortSignal,
  hooks: { onFailure?: (error: unknown) => void; onRecovery?: () => void; backoff?: Backoff } = {},
): Promise<T | undefined> {
  const backoff = hooks.backoff ?? new Backoff();
  let failed = false;
  while (!signal.aborted) {
    try {
      const value = await attempt();
      if (failed) hooks.onRecovery?.();
      return value;
    } catch (error) {
      if (!failed) hooks.onFailure?.(error);
      failed = true;
      await sleep(backoff.delay(), signal);
    }
  }
  return undefined;
}
