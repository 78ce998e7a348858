// Goal: the log's rules and invariants: unstable/stable split, conflict detection and truncation, the
// find-conflict-by-term hint, commit/applied bounds, and MemoryStorage's compaction and snapshots.
// Method: direct unit tests of RaftLog, Unstable and MemoryStorage; broken invariants must throw.
import { describe, expect, test } from '@jest/globals';
import { AssertionError, MemoryStorage, SILENT_LOGGER } from '@corvid/raft';
import type { Entry } from '@corvid/raft';
import { RaftLog } from '../src/log.js';

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'Normal', data: Uint8Array.from(data, (c) => c.charCodeAt(0)) });

describe('MemoryStorage', () => {
  test('append, term, entries with a size cap, compaction and snapshots', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1, 'a'), ent(2, 1, 'b'), ent(3, 2, 'c'), ent(4, 2, 'd')]);
    expect(s.lastIndex()).toBe(4);
    expect(s.term(3)).toEqual({ ok: true, value: 2 });
    expect(s.term(9)).toEqual({ ok: false, reason: 'unavailable' });
    const capped = s.entries(1, 5, 34);
    expect(capped.ok && capped.value.length).toBe(2); // 17 bytes each
    const one = s.entries(1, 5, 0);
    expect(one.ok && one.value.length).toBe(1); // at least one entry
    expect(s.createSnapshot(2, { voters: [1n], learners: [] }, new Uint8Array([7]))).toBe(true);
    expect(s.compact(2)).toBe(true);
    expect(s.firstIndex()).toBe(3);
    expect(s.term(1)).toEqual({ ok: false, reason: 'compacted' });
    expect(s.term(2)).toEqual({ ok: true, value: 1 });
    expect(s.entries(2, 4, 100)).toEqual({ ok: false, reason: 'compacted' });
    expect(s.compact(2)).toBe(false);
    s.append([ent(4, 3, 'x')]); // truncates the conflicting suffix
    expect(s.lastIndex()).toBe(4);
    expect(s.term(4)).toEqual({ ok: true, value: 3 });
    expect(() => s.append([ent(9, 3)])).toThrow(AssertionError);
  });

  test('applySnapshot replaces the log; an older snapshot is refused', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1)]);
    const snap = { data: new Uint8Array(0), metadata: { index: 10, term: 3, confState: { voters: [1n], learners: [] } } };
    expect(s.applySnapshot(snap)).toBe(true);
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.initialState().confState).toEqual({ voters: [1n], learners: [] });
    expect(s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 5 } })).toBe(false);
  });
});

describe('RaftLog', () => {
  function logWith(entries: Entry[]): RaftLog {
    const s = new MemoryStorage();
    s.append(entries);
    return new RaftLog(s, SILENT_LOGGER);
  }

  test('maybeAppend matches on (index, logTerm), truncates conflicts and commits up to the new last index', () => {
    const log = logWith([ent(1, 1), ent(2, 2), ent(3, 2)]);
    expect(log.maybeAppend(3, 1, 3, [ent(4, 3)])).toBeNull(); // term mismatch at 3
    expect(log.maybeAppend(2, 2, 10, [ent(3, 3), ent(4, 3)])).toBe(4);
    expect(log.term(3)).toBe(3);
    expect(log.committed).toBe(4);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([3, 4]);
  });

  test('truncating a committed entry is a broken invariant', () => {
    const log = logWith([ent(1, 1), ent(2, 1)]);
    log.commitTo(2);
    expect(() => log.maybeAppend(1, 1, 2, [ent(2, 5)])).toThrow(AssertionError);
  });

  test('findConflictByTerm returns the last index whose term is <= the given term', () => {
    const log = logWith([ent(1, 1), ent(2, 1), ent(3, 3), ent(4, 3), ent(5, 5)]);
    expect(log.findConflictByTerm(5, 4)).toBe(4);
    expect(log.findConflictByTerm(5, 2)).toBe(2);
    expect(log.findConflictByTerm(5, 0)).toBe(0);
  });

  test('up-to-date comparison uses last term, then last index (Raft §5.4.1)', () => {
    const log = logWith([ent(1, 1), ent(2, 2)]);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(true);
    expect(log.isUpToDate(5, 1)).toBe(false);
    expect(log.isUpToDate(1, 2)).toBe(false);
  });

  test('committed entries are handed out once applied advances', () => {
    const log = logWith([ent(1, 1, 'a'), ent(2, 1, 'b'), ent(3, 1, 'c')]);
    log.commitTo(2);
    expect(log.nextCommittedEnts().map((e) => e.index)).toEqual([1, 2]);
    log.appliedTo(2);
    expect(log.hasNextCommittedEnts()).toBe(false);
    expect(() => log.appliedTo(3)).toThrow(AssertionError);
    expect(() => log.commitTo(9)).toThrow(AssertionError);
  });

  test('stableTo ignores an acknowledgement for entries replaced since', () => {
    const log = new RaftLog(new MemoryStorage(), SILENT_LOGGER);
    log.append([ent(1, 1), ent(2, 1)]);
    log.append([ent(2, 2)]);
    log.stableTo(2, 1);
    expect(log.unstableEntries().map((e) => `${e.term}/${e.index}`)).toEqual(['1/1', '2/2']);
    log.stableTo(2, 2);
    expect(log.unstableEntries()).toEqual([]);
  });
});
