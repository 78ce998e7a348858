/**
 * The driver's only source of time: a monotonic millisecond clock and a repeating timer. The real
 * one wraps performance.now() and setInterval; tests (and a simulator) drive a manual one.
 */
export interface Clock {
  /** Monotonic milliseconds (never wall time). */
  nowMs(): number;
  /** Calls `fn` every `intervalMs` until the returned handle is cancelled. */
  every(intervalMs: number, fn: () => void): { cancel(): void };
}

export const REAL_CLOCK: Clock = {
  nowMs: () => performance.now(),
  every: (intervalMs, fn) => {
    const timer = setInterval(fn, intervalMs);
    return { cancel: () => clearInterval(timer) };
  },
};
