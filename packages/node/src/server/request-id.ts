/**
 * Request ids as etcd's idutil makes them: 16 bits of the member id, then 40 bits of the start
 * time in milliseconds, then an 8-bit counter that carries into the time. Ids from one member are
 * unique across restarts (time moves on), and ids from different members rarely collide; the
 * waiter also checks the proposing member, so a collision can never answer the wrong call.
 */
const TS_BITS = 40n;
const COUNT_BITS = 8n;
const SUFFIX_MASK = (1n << (TS_BITS + COUNT_BITS)) - 1n;

export class RequestIdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << (TS_BITS + COUNT_BITS);
    this.suffix = (BigInt(nowMs) << COUNT_BITS) & SUFFIX_MASK;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & SUFFIX_MASK;
    return this.prefix | this.suffix;
  }
}
