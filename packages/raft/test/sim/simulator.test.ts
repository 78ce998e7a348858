// Goal: the simulator itself is trustworthy: a seed is reproducible, Prng forks are independent, SimStorage
// loses exactly the unsynced writes at a crash, and the checkers catch planted violations.
// Method: run the pieces directly and compare.
import { describe, expect, test } from '@jest/globals';
import { MemoryStorage, newMessage } from '@corvid/raft';
import { Prng, SafetyChecker, SafetyViolation, SimStorage, Simulator, runSeed } from '@corvid/raft/testing';

describe('simulator', () => {
  test('a seed is reproducible: same result, same trace', () => {
    const a = new Simulator({ seed: 4242, trace: true }).run();
    const b = new Simulator({ seed: 4242, trace: true }).run();
    expect(a.ok).toBe(true);
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
    expect(runSeed(4242).stats).toEqual(a.stats); // tracing does not change the run
  });

  test('seeds exercise every fault kind', () => {
    const totals: Record<string, number> = {};
    for (let s = 1; s <= 40; s++) for (const [k, v] of Object.entries(runSeed(s).stats)) totals[k] = (totals[k] ?? 0) + v;
    for (const k of ['crashes', 'restarts', 'partitions', 'transfers', 'confChanges', 'compactions', 'reads', 'lost', 'duplicated']) {
      expect([k, totals[k]! > 0]).toEqual([k, true]);
    }
  });
});

describe('Prng', () => {
  test('named forks are independent of each other and of use order', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const x1 = a.fork('network').next();
    b.fork('faults').next();
    b.next();
    expect(b.fork('network').next()).toBe(x1);
    expect(new Prng(7).fork('faults').next()).not.toBe(x1);
  });

  test('below stays in range', () => {
    const p = new Prng(1);
    for (let i = 0; i < 1000; i++) {
      const v = p.below(7);
      expect(v >= 0 && v < 7 && Number.isInteger(v)).toBe(true);
    }
  });
});

describe('SimStorage', () => {
  test('a crash keeps the synced writes and a prefix of the unsynced ones', () => {
    const s = new SimStorage(new MemoryStorage());
    s.append([{ term: 1, index: 1, type: 'Normal', data: new Uint8Array(0) }]);
    s.setHardState({ term: 1, vote: 0n, commit: 1 });
    s.sync();
    s.append([2, 3, 4].map((index) => ({ term: 1, index, type: 'Normal' as const, data: new Uint8Array(0) })));
    expect(s.lastIndex()).toBe(4); // visible before sync
    const kept = s.crash(new Prng(3));
    expect(s.lastIndex()).toBe(1 + kept);
    expect(s.durableHardState()).toEqual({ term: 1, vote: 0n, commit: 1 });
  });
});

describe('checkers catch violations', () => {
  test('two leaders in one term', () => {
    const c = new SafetyChecker();
    c.onLeader(1n, 5);
    expect(() => c.onLeader(2n, 5)).toThrow(SafetyViolation);
  });

  test('different entries applied at the same index', () => {
    const c = new SafetyChecker();
    c.onApply(1n, { term: 1, index: 1, type: 'Normal', data: new Uint8Array([1]) }, 11);
    expect(() => c.onApply(2n, { term: 2, index: 1, type: 'Normal', data: new Uint8Array([1]) }, 11)).toThrow(/state machine safety/);
  });

  test('a vote sent before it is durable', () => {
    const c = new SafetyChecker();
    expect(() => c.onSend(newMessage({ type: 'MsgVoteResp', from: 1n, to: 2n, term: 3 }), { term: 3, vote: 0n, commit: 0 }, 0))
      .toThrow(/vote granted before it was durable/);
  });

  test('log matching: same index and term with different predecessors', () => {
    const c = new SafetyChecker();
    const view = (prevTerm: number) => ({ term: () => prevTerm, firstIndex: () => 1, lastIndex: () => 5 });
    c.onPersistEntries(1n, [{ term: 3, index: 5, type: 'Normal', data: new Uint8Array(0) }], view(2));
    expect(() => c.onPersistEntries(2n, [{ term: 3, index: 5, type: 'Normal', data: new Uint8Array(0) }], view(1))).toThrow(/log matching/);
  });
});
