// Goal: the replication rules: quorum commit of the leader's own term only (§5.4.2), log matching and
// conflict truncation, fast back-off with reject hints, size-capped batches, the in-flight window, and
// proposals dropped with a reason. Method: TestCluster scenarios asserting commits, applied data and the
// messages that leave; RaftLog directly for the commit rule.
import { describe, expect, test } from '@jest/globals';
import { MemoryStorage, SILENT_LOGGER } from '@corvid/raft';
import { TestCluster } from '@corvid/raft/testing';
import { RaftLog } from '../src/log.js';

const ids = [1n, 2n, 3n];
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('commit', () => {
  test('a proposal commits once a majority has it, and every node applies it in order', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    c.propose(1n, 'a');
    c.propose(1n, 'b');
    for (const id of ids) expect(c.appliedText(id)).toEqual(['a', 'b']);
  });

  test('a minority partition cannot commit', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n, 4n, 5n] });
    c.campaign(1n);
    c.isolate(3n);
    c.isolate(4n);
    c.isolate(5n);
    c.propose(1n, 'lost');
    expect(c.appliedText(1n)).toEqual([]);
    expect(c.raw(1n).status().hardState.commit).toBe(c.raw(1n).status().lastIndex - 1);
  });

  test('only entries of the current term commit by counting replicas (Raft §5.4.2, Figure 8)', () => {
    const storage = new MemoryStorage();
    storage.append([{ term: 1, index: 1, type: 'Normal', data: bytes('') }, { term: 2, index: 2, type: 'Normal', data: bytes('x') }]);
    const log = new RaftLog(storage, SILENT_LOGGER);
    expect(log.maybeCommit(2, 4)).toBe(false); // replicated on a majority, but of an older term
    expect(log.committed).toBe(0);
    log.append([{ term: 4, index: 3, type: 'Normal', data: bytes('') }]);
    expect(log.maybeCommit(3, 4)).toBe(true); // committing the current term's entry commits the older one
    expect(log.committed).toBe(3);
  });

  test('a new leader commits the previous term\'s entries through its own empty entry', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    c.dropFilter = (m) => m.type === 'MsgAppResp'; // replicated but never acknowledged: not committed
    c.propose(1n, 'orphan');
    expect(c.appliedText(2n)).toEqual([]);
    c.heal();
    c.campaign(2n);
    for (const id of ids) expect(c.appliedText(id)).toEqual(['orphan']);
  });
});

describe('log matching', () => {
  test('a follower truncates conflicting uncommitted entries to match the leader', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    c.isolate(1n);
    c.raw(1n).propose(bytes('stale-1'));
    c.raw(1n).propose(bytes('stale-2'));
    c.flush();
    c.campaign(2n);
    c.propose(2n, 'fresh');
    c.heal();
    c.tick(2n);
    c.stabilize();
    for (const id of ids) expect(c.appliedText(id)).toEqual(['fresh']);
    const s1 = c.node(1n).storage;
    const s2 = c.node(2n).storage;
    expect(s1.lastIndex()).toBe(s2.lastIndex());
    for (let i = s1.firstIndex(); i <= s1.lastIndex(); i++) expect(s1.term(i)).toEqual(s2.term(i));
  });

  test('reject hints skip a whole conflicting term in one round trip', () => {
    const c = new TestCluster({ voters: ids, maxInflightMsgs: 64 });
    c.campaign(1n);
    c.isolate(1n);
    for (let i = 0; i < 30; i++) c.raw(1n).propose(bytes(`stale-${i}`)); // term 2, indexes 3..32, never committed
    c.flush();
    c.campaign(2n);
    for (let i = 0; i < 40; i++) c.propose(2n, `fresh-${i}`); // term 3, indexes 3..43
    c.campaign(3n); // leader of term 4: it probes 1 at its last index, far beyond the divergence
    c.heal();
    c.takeSent();
    c.tick(3n);
    c.stabilize();
    const rejects = c.takeSent().filter((m) => m.type === 'MsgAppResp' && m.from === 1n && m.reject);
    expect(rejects.length).toBeGreaterThan(0);
    expect(rejects.length).toBeLessThanOrEqual(2); // not one per conflicting entry (~40)
    expect(c.appliedText(1n)).toEqual(c.appliedText(3n));
    expect(c.appliedText(1n)).toHaveLength(40);
  });
});

describe('flow control', () => {
  test('appends are capped by maxSizePerMsgBytes', () => {
    const c = new TestCluster({ voters: ids, maxSizePerMsgBytes: 100 });
    c.campaign(1n);
    c.isolate(2n);
    for (let i = 0; i < 10; i++) c.propose(1n, `entry-${i}`.padEnd(40, '.'));
    c.heal();
    c.takeSent();
    c.tick(1n);
    c.stabilize();
    const apps = c.takeSent().filter((m) => m.type === 'MsgApp' && m.to === 2n && m.entries.length > 0);
    expect(apps.length).toBeGreaterThan(1);
    for (const m of apps) expect(m.entries.length).toBeLessThanOrEqual(2);
    expect(c.appliedText(2n)).toHaveLength(10);
  });

  test('a replicating follower gets at most maxInflightMsgs unacknowledged appends', () => {
    const c = new TestCluster({ voters: ids, maxInflightMsgs: 3 });
    c.campaign(1n);
    c.dropFilter = (m) => m.type === 'MsgAppResp' && m.from === 2n;
    c.takeSent();
    for (let i = 0; i < 10; i++) c.propose(1n, `e${i}`);
    const apps = c.takeSent().filter((m) => m.type === 'MsgApp' && m.to === 2n && m.entries.length > 0);
    expect(apps).toHaveLength(3);
  });

  test('a follower forwards proposals to the leader', () => {
    const c = new TestCluster({ voters: ids });
    c.campaign(1n);
    expect(c.propose(3n, 'via-follower')).toEqual({ ok: true });
    expect(c.appliedText(1n)).toEqual(['via-follower']);
  });
});

describe('dropped proposals', () => {
  test('no leader: dropped with reason no-leader', () => {
    const c = new TestCluster({ voters: ids });
    expect(c.raw(1n).propose(bytes('x'))).toEqual({ ok: false, reason: 'no-leader' });
    c.isolate(1n);
    c.raw(1n).campaign();
    expect(c.raw(1n).propose(bytes('x'))).toEqual({ ok: false, reason: 'no-leader' });
  });

  test('the uncommitted limit drops proposals until entries commit', () => {
    const c = new TestCluster({ voters: ids, maxUncommittedEntriesSizeBytes: 100 });
    c.campaign(1n);
    c.isolate(1n);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(c.raw(1n).propose(new Uint8Array(40)).ok);
    expect(results).toEqual([true, true, false, false, false]);
    expect(c.raw(1n).propose(new Uint8Array(40))).toEqual({ ok: false, reason: 'uncommitted-limit' });
    c.heal();
    c.tick(1n);
    c.stabilize();
    expect(c.raw(1n).status().uncommittedSizeBytes).toBe(0);
    expect(c.raw(1n).propose(new Uint8Array(40))).toEqual({ ok: true });
  });
});
