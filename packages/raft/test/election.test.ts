// Goal: the election rules of Raft §5.2/§5.4.1 and etcd's pre-vote and check-quorum extensions.
// Method: an in-memory TestCluster with instant delivery; each test drives ticks/messages and asserts the
// observable outcome (who leads, at which term, which messages leave).
import { describe, expect, test } from '@jest/globals';
import { TestCluster } from '@corvid/raft/testing';

const ids = [1n, 2n, 3n];

describe('election', () => {
  test('a follower whose election timeout elapses becomes leader with a majority', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    expect(c.leader()).toBe(1n);
    expect(c.raw(1n).term).toBe(2);
    expect(c.raw(2n).leader).toBe(1n);
    expect(c.raw(3n).leader).toBe(1n);
  });

  test('randomized timeouts from the injected source elect exactly one leader', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n, 4n, 5n], seed: 7 });
    for (let i = 0; i < 40 && c.leader() === null; i++) {
      c.tickAll();
      c.stabilize();
    }
    expect(c.leader()).not.toBeNull();
    const leaders = [...c.nodes.values()].filter((n) => n.raw.isLeader());
    expect(leaders).toHaveLength(1);
  });

  test('a candidate without a majority does not become leader', () => {
    const c = new TestCluster({ voters: ids });
    c.isolate(1n);
    c.campaign(1n);
    expect(c.leader()).toBeNull();
    expect(c.raw(1n).role).toBe('Candidate');
  });

  test('a voter rejects a candidate whose log is less up-to-date', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    c.isolate(3n);
    c.propose(1n, 'x');
    c.heal();
    c.takeSent();
    c.campaign(3n);
    const resps = c.takeSent().filter((m) => m.type === 'MsgVoteResp' && m.to === 3n);
    expect(resps.length).toBeGreaterThan(0);
    expect(resps.every((m) => m.reject)).toBe(true);
    expect(c.raw(3n).isLeader()).toBe(false);
  });

  test('a node votes at most once per term', () => {
    const c = new TestCluster({ voters: ids });
    c.isolate(3n);
    c.raw(1n).campaign();
    c.raw(2n).campaign();
    c.flush();
    const votes = c.inbox.filter((m) => m.type === 'MsgVote');
    c.inbox = [];
    // 3 receives both requests for the same term: grants the first only
    for (const m of votes.filter((v) => v.to === 3n)) c.raw(3n).step(m);
    c.processReady(3n);
    const resps = c.takeSent().filter((m) => m.type === 'MsgVoteResp' && m.from === 3n);
    expect(resps.map((m) => m.reject)).toEqual([false, true]);
  });

  test('a higher term makes a leader step down', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    c.isolate(1n);
    c.campaign(2n);
    expect(c.raw(2n).isLeader()).toBe(true);
    c.heal();
    c.tick(2n); // heartbeat: the paused probe to 1 is answered
    c.stabilize();
    c.propose(2n, 'y');
    expect(c.appliedText(1n)).toEqual(['y']);
    expect(c.raw(1n).role).toBe('Follower');
    expect(c.raw(1n).leader).toBe(2n);
    expect(c.leader()).toBe(2n);
  });
});

describe('pre-vote', () => {
  test('a partitioned node rejoining does not disturb a healthy leader', () => {
    const c = new TestCluster({ voters: ids, preVote: true });
    c.campaign(1n);
    const term = c.raw(1n).term;
    c.isolate(3n);
    for (let i = 0; i < 50; i++) c.tick(3n);
    c.flush();
    expect(c.raw(3n).term).toBe(term); // pre-vote never bumps the term
    expect(c.raw(3n).role).toBe('PreCandidate');
    c.heal();
    c.propose(1n, 'after');
    expect(c.leader()).toBe(1n);
    expect(c.raw(1n).term).toBe(term);
    expect(c.raw(3n).leader).toBe(1n);
  });

  test('pre-vote wins and then the real election runs', () => {
    const c = new TestCluster({ voters: ids, preVote: true });
    c.campaign(2n);
    expect(c.leader()).toBe(2n);
    expect(c.raw(2n).term).toBe(2);
  });

  test('without pre-vote a rejoining node forces a new term', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    c.isolate(3n);
    for (let i = 0; i < 30; i++) c.tick(3n);
    c.flush();
    c.inbox = [];
    expect(c.raw(3n).term).toBeGreaterThan(2);
    c.heal();
    c.tickAll(); // the leader's heartbeat at term 2 is ignored by 3, which is ahead
    c.stabilize();
    c.campaign(3n); // 3's next campaign carries a higher term: the leader steps down
    expect(c.raw(1n).term).toBeGreaterThan(4);
  });
});

describe('check-quorum', () => {
  test('a leader that loses its quorum steps down after an election timeout', () => {
    const c = new TestCluster({ voters: ids, checkQuorum: true });
    c.campaign(1n);
    c.isolate(1n);
    for (let i = 0; i < 21; i++) {
      c.tick(1n);
      c.flush();
    }
    expect(c.raw(1n).role).toBe('Follower');
  });

  test('a leader with its quorum stays leader', () => {
    const c = new TestCluster({ voters: ids, checkQuorum: true });
    c.campaign(1n);
    for (let i = 0; i < 50; i++) {
      c.tick(1n);
      c.stabilize();
    }
    expect(c.leader()).toBe(1n);
  });

  test('voters inside a leader lease ignore a disruptive vote request', () => {
    const c = new TestCluster({ voters: ids, checkQuorum: true });
    c.campaign(1n);
    const term = c.raw(1n).term;
    c.isolate(3n);
    for (let i = 0; i < 30; i++) c.tick(3n);
    c.flush();
    c.inbox = [];
    c.heal();
    c.raw(3n).campaign();
    c.flush();
    c.deliverAll();
    c.flush();
    expect(c.raw(1n).isLeader()).toBe(true);
    expect(c.raw(1n).term).toBe(term);
    expect(c.raw(2n).term).toBe(term);
  });
});
