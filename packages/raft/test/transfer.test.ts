// Goal: leadership transfer: an up-to-date target gets MsgTimeoutNow and wins at once; a lagging target is
// caught up first; proposals are dropped while transferring; the transfer aborts after an election timeout;
// learners cannot be targets. Method: TestCluster scenarios asserting the leader, term and MsgTimeoutNow.
import { describe, expect, test } from '@jest/globals';
import { TestCluster } from '@corvid/raft/testing';

describe('leadership transfer', () => {
  test('an up-to-date target times out immediately and becomes leader', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'x');
    c.takeSent();
    c.raw(1n).transferLeader(2n);
    c.stabilize();
    expect(c.takeSent().some((m) => m.type === 'MsgTimeoutNow' && m.to === 2n)).toBe(true);
    expect(c.leader()).toBe(2n);
    expect(c.raw(1n).leader).toBe(2n);
  });

  test('the transfer also works with pre-vote and check-quorum (the vote is forced inside the lease)', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n], preVote: true, checkQuorum: true });
    c.campaign(1n);
    c.raw(1n).transferLeader(3n);
    c.stabilize();
    expect(c.leader()).toBe(3n);
  });

  test('a lagging target is caught up before MsgTimeoutNow', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.isolate(3n);
    for (let i = 0; i < 5; i++) c.propose(1n, `e${i}`);
    c.heal();
    c.takeSent();
    c.raw(1n).transferLeader(3n);
    c.stabilize();
    const sent = c.takeSent();
    const firstTimeout = sent.findIndex((m) => m.type === 'MsgTimeoutNow');
    const lastApp = sent.findLastIndex((m) => m.type === 'MsgApp' && m.to === 3n && m.term === 2);
    expect(firstTimeout).toBeGreaterThan(lastApp);
    expect(c.leader()).toBe(3n);
    expect(c.appliedText(3n)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  test('proposals are dropped while transferring, and the transfer aborts after an election timeout', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.isolate(3n);
    c.raw(1n).transferLeader(3n);
    c.stabilize();
    expect(c.raw(1n).status().leadTransferee).toBe(3n);
    expect(c.raw(1n).propose(new Uint8Array([1]))).toEqual({ ok: false, reason: 'transferring' });
    for (let i = 0; i < 10; i++) {
      c.tick(1n);
      c.stabilize();
    }
    expect(c.raw(1n).status().leadTransferee).toBe(0n);
    expect(c.leader()).toBe(1n);
    expect(c.raw(1n).propose(new Uint8Array([1]))).toEqual({ ok: true });
  });

  test('a learner cannot become the transferee', () => {
    const c = new TestCluster({ voters: [1n, 2n], learners: [3n] });
    c.campaign(1n);
    c.raw(1n).transferLeader(3n);
    c.stabilize();
    expect(c.leader()).toBe(1n);
    expect(c.raw(1n).status().leadTransferee).toBe(0n);
  });

  test('a follower forwards the request to the leader', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.raw(3n).transferLeadership(3n);
    c.stabilize();
    expect(c.leader()).toBe(3n);
  });
});
