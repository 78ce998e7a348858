/**
 * A deduplicating, delayed work queue with one worker: a key is queued at most once (the earliest due time
 * wins), a key being processed that is queued again runs again after it finishes, and failures back off
 * exponentially per key. Keys are object names, so the queue is bounded by the number of watched objects;
 * the backoff table is bounded by MAX_TRACKED_KEYS (the oldest entry goes first).
 */
const MAX_TRACKED_KEYS = 10_000;
const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 30_000;

export type Handler = (key: string) => Promise<number | undefined>;

export class WorkQueue {
  private readonly due = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly handler: Handler,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  add(key: string, delayMs = 0): void {
    const at = Date.now() + delayMs;
    const current = this.due.get(key);
    if (current === undefined || at < current) this.due.set(key, at);
    this.wake?.();
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private next(): [string, number] | undefined {
    let best: [string, number] | undefined;
    for (const entry of this.due) if (best === undefined || entry[1] < best[1]) best = entry;
    return best;
  }

  private async idle(untilMs: number | undefined): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (untilMs !== undefined) this.timer = setTimeout(resolve, Math.max(0, untilMs - Date.now()));
    });
    clearTimeout(this.timer);
    this.wake = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const next = this.next();
      if (next === undefined || next[1] > Date.now()) {
        await this.idle(next?.[1]);
        continue;
      }
      const [key] = next;
      this.due.delete(key);
      try {
        const requeueMs = await this.handler(key);
        this.failures.delete(key);
        if (requeueMs !== undefined) this.add(key, requeueMs);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.delete(key);
        this.failures.set(key, n);
        if (this.failures.size > MAX_TRACKED_KEYS) this.failures.delete(this.failures.keys().next().value as string);
        this.onError(key, err);
        this.add(key, Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (n - 1)));
      }
    }
  }
}
