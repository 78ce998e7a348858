/**
 * Goal: the applier's contract. One write transaction per batch that also stores the applied
 * index; entries at or below it are skipped, so replay (same batch twice, or after reopening)
 * changes nothing; failed entries still advance the index; undecodable or unsupported entries
 * become error results, never crashes; the same log gives byte-identical LMDB contents and equal
 * HashKV on two stores. Method: real LMDB in temp dirs; compare every named DB entry by entry.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Harness, b, compactOp, delOp, encodeEntry, putOp, rDel, rPut, txnOp } from '../mvcc/harness.js';
import type { LogEntry } from '../../src/apply/index.js';
import type { Backend } from '../../src/storage/index.js';

const open: Harness[] = [];
const harness = (): Harness => {
  const h = Harness.open({ compactionChunkEntries: 2 });
  open.push(h);
  return h;
};
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

function sampleLog(): LogEntry[] {
  const ops = [
    putOp('a', '1'),
    putOp('b', '2'),
    txnOp({ success: [rPut('c', '3'), rDel('a')] }),
    putOp('x', '1', { lease: 9n }), // fails: LeaseNotFound
    delOp('b', undefined, true),
    putOp('a', '4'),
    compactOp(4),
    putOp('a', '5'),
  ];
  return ops.map((op, i) => encodeEntry(i + 1, op));
}

function dump(backend: Backend): string[] {
  const out: string[] = [];
  for (const [name, db] of [['meta', backend.meta], ['live', backend.live], ['history', backend.history], ['revs', backend.revs]] as const) {
    for (const { key, value } of db.getRange({})) out.push(`${name} ${key.toString('hex')} ${value.toString('hex')}`);
  }
  return out;
}

describe('applier', () => {
  it('stores the applied index with the batch and skips replayed entries', () => {
    const h = harness();
    const log = sampleLog();
    const results = h.applier.applyBatch(log);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true, true, true, true]);
    expect(h.applier.appliedIndex()).toBe(8);
    const state = dump(h.backend);
    const again = h.applier.applyBatch(log);
    expect(again.every((r) => r.ok && r.skipped === true)).toBe(true);
    expect(dump(h.backend)).toEqual(state);
  });

  it('replays idempotently after reopening, and restores revision, compaction and applied index', async () => {
    const h = harness();
    const log = sampleLog();
    h.applier.applyBatch(log.slice(0, 5));
    await h.reopen();
    expect(h.applier.appliedIndex()).toBe(5);
    expect(h.kv.currentRevision()).toBe(5);
    h.applier.applyBatch(log); // 1..5 skipped, 6..8 applied
    await h.reopen();
    expect(h.applier.appliedIndex()).toBe(8);
    expect(h.kv.currentRevision()).toBe(7);
    expect(h.kv.compactedRevision()).toBe(4);
    const other = harness();
    other.applier.applyBatch(log);
    await other.kv.whenCompacted(4);
    await h.kv.whenCompacted(4);
    expect(dump(h.backend)).toEqual(dump(other.backend));
  });

  it('gives byte-identical state and equal HashKV for the same log, however it is batched', async () => {
    const one = harness();
    const two = harness();
    const log = sampleLog();
    one.applier.applyBatch(log);
    for (const entry of log) two.applier.applyBatch([entry]);
    expect(one.kv.hashKV(0)).toEqual(two.kv.hashKV(0));
    expect(one.kv.hashKV(6)).toEqual(two.kv.hashKV(6));
    await one.kv.whenCompacted(4);
    await two.kv.whenCompacted(4);
    expect(dump(one.backend)).toEqual(dump(two.backend));
    expect(one.kv.hashKV(0).hash).toBe(two.kv.hashKV(0).hash);
  });

  it('HashKV does not depend on how far physical compaction got', async () => {
    const h = harness();
    h.applier.applyBatch(sampleLog());
    const before = h.kv.hashKV(0); // compaction at 4 scheduled, not yet run
    await h.kv.whenCompacted(4);
    expect(h.kv.hashKV(0)).toEqual(before);
    expect(before).toMatchObject({ compactRevision: 4, revision: 7 });
    expect(() => h.kv.hashKV(4)).toThrow(expect.objectContaining({ code: 'Compacted' }));
    expect(() => h.kv.hashKV(8)).toThrow(expect.objectContaining({ code: 'FutureRev' }));
    h.put('zz', '1');
    expect(h.kv.hashKV(0).hash).not.toBe(before.hash);
    expect(h.kv.hashKV(7).hash).toBe(before.hash);
  });

  it('turns bad entries into error results and still advances the applied index', () => {
    const h = harness();
    const garbage: LogEntry = { index: 1, data: Uint8Array.from([0xff, 0xff, 0xff]) };
    const lease = encodeEntry(2, { $case: 'leaseRevoke', value: { ID: 1n } });
    const empty: LogEntry = { index: 3, data: new Uint8Array(0) };
    const emptyKey = encodeEntry(4, putOp('', 'v'));
    const longKey = encodeEntry(5, putOp('k'.repeat(5000), 'v'));
    const results = h.applier.applyBatch([garbage, lease, empty, emptyKey, longKey]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['Corrupt', 'LeaseNotFound', 'ok', 'EmptyKey', 'RequestTooLarge']);
    expect(h.applier.appliedIndex()).toBe(5);
    expect(h.kv.currentRevision()).toBe(1);
  });

  it('accepts keys up to the storage limit, zero bytes included', () => {
    const h = harness();
    const key = Buffer.alloc(900, 0);
    const r = h.apply({ $case: 'put', value: { key, value: b('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } });
    expect(r.ok).toBe(true);
    expect(h.range({ key }).kvs).toHaveLength(1);
    expect(h.range({ key, revision: 2n }).kvs).toHaveLength(1);
  });

  it('rolls back memory when the batch transaction aborts', () => {
    const h = harness();
    h.put('a', '1');
    expect(() => h.applier.applyBatch([encodeEntry(2, putOp('b', '1')), { index: 2.5, data: new Uint8Array(0) }])).toThrow(/safe integer|index/);
    expect(h.kv.currentRevision()).toBe(2);
    expect(h.applier.appliedIndex()).toBe(1);
    expect(h.keys({ key: b('b') })).toEqual([]);
  });
});
