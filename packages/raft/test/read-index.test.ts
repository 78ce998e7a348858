// Goal: safe ReadIndex: a read state is released only after a heartbeat round proves leadership, requests
// are batched and released in order, a follower's request is forwarded to the leader, and a new leader waits
// for its first commit. Method: TestCluster scenarios that hold back heartbeat responses.
import { describe, expect, test } from '@jest/globals';
import { TestCluster } from '@corvid/raft/testing';

const ctx = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

describe('ReadIndex', () => {
  test('the leader releases a read state only after a quorum acknowledges a heartbeat', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'w');
    c.dropFilter = (m) => m.type === 'MsgHeartbeatResp';
    c.raw(1n).readIndex(ctx('r1'));
    c.stabilize();
    expect(c.node(1n).readStates).toEqual([]);
    const hb = c.takeSent().filter((m) => m.type === 'MsgHeartbeat');
    expect(hb.length).toBe(2);
    expect(text(hb[0]!.context!)).toBe('r1');
    c.heal();
    c.raw(1n).readIndex(ctx('r2'));
    c.stabilize();
    const commit = c.raw(1n).status().hardState.commit;
    expect(c.node(1n).readStates.map((r) => [text(r.requestCtx), r.index])).toEqual([['r1', commit], ['r2', commit]]);
  });

  test('a partitioned leader cannot serve reads', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'w');
    c.isolate(1n);
    c.raw(1n).readIndex(ctx('stale?'));
    c.stabilize();
    expect(c.node(1n).readStates).toEqual([]);
  });

  test('a follower\'s request is forwarded to the leader and answered to the follower', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'w');
    c.takeSent();
    c.raw(3n).readIndex(ctx('from-3'));
    c.stabilize();
    const sent = c.takeSent();
    expect(sent.some((m) => m.type === 'MsgReadIndex' && m.from === 3n && m.to === 1n)).toBe(true);
    expect(sent.some((m) => m.type === 'MsgReadIndexResp' && m.to === 3n)).toBe(true);
    expect(c.node(3n).readStates.map((r) => text(r.requestCtx))).toEqual(['from-3']);
    expect(c.node(3n).readStates[0]!.index).toBe(c.raw(1n).status().hardState.commit);
  });

  test('a new leader answers reads only after committing an entry of its term', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.dropFilter = (m) => m.type === 'MsgAppResp';
    c.raw(1n).campaign(); // no-op as leader; now hold the new leader's first commit back
    c.isolate(1n);
    c.campaign(2n);
    c.raw(2n).readIndex(ctx('early'));
    c.stabilize();
    expect(c.node(2n).readStates).toEqual([]);
    c.heal();
    c.tick(2n);
    c.stabilize();
    expect(c.node(2n).readStates.map((r) => text(r.requestCtx))).toEqual(['early']);
    expect(c.node(2n).readStates[0]!.index).toBe(c.raw(2n).status().hardState.commit);
  });

  test('a single-node cluster answers at once', () => {
    const c = new TestCluster({ voters: [1n] });
    c.campaign(1n);
    c.raw(1n).readIndex(ctx('solo'));
    c.stabilize();
    expect(c.node(1n).readStates.map((r) => text(r.requestCtx))).toEqual(['solo']);
  });

  test('a leader holds a bounded number of unanswered requests and drops the rest', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n], maxPendingReadIndexRequests: 2 });
    c.campaign(1n);
    c.propose(1n, 'w');
    c.dropFilter = (m) => m.type === 'MsgHeartbeatResp';
    expect(c.raw(1n).readIndex(ctx('a'))).toEqual({ ok: true });
    expect(c.raw(1n).readIndex(ctx('b'))).toEqual({ ok: true });
    expect(c.raw(1n).readIndex(ctx('c'))).toEqual({ ok: false, reason: 'read-index-limit' });
    c.heal();
    c.stabilize();
    expect(c.node(1n).readStates.map((r) => text(r.requestCtx))).toEqual(['a', 'b']);
    // Once answered, the room is free again.
    expect(c.raw(1n).readIndex(ctx('d'))).toEqual({ ok: true });
  });
});
