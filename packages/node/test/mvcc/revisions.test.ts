/**
 * Goal: etcd's revision model. One main revision per changing request, sub-revisions inside it,
 * create_revision / mod_revision / version (reset by a delete), tombstones, and no bump for
 * requests that change nothing. Method: apply requests through the Applier on a real LMDB store
 * and compare responses and ranges with what etcd 3.4 returned for the same sequence.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Harness, b, s } from './harness.js';

let h: Harness;
beforeEach(() => {
  h = Harness.open();
});
afterEach(async () => {
  await h.close();
});

describe('revisions', () => {
  it('starts at revision 1 and each put bumps it by one', () => {
    expect(h.kv.currentRevision()).toBe(1);
    expect(h.range({ key: b('a') }).header?.revision).toBe(1n);
    expect(h.put('a', '1').header?.revision).toBe(2n);
    expect(h.put('b', '1').header?.revision).toBe(3n);
    expect(h.kv.currentRevision()).toBe(3);
  });

  it('tracks create, mod and version; a delete resets them', () => {
    h.put('a', '1');
    h.put('a', '2');
    const [kv] = h.range({ key: b('a') }).kvs;
    expect(kv).toMatchObject({ createRevision: 2n, modRevision: 3n, version: 2n });
    expect(s(kv!.value)).toBe('2');
    expect(h.del('a').header?.revision).toBe(4n);
    expect(h.range({ key: b('a') }).kvs).toEqual([]);
    h.put('a', '3');
    expect(h.range({ key: b('a') }).kvs[0]).toMatchObject({ createRevision: 5n, modRevision: 5n, version: 1n });
  });

  it('returns prev_kv on put and delete', () => {
    expect(h.put('a', '1', { prevKv: true }).prevKv).toBeUndefined();
    const put = h.put('a', '2', { prevKv: true });
    expect(put.prevKv).toMatchObject({ key: b('a'), value: b('1'), createRevision: 2n, modRevision: 2n, version: 1n });
    const del = h.del('a', undefined, true);
    expect(del.deleted).toBe(1n);
    expect(del.prevKvs).toEqual([{ key: b('a'), value: b('2'), createRevision: 2n, modRevision: 3n, version: 2n, lease: 0n }]);
  });

  it('does not bump the revision for a delete of nothing or a failed put', () => {
    h.put('a', '1');
    expect(h.del('zz').header?.revision).toBe(2n);
    expect(h.del('zz', undefined, true)).toMatchObject({ deleted: 0n, prevKvs: [] });
    expect(h.err({ $case: 'put', value: { key: b('x'), value: b(''), lease: 5n, prevKv: false, ignoreValue: false, ignoreLease: false } })).toBe('LeaseNotFound');
    expect(h.kv.currentRevision()).toBe(2);
  });

  it('deletes a range at one main revision with increasing sub-revisions', () => {
    h.put('k1', 'a');
    h.put('k2', 'b');
    h.put('k3', 'c');
    const del = h.del('k1', 'k3', true);
    expect(del.deleted).toBe(2n);
    expect(del.header?.revision).toBe(5n);
    expect(h.keys({ key: b('k'), rangeEnd: b('l') })).toEqual(['k3']);
    // history keeps both tombstones at revision 5: the state at 4 still has them
    expect(h.keys({ key: b('k'), rangeEnd: b('l'), revision: 4n })).toEqual(['k1', 'k2', 'k3']);
  });

  it('ignore_value and ignore_lease keep the previous value and need a live key', () => {
    expect(h.err({ $case: 'put', value: { key: b('a'), value: Buffer.alloc(0), lease: 0n, prevKv: false, ignoreValue: true, ignoreLease: false } })).toBe('KeyNotFound');
    expect(h.err({ $case: 'put', value: { key: b('a'), value: b('x'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: true } })).toBe('KeyNotFound');
    h.put('a', 'keep');
    h.put('a', '', { ignoreValue: true });
    expect(h.range({ key: b('a') }).kvs[0]).toMatchObject({ value: b('keep'), version: 2n });
  });
});
