/**
 * The bounded window of MsgApp sent to a follower in Replicate state and not yet acknowledged (etcd's Inflights).
 * Each slot holds the last index of one message. Invariant: indexes are increasing; count <= sizeMsgs.
 */
import { assert } from '../assert.js';

export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(readonly sizeMsgs: number, readonly maxBytes = 0) {
    assert(sizeMsgs > 0, 'maxInflightMsgs must be positive');
    this.indexes = new Array<number>(sizeMsgs).fill(0);
    this.sizes = new Array<number>(sizeMsgs).fill(0);
  }

  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights');
    const next = (this.start + this.count) % this.sizeMsgs;
    this.indexes[next] = index;
    this.sizes[next] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every slot whose index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= to) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.sizeMsgs;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.start]!);
  }

  full(): boolean {
    return this.count === this.sizeMsgs || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
