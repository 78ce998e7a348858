/**
 * Waiting on a condition with a deadline: the only way the cross-package tests wait (STYLE.md smell 12 —
 * no fixed sleeps). The poll interval is short and only bounds how quickly a true condition is noticed.
 */
import { setTimeout as delay } from 'node:timers/promises';

const POLL_INTERVAL_MS = 25;

/**
 * Resolves once `condition` returns true (or a truthy value, which is returned); rejects with `what`
 * once `deadlineMs` has passed. A condition that throws counts as "not yet".
 */
export async function waitFor<T>(
  condition: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  deadlineMs: number,
  what = 'condition',
): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${reason}`);
    }
    await delay(POLL_INTERVAL_MS);
  }
}
