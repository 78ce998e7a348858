/**
 * Goal: every RangeRequest option behaves as etcd 3.4's. Method: replay the write sequence we ran
 * against a real etcd 3.4.23 (through its JSON gateway) and expect the responses etcd gave: same
 * keys, order, count, more and header revision. Revisions 6..12 hold k1..k5 and two rewrites of k2.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { etcdserverpb } from '@corvid/proto';
import { Harness, b, rPut, s } from './harness.js';

const { RangeRequest_SortOrder: Order, RangeRequest_SortTarget: Target } = etcdserverpb;
const ZERO = Buffer.from([0]);
let h: Harness;

beforeAll(() => {
  h = Harness.open();
  h.put('a', '1'); // 2
  h.put('a', '2'); // 3
  h.txn({ success: [rPut('b', 'x'), rPut('c', 'y')] }); // 4
  h.put('ok', '1'); // 5
  for (const k of ['k1', 'k2', 'k3', 'k4', 'k5']) h.put(k, `v${k}`); // 6..10
  h.put('k2', 'zz'); // 11
  h.put('k2', 'aa'); // 12
});
afterAll(async () => {
  await h.close();
});

const K = { key: b('k'), rangeEnd: b('l') };

describe('range', () => {
  it('reads a single key, a prefix, from a key, and everything', () => {
    expect(h.keys({ key: b('k2') })).toEqual(['k2']);
    expect(h.keys({ key: b('k2x') })).toEqual([]);
    expect(h.keys(K)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    expect(h.range({ key: b('k3'), rangeEnd: ZERO, countOnly: true }).count).toBe(4n);
    expect(h.range({ key: ZERO, rangeEnd: ZERO, countOnly: true }).count).toBe(9n);
    expect(h.range({ key: b('k3'), rangeEnd: b('k1') })).toMatchObject({ kvs: [], count: 0n, more: false });
  });

  it('limits with more and counts every key in range', () => {
    const r = h.range({ ...K, limit: 2n, keysOnly: true });
    expect(r.kvs.map((kv) => s(kv.key))).toEqual(['k1', 'k2']);
    expect(r).toMatchObject({ more: true, count: 5n });
    expect(r.kvs[1]).toMatchObject({ createRevision: 7n, modRevision: 12n, version: 3n, value: Buffer.alloc(0) });
    expect(h.range({ ...K, limit: 5n })).toMatchObject({ more: false, count: 5n });
  });

  it('count_only returns no kvs and ignores limit', () => {
    expect(h.range({ ...K, limit: 2n, countOnly: true })).toMatchObject({ kvs: [], count: 5n, more: false });
  });

  it('applies mod/create filters after fetching; count is the unfiltered count', () => {
    const r = h.range({ ...K, limit: 1n, minModRevision: 8n, keysOnly: true });
    expect(r.kvs.map((kv) => s(kv.key))).toEqual(['k2']);
    expect(r).toMatchObject({ more: true, count: 5n });
    const c = h.range({ ...K, maxCreateRevision: 7n });
    expect(c.kvs.map((kv) => s(kv.key))).toEqual(['k1', 'k2']);
    expect(c).toMatchObject({ more: false, count: 5n });
    expect(h.keys({ ...K, minCreateRevision: 9n })).toEqual(['k4', 'k5']);
    expect(h.keys({ ...K, maxModRevision: 7n })).toEqual(['k1']);
  });

  it('sorts: NONE with a non-KEY target means ASCEND; ties stay in key order', () => {
    expect(h.keys({ ...K, sortTarget: Target.VERSION })).toEqual(['k1', 'k3', 'k4', 'k5', 'k2']);
    const v = h.range({ ...K, sortTarget: Target.VALUE, sortOrder: Order.DESCEND, limit: 2n });
    expect(v.kvs.map((kv) => s(kv.value))).toEqual(['vk5', 'vk4']);
    expect(v).toMatchObject({ more: true, count: 5n });
    expect(h.keys({ ...K, sortOrder: Order.DESCEND })).toEqual(['k5', 'k4', 'k3', 'k2', 'k1']);
    expect(h.keys({ ...K, sortTarget: Target.MOD, sortOrder: Order.DESCEND })).toEqual(['k2', 'k5', 'k4', 'k3', 'k1']);
    expect(h.keys({ ...K, sortTarget: Target.CREATE, sortOrder: Order.DESCEND })).toEqual(['k5', 'k4', 'k3', 'k2', 'k1']);
  });

  it('reads at a past revision; header.revision stays the current revision', () => {
    const r = h.range({ ...K, revision: 7n });
    expect(r.header?.revision).toBe(12n);
    expect(r.kvs.map((kv) => [s(kv.key), s(kv.value)])).toEqual([['k1', 'vk1'], ['k2', 'vk2']]);
    expect(r.count).toBe(2n);
    expect(h.range({ key: b('k2'), revision: 11n }).kvs[0]).toMatchObject({ value: b('zz'), modRevision: 11n, version: 2n });
    expect(h.range({ key: b('k2'), revision: 5n }).kvs).toEqual([]);
    expect(h.range({ ...K, revision: 9n, limit: 2n })).toMatchObject({ more: true, count: 4n });
    expect(h.range({ ...K, revision: 9n, countOnly: true }).count).toBe(4n);
    expect(h.keys({ key: ZERO, rangeEnd: ZERO, revision: 4n })).toEqual(['a', 'b', 'c']);
  });

  it('revision 0 is the current one, the current one is allowed, above it is FutureRev', () => {
    expect(h.range({ ...K, revision: 12n, countOnly: true }).count).toBe(5n);
    expect(() => h.range({ ...K, revision: 13n })).toThrow(expect.objectContaining({ code: 'FutureRev' }));
  });

  it('keys_only drops values; serializable changes nothing on one member', () => {
    expect(h.range({ key: b('k1'), keysOnly: true }).kvs[0]?.value).toEqual(Buffer.alloc(0));
    expect(h.range({ key: b('k1'), serializable: true }).kvs[0]?.value).toEqual(b('vk1'));
  });
});
