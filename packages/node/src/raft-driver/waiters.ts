/**
 * Proposals waiting for their entry to be applied, keyed by the request id in the entry header
 * (etcd's wait.Wait). Bounded: beyond `max` waiters a proposal is refused (etcd's
 * ErrTooManyRequests once applied lags committed by 5000). Each waiter has a deadline; expired
 * ones are answered with etcd's `request timed out`. Waiters are kept in insertion order with a
 * constant timeout, so expiry only ever looks at the oldest.
 */
import { assert, CorvidError } from '../errors/index.js';

interface Waiter<R> {
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
  readonly deadlineMs: number;
}

export class Waiters<R> {
  private readonly byId = new Map<bigint, Waiter<R>>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byId.size;
  }

  isFull(): boolean {
    return this.byId.size >= this.max;
  }

  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  /** Registers a waiter for `id`; ids are unique per member (request-id.ts). */
  register(id: bigint, deadlineMs: number): Promise<R> {
    assert(!this.byId.has(id), `request id ${id} is already waiting`);
    return new Promise<R>((resolve, reject) => {
      this.byId.set(id, { resolve, reject, deadlineMs });
    });
  }

  /** Answers the waiter of `id`, if there is one (entries proposed elsewhere or replayed have none). */
  resolve(id: bigint, result: R): void {
    const w = this.byId.get(id);
    if (w === undefined) return;
    this.byId.delete(id);
    w.resolve(result);
  }

  reject(id: bigint, err: unknown): void {
    const w = this.byId.get(id);
    if (w === undefined) return;
    this.byId.delete(id);
    w.reject(err);
  }

  /** Answers every waiter whose deadline has passed with Timeout; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [id, w] of this.byId) {
      if (w.deadlineMs > nowMs) break;
      this.byId.delete(id);
      w.reject(new CorvidError('Timeout'));
      n++;
    }
    return n;
  }

  rejectAll(err: (() => unknown)): void {
    const all = [...this.byId.values()];
    this.byId.clear();
    for (const w of all) w.reject(err());
  }
}
