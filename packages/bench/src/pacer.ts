// --rate: one pacer shared by the loops of a generator hands out send slots 1000/rate ms apart; after a stall of
// more than a second it does not burst to catch up.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when the caller may send its next request; `rate` 0 means at once. */
export function pacer(rate: number): () => Promise<void> {
  if (rate <= 0) return () => Promise.resolve();
  const intervalMs = 1000 / rate;
  let nextSlot = performance.now();
  return async () => {
    const slot = nextSlot;
    nextSlot = Math.max(nextSlot + intervalMs, performance.now() - 1000);
    const wait = slot - performance.now();
    if (wait > 0) await sleep(wait);
  };
}
