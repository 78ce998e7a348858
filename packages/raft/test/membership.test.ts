// Goal: membership changes: learners are replicated to but never vote nor count for quorum; voters and learners
// are added and removed; a learner is promoted; one change at a time; a change takes effect when applied; a
// removed leader steps down. Method: TestCluster scenarios asserting configs, commits and votes.
import { describe, expect, test } from '@jest/globals';
import { TestCluster } from '@corvid/raft/testing';
import type { ConfChange, NodeId } from '@corvid/raft';

const cc = (type: ConfChange['type'], nodeId: NodeId): ConfChange => ({ type, nodeId, context: new Uint8Array(0) });

describe('learners', () => {
  test('a learner receives entries but does not count for the commit quorum', () => {
    const c = new TestCluster({ voters: [1n, 2n], learners: [3n] });
    c.campaign(1n);
    c.propose(1n, 'a');
    expect(c.appliedText(3n)).toEqual(['a']);
    c.isolate(2n);
    c.propose(1n, 'b'); // only the leader and the learner have it: not a majority of voters
    expect(c.appliedText(1n)).toEqual(['a']);
  });

  test('a learner never campaigns, and its vote is not requested', () => {
    const c = new TestCluster({ voters: [1n, 2n], learners: [3n] });
    c.takeSent();
    for (let i = 0; i < 50; i++) c.tick(3n);
    c.stabilize();
    expect(c.raw(3n).role).toBe('Follower');
    expect(c.raw(3n).term).toBe(1);
    c.campaign(1n);
    expect(c.takeSent().filter((m) => m.type === 'MsgVote').map((m) => m.to)).toEqual([2n]);
  });

  test('promoting a learner makes it a voter that counts', () => {
    const c = new TestCluster({ voters: [1n, 2n], learners: [3n] });
    c.campaign(1n);
    c.raw(1n).proposeConfChange(cc('AddNode', 3n));
    c.stabilize();
    expect(c.node(1n).confState).toEqual({ voters: [1n, 2n, 3n], learners: [] });
    c.isolate(2n);
    c.propose(1n, 'with-3'); // 1 and 3 are now a majority of three voters
    expect(c.appliedText(1n)).toEqual(['with-3']);
  });
});

describe('voters', () => {
  test('adding a voter from scratch: it catches up and then counts', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'before');
    c.addNode(4n);
    c.raw(1n).proposeConfChange(cc('AddNode', 4n));
    c.stabilize();
    const n1 = c.node(1n);
    n1.storage.createSnapshot(n1.raw.status().applied, n1.confState, new Uint8Array(0));
    c.tick(1n);
    c.stabilize();
    expect(c.node(4n).confState.voters).toEqual([1n, 2n, 3n, 4n]);
    c.propose(1n, 'after');
    expect(c.appliedText(4n)).toEqual(['after']);
  });

  test('removing a voter shrinks the quorum', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n, 4n] });
    c.campaign(1n);
    c.raw(1n).proposeConfChange(cc('RemoveNode', 4n));
    c.stabilize();
    expect(c.node(1n).confState.voters).toEqual([1n, 2n, 3n]);
    c.isolate(3n);
    c.isolate(4n);
    c.propose(1n, 'two-of-three');
    expect(c.appliedText(2n)).toEqual(['two-of-three']);
  });

  test('one change at a time: a second proposal before the first applies is dropped', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.isolate(2n);
    c.isolate(3n);
    expect(c.raw(1n).proposeConfChange(cc('AddLearnerNode', 4n))).toEqual({ ok: true });
    expect(c.raw(1n).proposeConfChange(cc('AddLearnerNode', 5n))).toEqual({ ok: false, reason: 'conf-change-pending' });
  });

  test('a change takes effect when applied, not when proposed', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.isolate(2n);
    c.isolate(3n);
    c.raw(1n).proposeConfChange(cc('AddLearnerNode', 4n));
    c.stabilize();
    expect(c.raw(1n).status().config).toEqual({ voters: [1n, 2n, 3n], learners: [] });
    c.heal();
    c.tick(1n);
    c.stabilize();
    expect(c.raw(1n).status().config).toEqual({ voters: [1n, 2n, 3n], learners: [4n] });
  });

  test('a change that would leave no voters is refused', () => {
    const c = new TestCluster({ voters: [1n] });
    c.campaign(1n);
    expect(c.raw(1n).proposeConfChange(cc('RemoveNode', 1n))).toEqual({ ok: false, reason: 'invalid-conf-change' });
  });

  test('a removed leader steps down and the others elect a new leader', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.raw(1n).proposeConfChange(cc('RemoveNode', 1n));
    c.stabilize();
    expect(c.raw(1n).role).toBe('Follower');
    expect(c.raw(1n).isLeader()).toBe(false);
    c.node(1n).stopped = true;
    for (let i = 0; i < 40 && c.leader() === null; i++) {
      c.tickAll();
      c.stabilize();
    }
    const leader = c.leader();
    expect([2n, 3n]).toContain(leader);
    c.propose(leader!, 'new-era');
    expect(c.appliedText(2n)).toContain('new-era');
  });
});
