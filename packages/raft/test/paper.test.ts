// Goal: the safety properties of Raft §5 as scenario tests, with Figure 8 replayed exactly: an entry of an
// older term replicated on a majority is not committed by counting, because a later leader may still erase it.
// Method: a 5-node TestCluster with messages cut and dropped by hand; assertions on commit and applied data.
import { describe, expect, test } from '@jest/globals';
import { TestCluster } from '@corvid/raft/testing';

const S = [1n, 2n, 3n, 4n, 5n];

describe('Raft §5 safety', () => {
  test('Figure 8: an old-term entry on a majority is not committed until an entry of the current term is', () => {
    const c = new TestCluster({ voters: S, maxSizePerMsgBytes: 1 }); // one entry per MsgApp
    c.campaign(1n); // S1 leads term 2
    // (a) S1 replicates "a" to S2 only.
    for (const to of [3n, 4n, 5n]) c.cut(1n, to);
    c.propose(1n, 'a');
    expect(c.appliedText(1n)).toEqual([]);
    // (b) S1 stops; S5 is elected by S3, S4, S5 and appends "b" that nobody else gets.
    c.heal();
    c.node(1n).stopped = true;
    c.dropFilter = (m) => m.from === 5n && m.type === 'MsgApp';
    c.campaign(5n);
    expect(c.raw(5n).isLeader()).toBe(true);
    c.raw(5n).propose(Uint8Array.from('b', (ch) => ch.charCodeAt(0)));
    c.flush();
    c.inbox = [];
    // (c) S5 stops; S1 restarts and is elected (term 4 here), and replicates "a" to S3 — but its own-term
    //     entry is held back. "a" is now on S1, S2, S3: a majority, yet of an older term.
    c.node(5n).stopped = true;
    c.restart(1n);
    c.heal();
    c.rewrite = (m) => (m.type === 'MsgApp' ? { ...m, entries: m.entries.filter((e) => e.term <= 2) } : m);
    c.campaign(1n);
    if (!c.raw(1n).isLeader()) c.campaign(1n);
    expect(c.raw(1n).isLeader()).toBe(true);
    c.tick(1n);
    c.stabilize();
    const aIndex = c.node(1n).storage.lastIndex() - 1;
    expect(c.node(3n).storage.term(aIndex)).toEqual({ ok: true, value: 2 });
    expect(c.raw(1n).status().hardState.commit).toBeLessThan(aIndex); // §5.4.2: not committed by counting
    expect(c.appliedText(1n)).toEqual([]);
    // (d) S1 stops before its term's entry spreads; S5 returns and is elected with S2, S3, S4: it erases "a".
    c.node(1n).stopped = true;
    c.restart(5n);
    c.heal();
    c.campaign(5n);
    if (!c.raw(5n).isLeader()) c.campaign(5n);
    expect(c.raw(5n).isLeader()).toBe(true);
    c.propose(5n, 'c');
    for (const id of [2n, 3n, 4n, 5n]) expect(c.appliedText(id)).toEqual(['b', 'c']);
    // S1 rejoins and converges on the new history; it never applied "a".
    c.restart(1n);
    c.tick(5n);
    c.stabilize();
    expect(c.appliedText(1n)).toEqual(['b', 'c']);
  });

  test('election safety: two candidates in one term cannot both win', () => {
    const c = new TestCluster({ voters: S });
    c.raw(1n).campaign();
    c.raw(2n).campaign();
    c.stabilize();
    const leaders = S.filter((id) => c.raw(id).isLeader());
    expect(leaders.length).toBeLessThanOrEqual(1);
  });

  test('leader append-only and state machine safety: followers apply exactly the leader\'s sequence', () => {
    const c = new TestCluster({ voters: S });
    c.campaign(3n);
    for (let i = 0; i < 20; i++) c.propose(3n, `v${i}`);
    for (const id of S) expect(c.appliedText(id)).toEqual(c.appliedText(3n));
  });
});
