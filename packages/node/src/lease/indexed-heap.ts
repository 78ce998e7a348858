/**
 * A binary min-heap of lease ids ordered by a time in milliseconds, with one entry per id that can
 * be moved or removed in O(log n) (etcd's LeaseExpiredNotifier / LeaseQueue): the lessor keeps one
 * for expiries and one for scheduled checkpoints, so finding what is due is a peek, and a renewal
 * updates the lease's entry instead of piling up stale ones.
 */
import { assert } from '../errors/index.js';

export interface HeapItem {
  readonly id: bigint;
  readonly timeMs: number;
}

export class IndexedHeap {
  private readonly ids: bigint[] = [];
  private readonly times: number[] = [];
  /** id → its position in `ids`/`times`; invariant: positions[ids[i]] === i. */
  private readonly positions = new Map<bigint, number>();

  get size(): number {
    return this.ids.length;
  }

  has(id: bigint): boolean {
    return this.positions.has(id);
  }

  timeOf(id: bigint): number | undefined {
    const at = this.positions.get(id);
    return at === undefined ? undefined : this.times[at];
  }

  /** Inserts `id` at `timeMs`, or moves its entry there. */
  set(id: bigint, timeMs: number): void {
    const at = this.positions.get(id);
    if (at === undefined) {
      this.ids.push(id);
      this.times.push(timeMs);
      this.positions.set(id, this.ids.length - 1);
      this.up(this.ids.length - 1);
      return;
    }
    const before = this.times[at] as number;
    this.times[at] = timeMs;
    if (timeMs < before) this.up(at);
    else this.down(at);
  }

  delete(id: bigint): boolean {
    const at = this.positions.get(id);
    if (at === undefined) return false;
    const last = this.ids.length - 1;
    this.swap(at, last);
    this.ids.pop();
    this.times.pop();
    this.positions.delete(id);
    if (at < this.ids.length) {
      this.down(at);
      this.up(at);
    }
    return true;
  }

  peek(): HeapItem | undefined {
    const id = this.ids[0];
    return id === undefined ? undefined : { id, timeMs: this.times[0] as number };
  }

  pop(): HeapItem | undefined {
    const top = this.peek();
    if (top !== undefined) this.delete(top.id);
    return top;
  }

  clear(): void {
    this.ids.length = 0;
    this.times.length = 0;
    this.positions.clear();
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.ids.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, i)) return;
      this.swap(i, child);
      i = child;
    }
  }

  /** Ties break by id so the order is total (a deterministic pop order for equal times). */
  private less(a: number, b: number): boolean {
    const ta = this.times[a] as number;
    const tb = this.times[b] as number;
    return ta < tb || (ta === tb && (this.ids[a] as bigint) < (this.ids[b] as bigint));
  }

  private swap(a: number, b: number): void {
    if (a === b) return;
    const ia = this.ids[a] as bigint;
    const ib = this.ids[b] as bigint;
    this.ids[a] = ib;
    this.ids[b] = ia;
    const t = this.times[a] as number;
    this.times[a] = this.times[b] as number;
    this.times[b] = t;
    this.positions.set(ib, a);
    this.positions.set(ia, b);
    assert(this.ids.length === this.times.length, 'heap arrays out of step');
  }
}
