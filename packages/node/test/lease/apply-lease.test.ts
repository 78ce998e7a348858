/**
 * Goal: leases as the applier changes them, etcd 3.4's rules: grant (exists, too large), put with a
 * lease (not found; attach; moving a key between leases; ignore_lease keeps it), deletes and txn
 * deletes detach, revoke deletes every attached key at ONE revision in the same transaction and
 * forgets the lease, checkpoints persist, everything survives a reopen, and the same log gives
 * byte-identical lease tables on two stores. Method: real LMDB through the mvcc test harness.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { etcdserverpb } from '@corvid/proto';
import { Harness, b, delOp, encodeEntry, putOp, rDel, rPut, s, txnOp, type Op } from '../mvcc/harness.js';
import type { Backend } from '../../src/storage/index.js';

const open: Harness[] = [];
const harness = (): Harness => {
  const h = Harness.open();
  open.push(h);
  return h;
};
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

const grant = (ID: bigint, TTL: number): Op => ({ $case: 'leaseGrant', value: { ID, TTL: BigInt(TTL) } });
const revoke = (ID: bigint): Op => ({ $case: 'leaseRevoke', value: { ID } });
const checkpoint = (ID: bigint, remaining: number): Op => ({ $case: 'leaseCheckpoint', value: { checkpoints: [{ ID, remainingTTL: BigInt(remaining) }] } });
const keysOf = (h: Harness, id: bigint): string[] => h.applier.leases.keys(id).map(s);

function dumpLeases(backend: Backend): string[] {
  const out: string[] = [];
  for (const [name, db] of [['leases', backend.leases], ['leaseKeys', backend.leaseKeys]] as const) {
    for (const { key, value } of db.getRange({})) out.push(`${name} ${key.toString('hex')} ${value.toString('hex')}`);
  }
  return out;
}

describe('lease apply', () => {
  it('grants a lease once, refuses an existing id and a TTL over MaxLeaseTTL, and keeps the revision', () => {
    const h = harness();
    h.put('a', '1');
    const r = h.ok<etcdserverpb.LeaseGrantResponse>(grant(7n, 30));
    expect([r.ID, r.TTL, r.header?.revision]).toEqual([7n, 30n, 2n]);
    expect(h.err(grant(7n, 30))).toBe('LeaseExist');
    expect(h.err(grant(8n, 9_000_000_001))).toBe('LeaseTTLTooLarge');
    expect(h.ok<etcdserverpb.LeaseGrantResponse>(grant(9n, 9_000_000_000)).TTL).toBe(9_000_000_000n);
    expect(h.applier.leases.list().sort()).toEqual([7n, 9n]);
    expect(h.kv.currentRevision()).toBe(2);
  });

  it('refuses a put with an unknown lease, in a txn too, before any write', () => {
    const h = harness();
    expect(h.err(putOp('a', '1', { lease: 5n }))).toBe('LeaseNotFound');
    expect(h.err(txnOp({ success: [rPut('b', '1'), rPut('a', '1', { lease: 5n })] }))).toBe('LeaseNotFound');
    expect(h.kv.currentRevision()).toBe(1);
  });

  it('attaches keys on put, moves them between leases and detaches them on delete, txn deletes included', () => {
    const h = harness();
    h.ok(grant(1n, 60));
    h.ok(grant(2n, 60));
    h.put('a', '1', { lease: 1n });
    h.put('b', '1', { lease: 1n });
    h.put('c', '1', { lease: 1n });
    h.put('d', '1', { lease: 2n });
    expect(keysOf(h, 1n)).toEqual(['a', 'b', 'c']);
    h.put('a', '2', { lease: 2n }); // moves
    h.put('b', '2'); // detaches
    h.put('d', '3', { ignoreLease: true }); // keeps
    expect(keysOf(h, 1n)).toEqual(['c']);
    expect(keysOf(h, 2n)).toEqual(['a', 'd']);
    h.del('c');
    h.txn({ success: [rDel('a')] });
    expect(keysOf(h, 1n)).toEqual([]);
    expect(keysOf(h, 2n)).toEqual(['d']);
  });

  it('follows a key through a txn that puts and deletes it, in either order', () => {
    const h = harness();
    h.ok(grant(1n, 60));
    h.ok(grant(2n, 60));
    h.txn({ success: [rPut('a', '1', { lease: 1n }), rDel('a')] }); // attached, then detached
    expect(keysOf(h, 1n)).toEqual([]);
    h.put('b', '1', { lease: 1n });
    h.txn({ success: [rDel('b'), rPut('b', '2', { lease: 2n })] }); // detached from 1, then a new key on 2
    expect([keysOf(h, 1n), keysOf(h, 2n)]).toEqual([[], ['b']]);
  });

  it('revokes: every attached key deleted at one revision, the lease forgotten, other keys untouched', () => {
    const h = harness();
    h.ok(grant(1n, 60));
    h.put('x', '1', { lease: 1n });
    h.put('a', '1', { lease: 1n });
    h.put('keep', '1');
    const before = h.kv.currentRevision();
    const r = h.ok<etcdserverpb.LeaseRevokeResponse>(revoke(1n));
    expect(r.header?.revision).toBe(BigInt(before + 1));
    expect(h.keys({ key: b('\0'), rangeEnd: b('\0') })).toEqual(['keep']);
    expect(h.range({ key: b('a'), revision: before }).kvs.length).toBe(1);
    expect(h.applier.leases.lookup(1n)).toBeUndefined();
    expect(dumpLeases(h.backend)).toEqual([]);
    expect(h.err(revoke(1n))).toBe('LeaseNotFound');
    expect(h.err(putOp('a', '2', { lease: 1n }))).toBe('LeaseNotFound');
  });

  it('revokes a lease without keys without moving the revision', () => {
    const h = harness();
    h.ok(grant(3n, 60));
    const before = h.kv.currentRevision();
    expect(h.ok<etcdserverpb.LeaseRevokeResponse>(revoke(3n)).header?.revision).toBe(BigInt(before));
  });

  it('persists leases, attachments and checkpoints across a reopen', async () => {
    const h = harness();
    h.ok(grant(4n, 3600));
    h.put('k', 'v', { lease: 4n });
    h.ok(checkpoint(4n, 1200));
    h.ok(checkpoint(99n, 5)); // unknown: skipped, as etcd
    await h.reopen();
    expect(h.applier.leases.lookup(4n)).toEqual(expect.objectContaining({ ttlSeconds: 3600, remainingTtlSeconds: 1200 }));
    expect(keysOf(h, 4n)).toEqual(['k']);
    expect(h.applier.leases.lookup(99n)).toBeUndefined();
  });

  it('gives byte-identical lease tables for the same log on two stores', () => {
    const ops: Op[] = [grant(1n, 10), grant(-5n, 20), putOp('a', '1', { lease: 1n }), putOp('b', '1', { lease: -5n }), checkpoint(-5n, 7), delOp('a'), revoke(1n), putOp('c', '1', { lease: -5n })];
    const [x, y] = [harness(), harness()];
    const log = ops.map((op, i) => encodeEntry(i + 1, op));
    x.applier.applyBatch(log);
    for (const e of log) y.applier.applyBatch([e]);
    expect(dumpLeases(x.backend)).toEqual(dumpLeases(y.backend));
    expect(dumpLeases(x.backend).length).toBe(3);
  });
});
