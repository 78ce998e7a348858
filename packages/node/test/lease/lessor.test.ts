/**
 * Goal: the lessor's leader bookkeeping, as etcd 3.4's lessor with checkpoints: a follower never
 * expires; promote extends every lease (from its checkpoint when it has one, from its full TTL
 * otherwise or with checkpoints off) and spreads a pile-up; expired leases are found in order and
 * retried after 3 s; renew refreshes, refuses expired leases and queues a checkpoint clear; due
 * checkpoints carry the remaining TTL rounded up and come back one interval later.
 * Method: a real backend through the mvcc harness and a manual wall clock.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Applier } from '../../src/apply/index.js';
import { Lessor } from '../../src/lease/index.js';
import { Harness } from '../mvcc/harness.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

/** A harness whose applier has a lessor on a manual clock. */
function setup(checkpointIntervalMs = 60_000): { h: Harness; lessor: Lessor; clock: { now: number } } {
  const h = Harness.open();
  open.push(h);
  const clock = { now: 1_000_000 };
  const lessor = new Lessor(h.backend, { nowMs: () => clock.now, checkpointIntervalMs });
  h.applier = new Applier(h.backend, h.kv, lessor);
  return { h, lessor, clock };
}

const grant = (h: Harness, ID: bigint, TTL: number): void => {
  h.ok({ $case: 'leaseGrant', value: { ID, TTL: BigInt(TTL) } });
};
const checkpoint = (h: Harness, ID: bigint, remaining: number): void => {
  h.ok({ $case: 'leaseCheckpoint', value: { checkpoints: [{ ID, remainingTTL: BigInt(remaining) }] } });
};

describe('lessor', () => {
  it('never expires or renews on a member that is not primary', () => {
    const { h, lessor, clock } = setup();
    grant(h, 1n, 5);
    clock.now += 3_600_000;
    expect(lessor.findExpired(10)).toEqual([]);
    expect(lessor.renew(1n)).toEqual({ ok: false, reason: 'not-primary' });
    expect(lessor.remainingMs(1n)).toBe(Infinity);
  });

  it('promotes with the extension, expires in order, and retries a revoke after 3 s', () => {
    const { h, lessor, clock } = setup();
    grant(h, 1n, 10);
    grant(h, 2n, 5);
    lessor.promote(1000);
    expect(lessor.remainingMs(2n)).toBe(6000);
    expect(lessor.list()).toEqual([2n, 1n]);
    clock.now += 5999;
    expect(lessor.findExpired(10)).toEqual([]);
    clock.now += 1;
    expect(lessor.findExpired(10)).toEqual([2n]);
    expect(lessor.findExpired(10)).toEqual([]); // moved to the retry interval
    clock.now += 3000;
    expect(lessor.findExpired(10)).toEqual([2n]);
    clock.now += 5000;
    expect(lessor.findExpired(1)).toEqual([1n]); // limit
    expect(lessor.findExpired(10)).toEqual([2n]);
  });

  it('counts a lease granted on the primary from its proposal time', () => {
    const { h, lessor, clock } = setup();
    lessor.promote(0);
    clock.now += 500;
    grant(h, 3n, 4); // the harness stamps proposedAtMs 0: counted from the promotion instead
    expect(lessor.remainingMs(3n)).toBe(3500);
  });

  it('renews to the full TTL, refuses an expired lease, and demote stops everything', () => {
    const { h, lessor, clock } = setup();
    grant(h, 1n, 10);
    lessor.promote(0);
    clock.now += 9000;
    expect(lessor.renew(1n)).toEqual({ ok: true, ttlSeconds: 10 });
    expect(lessor.remainingMs(1n)).toBe(10_000);
    expect(lessor.renew(7n)).toEqual({ ok: false, reason: 'not-found' });
    clock.now += 10_000;
    expect(lessor.renew(1n)).toEqual({ ok: false, reason: 'not-found' });
    lessor.demote();
    expect(lessor.findExpired(10)).toEqual([]);
    expect(lessor.renew(1n)).toEqual({ ok: false, reason: 'not-primary' });
  });

  it('continues a checkpointed lease from its remaining TTL on promote; without checkpoints from its full TTL', async () => {
    const { h, lessor } = setup();
    grant(h, 1n, 3600);
    checkpoint(h, 1n, 1200);
    lessor.promote(1000);
    expect(lessor.remainingMs(1n)).toBe(1_201_000);
    await h.reopen(); // a restart with checkpoints off: etcd 3.4's renewal to the full TTL
    const off = new Lessor(h.backend, { nowMs: () => 0, checkpointIntervalMs: 0 });
    off.promote(1000);
    expect(off.remainingMs(1n)).toBe(3_601_000);
    expect(off.findDueCheckpoints(10)).toEqual([]);
  });

  it('proposes due checkpoints with the remaining TTL rounded up, again one interval later', () => {
    const { h, lessor, clock } = setup(60_000);
    grant(h, 1n, 3600);
    grant(h, 2n, 30); // shorter than the interval: never checkpointed
    lessor.promote(0);
    expect(lessor.findDueCheckpoints(10)).toEqual([]);
    clock.now += 60_000;
    expect(lessor.findDueCheckpoints(10)).toEqual([{ ID: 1n, remainingTTL: 3540n }]);
    expect(lessor.findDueCheckpoints(10)).toEqual([]);
    clock.now += 60_500;
    expect(lessor.findDueCheckpoints(10)).toEqual([{ ID: 1n, remainingTTL: 3480n }]);
  });

  it('queues a clear of a persisted checkpoint when the lease is renewed', () => {
    const { h, lessor, clock } = setup(60_000);
    grant(h, 1n, 3600);
    checkpoint(h, 1n, 1200);
    lessor.promote(0);
    clock.now += 1000;
    expect(lessor.renew(1n).ok).toBe(true);
    expect(lessor.remainingMs(1n)).toBe(3_600_000);
    expect(lessor.findDueCheckpoints(10)).toEqual([{ ID: 1n, remainingTTL: 0n }]);
    checkpoint(h, 1n, 0);
    expect(lessor.lookup(1n)?.remainingTtlSeconds).toBe(0);
    expect(lessor.renew(1n).ok).toBe(true);
    expect(lessor.findDueCheckpoints(10)).toEqual([]); // nothing persisted to clear
  });

  it('spreads a pile-up of expiries on promote to 3/4 of the revoke rate per second', () => {
    const { h, lessor, clock } = setup(0);
    const n = 3000;
    h.applier.applyBatch(Array.from({ length: n }, (_, i) => ({ index: i + 1, data: new Uint8Array(0) }))); // advance the index
    for (let i = 1; i <= n; i++) grant(h, BigInt(i), 10);
    lessor.promote(0);
    const perSecond: number[] = [];
    const seen = new Set<bigint>();
    for (let t = 0; t < 20; t++) {
      clock.now += 1000;
      const fresh = lessor.findExpired(n).filter((id) => !seen.has(id)); // not the 3 s retries
      for (const id of fresh) seen.add(id);
      perSecond.push(fresh.length);
    }
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(751);
    expect(perSecond.reduce((a, x) => a + x, 0)).toBeGreaterThanOrEqual(n);
  });
});
