/** The CLI's memory relief: a full collection once RSS passes its threshold, never below it. */
import { startMemoryRelief } from '../../src/cli/memory-relief';

describe('startMemoryRelief', () => {
  it('collects the garbage a run left once RSS is above the threshold', async () => {
    let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `line ${i}` }));
    expect(garbage.length).toBe(200_000);
    garbage = null;
    const freed = await new Promise<number>((resolve) => {
      const stop = startMemoryRelief(1, (bytes) => {
        stop();
        resolve(bytes);
      });
    });
    expect(freed).toBeGreaterThan(0);
  });

  it('does nothing while RSS stays under the threshold', async () => {
    let collected = 0;
    const stopHigh = startMemoryRelief(Number.MAX_SAFE_INTEGER, () => collected++);
    // Observable: a relief with a threshold of 1 byte collects at its first check; the other has checked by then too.
    await new Promise<void>((resolve) => {
      const stopLow = startMemoryRelief(1, () => {
        stopLow();
        resolve();
      });
    });
    stopHigh();
    expect(collected).toBe(0);
  });
});
