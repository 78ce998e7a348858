// Goal: the RawNode/Ready contract: what a Ready carries and when, that no new Ready is produced before
// advance(), that local message types and responses from unknown peers are refused, and that restarting with
// `applied` skips already-applied entries. Method: drive single RawNodes by hand.
import { describe, expect, test } from '@jest/globals';
import { MemoryStorage, RawNode, newMessage } from '@corvid/raft';
import { Prng, bootstrapStorage } from '@corvid/raft/testing';

function node(id: bigint, storage: MemoryStorage, applied = 0): RawNode {
  const prng = new Prng(42);
  return new RawNode({ id, storage, applied, electionTicks: 10, heartbeatTicks: 1, random: (n) => prng.below(n) });
}

describe('RawNode', () => {
  test('a single node elects itself and commits a proposal through two Readies', () => {
    const storage = bootstrapStorage({ voters: [1n], learners: [] }, new Uint8Array(0));
    const rn = node(1n, storage);
    expect(rn.hasReady()).toBe(false);
    rn.campaign();
    const rd = rn.ready();
    expect(rd.softState).toEqual({ lead: 1n, role: 'Leader' });
    expect(rd.hardState).toEqual({ term: 2, vote: 1n, commit: 2 });
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    expect(rd.mustSync).toBe(true);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2]); // committed as soon as persisted (quorum of 1)
    expect(rn.hasReady()).toBe(false); // nothing until advance()
    expect(() => rn.ready()).toThrow('ready() called again before advance()');
    storage.append(rd.entries);
    storage.setHardState(rd.hardState!);
    rn.advance(rd);
    expect(rn.propose(new Uint8Array([9]))).toEqual({ ok: true });
    const rd2 = rn.ready();
    expect(rd2.softState).toBeNull();
    expect(rd2.entries.map((e) => e.data)).toEqual([new Uint8Array([9])]);
    storage.append(rd2.entries);
    rn.advance(rd2);
    expect(rn.status().applied).toBe(3);
    expect(rn.hasReady()).toBe(false);
  });

  test('a Ready whose only change is the commit index does not require fsync', () => {
    const storage = bootstrapStorage({ voters: [1n, 2n], learners: [] }, new Uint8Array(0));
    const rn = node(2n, storage);
    rn.step(newMessage({ type: 'MsgApp', from: 1n, to: 2n, term: 2, index: 1, logTerm: 1, commit: 1,
      entries: [{ term: 2, index: 2, type: 'Normal', data: new Uint8Array(0) }] }));
    const rd = rn.ready();
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.map((m) => `${m.type} ${m.index}`)).toEqual(['MsgAppResp 2']);
    storage.append(rd.entries);
    storage.setHardState(rd.hardState!);
    rn.advance(rd);
    rn.step(newMessage({ type: 'MsgHeartbeat', from: 1n, to: 2n, term: 2, commit: 2 }));
    const rd2 = rn.ready();
    expect(rd2.hardState).toEqual({ term: 2, vote: 0n, commit: 2 });
    expect(rd2.mustSync).toBe(false);
    expect(rd2.committedEntries.map((e) => e.index)).toEqual([2]);
  });

  test('local message types and responses from unknown peers are refused', () => {
    const rn = node(1n, bootstrapStorage({ voters: [1n, 2n], learners: [] }, new Uint8Array(0)));
    expect(rn.step(newMessage({ type: 'MsgHup', from: 1n }))).toEqual({ ok: false, reason: 'local-message' });
    expect(rn.step(newMessage({ type: 'MsgAppResp', from: 7n, to: 1n, term: 1 }))).toEqual({ ok: false, reason: 'unknown-peer' });
  });

  test('committed entries are handed out in size-capped batches, in order', () => {
    const storage = bootstrapStorage({ voters: [1n], learners: [] }, new Uint8Array(0));
    storage.append([2, 3, 4, 5].map((index) => ({ term: 1, index, type: 'Normal' as const, data: new Uint8Array(20) })));
    storage.setHardState({ term: 1, vote: 0n, commit: 5 });
    const prng = new Prng(1);
    const rn = new RawNode({ id: 1n, storage, electionTicks: 10, heartbeatTicks: 1, random: (n) => prng.below(n), maxCommittedSizePerReadyBytes: 80 });
    const batches: number[][] = [];
    while (rn.hasReady()) {
      const rd = rn.ready();
      batches.push(rd.committedEntries.map((e) => e.index));
      rn.advance(rd);
    }
    expect(batches).toEqual([[2, 3], [4, 5]]);
  });

  test('restarting with `applied` does not hand out entries again', () => {
    const storage = bootstrapStorage({ voters: [1n], learners: [] }, new Uint8Array(0));
    storage.append([{ term: 1, index: 2, type: 'Normal', data: new Uint8Array([1]) }, { term: 1, index: 3, type: 'Normal', data: new Uint8Array([2]) }]);
    storage.setHardState({ term: 1, vote: 0n, commit: 3 });
    const fresh = node(1n, storage);
    expect(fresh.ready().committedEntries.map((e) => e.index)).toEqual([2, 3]);
    const restarted = node(1n, storage, 2);
    expect(restarted.ready().committedEntries.map((e) => e.index)).toEqual([3]);
  });
});
