/**
 * Goal: Compaction as etcd 3.4: the error rules (Compacted at or below the compact revision,
 * which starts at -1; FutureRev above the current one), reads below it fail at once, reads at or
 * above it are unchanged, the newest version of every live key survives, deleted keys and their
 * tombstones go, physical compaction finishes in bounded chunks and resumes after a restart.
 * Method: real LMDB; count entries in the history/revs DBs to see what was physically removed.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { compactKey } from '../../src/mvcc/compaction.js';
import { Harness, b, compactOp, s } from './harness.js';

let h: Harness;
beforeEach(() => {
  h = Harness.open({ compactionChunkEntries: 3 });
});
afterEach(async () => {
  await h.close();
});

const ALL = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) };
const historyEntries = (): number => h.backend.history.getCount();
const revsEntries = (): number => h.backend.revs.getCount();

describe('compaction', () => {
  it('follows etcd on a new store: 0 and 1 succeed once, then Compacted; above current is FutureRev', () => {
    expect(h.err(compactOp(5))).toBe('FutureRev');
    expect(h.ok(compactOp(0))).toEqual({ header: expect.objectContaining({ revision: 1n }) });
    expect(h.err(compactOp(0))).toBe('Compacted');
    h.ok(compactOp(1));
    expect(h.err(compactOp(1))).toBe('Compacted');
    expect(h.kv.compactedRevision()).toBe(1);
    expect(h.kv.currentRevision()).toBe(1);
  });

  it('makes reads below the compact revision fail and keeps reads at or above it', async () => {
    h.put('a', '1'); // 2
    h.put('b', '1'); // 3
    h.put('a', '2'); // 4
    h.del('b'); // 5
    h.put('c', '1'); // 6
    const before = [5, 6].map((rev) => h.range({ ...ALL, revision: BigInt(rev) }));
    const res = h.apply(compactOp(5, true));
    expect(res.ok && res.response.header?.revision).toBe(6n);
    expect(res.ok && res.afterCommit).toBeInstanceOf(Promise);
    if (res.ok) await res.afterCommit;
    expect(() => h.range({ ...ALL, revision: 4n })).toThrow(expect.objectContaining({ code: 'Compacted' }));
    expect([5, 6].map((rev) => h.range({ ...ALL, revision: BigInt(rev) }))).toEqual(before);
    expect(h.range({ key: b('a') }).kvs[0]).toMatchObject({ value: b('2'), createRevision: 2n, modRevision: 4n, version: 2n });
    // left: a@4, c@6 (b and its tombstone are gone, a@2 is gone)
    expect(historyEntries()).toBe(2);
    expect(revsEntries()).toBe(2);
    expect(h.err(compactOp(4))).toBe('Compacted');
  });

  it('a key deleted and recreated keeps only its new generation', async () => {
    h.put('a', '1'); // 2
    h.del('a'); // 3
    h.put('a', '2'); // 4
    h.put('a', '3'); // 5
    const res = h.apply(compactOp(4, true));
    if (res.ok) await res.afterCommit;
    expect(historyEntries()).toBe(2); // a@4 (kept) and a@5
    expect(h.range({ key: b('a'), revision: 4n }).kvs[0]).toMatchObject({ value: b('2'), createRevision: 4n, version: 1n });
    expect(h.range({ key: b('a') }).kvs[0]).toMatchObject({ value: b('3'), createRevision: 4n, version: 2n });
  });

  it('runs in chunks in the background and chains compactions', async () => {
    for (let i = 0; i < 20; i++) h.put(`k${i % 4}`, `v${i}`); // revisions 2..21
    h.ok(compactOp(10)); // not physical: no afterCommit
    const res = h.apply(compactOp(15, true));
    expect(res.ok).toBe(true);
    if (res.ok) await res.afterCommit;
    // per key: the newest version <= 15 and everything after
    const left = h.backend.history.getCount();
    expect(left).toBe(4 + 6);
    expect(h.keys(ALL)).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(h.range({ ...ALL, revision: 15n }).kvs.map((kv) => s(kv.value))).toEqual(['v12', 'v13', 'v10', 'v11']);
  });

  it('resumes after a restart and survives reopen', async () => {
    for (let i = 0; i < 30; i++) h.put(`k${i % 3}`, `v${i}`);
    h.ok(compactOp(25));
    await h.reopen(); // close stops the job between chunks; the new store resumes it
    expect(h.kv.compactedRevision()).toBe(25);
    await h.kv.whenCompacted(25);
    expect(h.backend.history.getCount()).toBe(3 + 6);
    expect(() => h.range({ ...ALL, revision: 24n })).toThrow(expect.objectContaining({ code: 'Compacted' }));
  });

  it('compacts a long history in bounded steps; a newest tombstone goes last and hides the rest meanwhile', () => {
    for (let i = 0; i < 10; i++) h.put('a', `v${i}`); // 2..11
    h.del('a'); // 12
    h.put('z', '1'); // 13
    h.ok(compactOp(12));
    const step = (): { deleted: number; finished: boolean } => h.backend.writeSync((txn) => compactKey(txn, h.backend, b('a'), 12, 4));
    expect(step()).toEqual({ deleted: 4, finished: false });
    expect(h.range({ key: b('a'), revision: 12n }).kvs).toEqual([]);
    expect(step()).toEqual({ deleted: 4, finished: false });
    expect(step()).toEqual({ deleted: 3, finished: true }); // the last two versions, then the tombstone
    expect(h.range({ key: b('a'), revision: 12n }).kvs).toEqual([]);
    expect(step()).toEqual({ deleted: 0, finished: true });
    expect(historyEntries()).toBe(1);
  });
});
