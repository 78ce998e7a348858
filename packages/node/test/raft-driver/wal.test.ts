/**
 * Goal: the WAL is a correct raft LogStorage (the same answers as the library's MemoryStorage) and
 * a durable one: what save() stored is there after close and reopen, conflicting suffixes are
 * replaced, compaction and snapshots move firstIndex/term as etcd's MemoryStorage does, entries()
 * honours its size cap. Method: real LMDB environments in temp dirs; every scenario is also run
 * against MemoryStorage and the two compared where they share behaviour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryStorage, type Entry } from '@corvid/raft';
import { Wal } from '../../src/raft-driver/index.js';

const dirs: string[] = [];
const open: Wal[] = [];

function openWal(dir = mkdtempSync(join(tmpdir(), 'corvid-wal-'))): Wal {
  if (!dirs.includes(dir)) dirs.push(dir);
  const wal = Wal.open({ dataDir: dir });
  open.push(wal);
  return wal;
}

async function reopen(wal: Wal): Promise<Wal> {
  await wal.close();
  return openWal(join(wal.path, '..', '..'));
}

afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ent = (index: number, term: number, data = `e${index}.${term}`): Entry => ({ index, term, type: 'Normal', data: Buffer.from(data) });
const terms = (r: { ok: boolean; value?: readonly Entry[] }): Array<[number, number]> => (r.value ?? []).map((e) => [e.index, e.term]);
const SNAP = { data: new Uint8Array(0), metadata: { index: 1, term: 1, confState: { voters: [7n], learners: [] } } };

describe('Wal', () => {
  it('starts empty, then holds the bootstrap snapshot and hard state across a reopen', async () => {
    let wal = openWal();
    expect(wal.isEmpty()).toBe(true);
    expect([wal.firstIndex(), wal.lastIndex()]).toEqual([1, 0]);
    wal.save({ term: 1, vote: 0n, commit: 1 }, [], SNAP);
    wal = await reopen(wal);
    expect(wal.isEmpty()).toBe(false);
    expect(wal.initialState()).toEqual({ hardState: { term: 1, vote: 0n, commit: 1 }, confState: { voters: [7n], learners: [] } });
    expect([wal.firstIndex(), wal.lastIndex()]).toEqual([2, 1]);
    expect(wal.term(1)).toEqual({ ok: true, value: 1 });
    expect(wal.term(0)).toEqual({ ok: false, reason: 'compacted' });
    expect(wal.term(2)).toEqual({ ok: false, reason: 'unavailable' });
    expect(wal.entries(2, 2, Infinity)).toEqual({ ok: false, reason: 'unavailable' });
    const snap = wal.snapshot();
    expect(snap.ok && snap.value.metadata).toEqual(SNAP.metadata);
  });

  it('round-trips entries (data, type, term) and the hard state with a big vote id', async () => {
    let wal = openWal();
    const cc: Entry = { index: 4, term: 2, type: 'ConfChange', data: Buffer.from([1, 2, 3]) };
    wal.save({ term: 2, vote: 0xfedcba9876543210n, commit: 3 }, [ent(1, 1), ent(2, 2, ''), ent(3, 2), cc], null);
    wal = await reopen(wal);
    expect(wal.initialState().hardState).toEqual({ term: 2, vote: 0xfedcba9876543210n, commit: 3 });
    const all = wal.entries(1, 5, Infinity);
    expect(all.ok && all.value.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString()])).toEqual([
      [1, 1, 'Normal', 'e1.1'], [2, 2, 'Normal', ''], [3, 2, 'Normal', 'e3.2'], [4, 2, 'ConfChange', '\x01\x02\x03'],
    ]);
    expect([wal.firstIndex(), wal.lastIndex(), wal.term(4)]).toEqual([1, 4, { ok: true, value: 2 }]);
  });

  it('truncates a conflicting suffix as MemoryStorage.append does, also after a reopen', async () => {
    let wal = openWal();
    const mem = new MemoryStorage();
    const steps: Entry[][] = [
      [ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)],
      [ent(3, 2), ent(4, 2), ent(5, 2)], // conflict at 3: 3..4 replaced, 5 appended
      [ent(2, 1), ent(3, 2)], // already present: the tail after 3 goes, as etcd's Append
      [ent(4, 3), ent(5, 3), ent(6, 3)],
    ];
    for (const step of steps) {
      wal.save(null, step, null);
      mem.append(step);
      expect(terms(wal.entries(1, wal.lastIndex() + 1, Infinity) as never)).toEqual(terms(mem.entries(1, mem.lastIndex() + 1, Infinity) as never));
      expect(wal.lastIndex()).toBe(mem.lastIndex());
    }
    wal = await reopen(wal);
    expect(terms(wal.entries(1, 7, Infinity) as never)).toEqual([[1, 1], [2, 1], [3, 2], [4, 3], [5, 3], [6, 3]]);
    expect(() => wal.save(null, [ent(9, 3)], null)).toThrow(/missing log entry/);
  });

  it('compacts: firstIndex moves, the compaction point keeps its term, older indexes are compacted', async () => {
    let wal = openWal();
    wal.save({ term: 1, vote: 0n, commit: 1 }, [], SNAP);
    wal.save(null, [ent(2, 2), ent(3, 2), ent(4, 3), ent(5, 3)], null);
    expect(await wal.compact(3)).toBe(true);
    expect(await wal.compact(3)).toBe(false);
    expect(await wal.compact(2)).toBe(false);
    await expect(wal.compact(6)).rejects.toThrow(/out of bound/);
    wal = await reopen(wal);
    expect([wal.firstIndex(), wal.lastIndex()]).toEqual([4, 5]);
    expect(wal.term(3)).toEqual({ ok: true, value: 2 });
    expect(wal.term(2)).toEqual({ ok: false, reason: 'compacted' });
    expect(wal.entries(3, 5, Infinity)).toEqual({ ok: false, reason: 'compacted' });
    expect(terms(wal.entries(4, 6, Infinity) as never)).toEqual([[4, 3], [5, 3]]);
    // Appending entries that overlap the compacted prefix keeps only the new part.
    wal.save(null, [ent(3, 2), ent(4, 3), ent(5, 4), ent(6, 4)], null);
    expect(terms(wal.entries(4, 7, Infinity) as never)).toEqual([[4, 3], [5, 4], [6, 4]]);
    // Compacting everything leaves an empty log whose last index is the compaction point.
    expect(await wal.compact(6)).toBe(true);
    expect([wal.firstIndex(), wal.lastIndex(), wal.term(6)]).toEqual([7, 6, { ok: true, value: 4 }]);
    expect(wal.entries(7, 7, Infinity)).toEqual({ ok: false, reason: 'unavailable' });
  });

  it('records snapshots (newer only) and a received snapshot replaces the whole log', async () => {
    let wal = openWal();
    wal.save({ term: 1, vote: 0n, commit: 1 }, [], SNAP);
    wal.save({ term: 2, vote: 7n, commit: 4 }, [ent(2, 2), ent(3, 2), ent(4, 2)], null);
    const cs = { voters: [7n, 8n], learners: [9n] };
    expect(await wal.createSnapshot(3, cs, new Uint8Array([42]))).toBe(true);
    expect(await wal.createSnapshot(3, cs, new Uint8Array(0))).toBe(false);
    wal = await reopen(wal);
    const snap = wal.snapshot();
    expect(snap.ok && [snap.value.metadata, [...snap.value.data]]).toEqual([{ index: 3, term: 2, confState: cs }, [42]]);
    expect(wal.initialState().confState).toEqual(cs);
    expect(wal.firstIndex()).toBe(2); // recording a snapshot does not compact
    wal.save({ term: 5, vote: 0n, commit: 10 }, [ent(11, 5)], { data: new Uint8Array(0), metadata: { index: 10, term: 4, confState: cs } });
    wal = await reopen(wal);
    expect([wal.firstIndex(), wal.lastIndex(), wal.term(10), wal.term(11)]).toEqual([11, 11, { ok: true, value: 4 }, { ok: true, value: 5 }]);
    expect(wal.term(4)).toEqual({ ok: false, reason: 'compacted' });
  });

  it('saveAsync: the log reports the entries only once the save resolved; they survive a reopen; a snapshot in flight holds off compaction', async () => {
    let wal = openWal();
    wal.save({ term: 1, vote: 0n, commit: 1 }, [], SNAP);
    const saving = wal.saveAsync({ term: 2, vote: 7n, commit: 3 }, [ent(2, 2), ent(3, 2), ent(4, 2)], null);
    expect(saving).not.toBeNull();
    expect(() => wal.saveAsync(null, [ent(5, 2)], null)).toThrow(/one asynchronous WAL save at a time/);
    expect([wal.lastIndex(), wal.savedHardState().term, wal.term(3)]).toEqual([1, 1, { ok: false, reason: 'unavailable' }]);
    await saving;
    expect([wal.lastIndex(), wal.savedHardState(), wal.term(3)]).toEqual([4, { term: 2, vote: 7n, commit: 3 }, { ok: true, value: 2 }]);
    expect(wal.saveAsync(null, [], null)).toBeNull();
    // A leader's snapshot replaces the log: compaction and snapshot records wait until it is saved.
    const snap = { data: new Uint8Array(0), metadata: { index: 8, term: 3, confState: { voters: [7n], learners: [] } } };
    const installing = wal.saveAsync({ term: 3, vote: 0n, commit: 8 }, [], snap);
    expect(await wal.compact(3)).toBe(false);
    expect(await wal.createSnapshot(3, snap.metadata.confState, new Uint8Array(0))).toBe(false);
    await installing;
    wal = await reopen(wal);
    expect([wal.firstIndex(), wal.lastIndex(), wal.term(8), wal.savedHardState().commit]).toEqual([9, 8, { ok: true, value: 3 }, 8]);
  });

  it('caps entries() by size but always returns at least one entry, like MemoryStorage', () => {
    const wal = openWal();
    const mem = new MemoryStorage();
    const es = [1, 2, 3, 4, 5].map((i) => ent(i, 1, 'x'.repeat(100)));
    wal.save(null, es, null);
    mem.append(es);
    for (const max of [0, 115, 116, 117, 232, 233, 348, 10_000]) {
      expect([max, terms(wal.entries(1, 6, max) as never)]).toEqual([max, terms(mem.entries(1, 6, max) as never)]);
    }
    expect(terms(wal.entries(2, 4, Infinity) as never)).toEqual([[2, 1], [3, 1]]);
    expect(() => wal.entries(1, 7, Infinity)).toThrow(/out of bound/);
  });
});
