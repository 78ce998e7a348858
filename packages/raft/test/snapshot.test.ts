// Goal: log compaction and snapshots: a follower behind the leader's first index receives a snapshot, resumes
// replication after it, restores membership from it, and a restarted node resumes from storage.
// Method: TestCluster scenarios with the application compacting MemoryStorage, asserting MsgSnap traffic,
// progress states and applied data.
import { describe, expect, test } from '@jest/globals';
import { TestCluster } from '@corvid/raft/testing';
import type { NodeId } from '@corvid/raft';

function compact(c: TestCluster, id: NodeId): number {
  const n = c.node(id);
  const applied = n.raw.status().applied;
  n.storage.createSnapshot(applied, n.confState, Uint8Array.from(c.appliedText(id).join(','), (ch) => ch.charCodeAt(0)));
  n.storage.compact(applied);
  return applied;
}

describe('snapshots', () => {
  test('a follower behind the first index gets a snapshot, then appends resume', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.isolate(3n);
    for (let i = 0; i < 5; i++) c.propose(1n, `a${i}`);
    const snapIndex = compact(c, 1n);
    expect(c.node(1n).storage.firstIndex()).toBe(snapIndex + 1);
    c.heal();
    c.takeSent();
    c.tick(1n);
    c.stabilize();
    const snaps = c.takeSent().filter((m) => m.type === 'MsgSnap');
    expect(snaps).toHaveLength(1);
    expect(snaps[0]!.to).toBe(3n);
    expect(snaps[0]!.snapshot!.metadata.index).toBe(snapIndex);
    expect(c.node(3n).storage.firstIndex()).toBe(snapIndex + 1);
    c.propose(1n, 'after');
    expect(c.appliedText(3n)).toEqual(['after']); // earlier entries arrived inside the snapshot
    expect(c.raw(1n).status().progress.get(3n)!.state).toBe('Replicate');
  });

  test('restoring a snapshot restores its membership', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'x');
    c.addNode(4n);
    c.raw(1n).proposeConfChange({ type: 'AddLearnerNode', nodeId: 4n, context: new Uint8Array(0) });
    c.stabilize();
    compact(c, 1n);
    c.tick(1n);
    c.stabilize();
    expect(c.node(4n).raw.status().config).toEqual({ voters: [1n, 2n, 3n], learners: [4n] });
    expect(c.node(4n).storage.snapshot()).toMatchObject({ ok: true, value: { metadata: { confState: { voters: [1n, 2n, 3n], learners: [4n] } } } });
  });

  test('a snapshot that does not include the receiver is refused until a newer one does', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.addNode(4n);
    c.raw(1n).proposeConfChange({ type: 'AddLearnerNode', nodeId: 4n, context: new Uint8Array(0) });
    c.stabilize(); // the leader only has the bootstrap snapshot, which predates node 4
    expect(c.node(4n).raw.status().config).toEqual({ voters: [], learners: [] });
    expect(c.node(4n).storage.lastIndex()).toBe(0);
    compact(c, 1n);
    c.tick(1n);
    c.stabilize();
    expect(c.node(4n).raw.status().config).toEqual({ voters: [1n, 2n, 3n], learners: [4n] });
  });

  test('a node restarts from its persisted hard state, snapshot and entries', () => {
    const c = new TestCluster({ voters: [1n, 2n, 3n] });
    c.campaign(1n);
    c.propose(1n, 'one');
    compact(c, 2n);
    c.propose(1n, 'two');
    const before = c.raw(2n).status();
    c.restart(2n);
    const after = c.raw(2n).status();
    expect(after.hardState).toEqual(before.hardState);
    expect(after.lastIndex).toBe(before.lastIndex);
    expect(after.firstIndex).toBe(before.firstIndex);
    c.flush(); // the restarted node re-applies entries after its snapshot
    expect(c.node(2n).appliedEntries.map((e) => e.index)).toEqual([before.lastIndex]);
    c.propose(1n, 'three');
    expect(c.appliedText(2n).slice(-1)).toEqual(['three']);
  });
});
