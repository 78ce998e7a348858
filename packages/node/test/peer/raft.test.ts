/**
 * Goal: three Raft cores (@corvid/raft) that talk only through PeerTransports elect a leader,
 * replicate entries identically, survive a partition of the leader made with isolate() (the
 * majority elects a new leader and commits; the old leader commits nothing), and converge after
 * healing: real Raft traffic (votes, MsgApp with entries, responses, heartbeats) through the codec.
 * Method: each member runs the Ready loop of docs/raft.md on a MemoryStorage (persist, send,
 * apply, advance) and ticks every 10 ms; waits are on conditions with deadlines.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { RawNode, type MemoryStorage, type NodeId } from '@corvid/raft';
import { bootstrapStorage } from '@corvid/raft/testing';
import { member, waitFor, type Member } from './harness.js';

const IDS = [1n, 2n, 3n];

interface Node {
  readonly id: NodeId;
  readonly raw: RawNode;
  readonly peer: Member;
  /** Data of applied normal entries, in order. */
  readonly applied: string[];
}

const nodes: Node[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  for (const n of nodes.splice(0)) await n.peer.close();
});

function handleReady(node: Node, storage: MemoryStorage): void {
  while (node.raw.hasReady()) {
    const rd = node.raw.ready();
    if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState !== null) storage.setHardState(rd.hardState);
    node.peer.transport.send(rd.messages);
    for (const e of rd.committedEntries) if (e.type === 'Normal' && e.data.byteLength > 0) node.applied.push(new TextDecoder().decode(e.data));
    node.raw.advance(rd);
  }
}

async function startCluster(): Promise<Node[]> {
  for (const id of IDS) {
    const storage = bootstrapStorage({ voters: IDS, learners: [] }, new Uint8Array(0));
    const raw = new RawNode({
      id, storage, electionTicks: 10, heartbeatTicks: 1, preVote: true, checkQuorum: true, random: (below) => Math.floor(Math.random() * below),
    });
    let node: Node | undefined;
    // Steps arrive between ticks: process their Ready on the next turn, once per burst.
    let scheduled = false;
    const later = (): void => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        if (node !== undefined) handleReady(node, storage);
      });
    };
    const peer = member(id, {
      handler: {
        step: (m) => {
          raw.step(m);
          later();
        },
        receiveSnapshot: () => {
          throw new Error('no snapshots in this test');
        },
        reportUnreachable: (to) => raw.reportUnreachable(to),
        reportSnapshot: (to, status) => raw.reportSnapshot(to, status),
      },
    });
    node = { id, raw, peer, applied: [] };
    nodes.push(node);
    timers.push(setInterval(() => {
      raw.tick();
      handleReady(node as Node, storage);
    }, 10));
  }
  for (const n of nodes) await n.peer.listen();
  for (const n of nodes) for (const p of nodes) if (p !== n) n.peer.transport.setPeer(p.id, [p.peer.url as string]);
  return nodes;
}

function leaderAmong(group: readonly Node[]): Node | undefined {
  const leaders = group.filter((n) => n.raw.role === 'Leader');
  return leaders.length === 1 && group.every((n) => n.raw.leader === leaders[0]?.id) ? leaders[0] : undefined;
}

function propose(node: Node, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) expect(node.raw.propose(new TextEncoder().encode(`${prefix}-${i}`)).ok).toBe(true);
}

describe('Raft over the peer transport', () => {
  it('elects, replicates, survives a partitioned leader and converges after healing', async () => {
    const all = await startCluster();
    await waitFor('one leader', () => leaderAmong(all) !== undefined, 20_000);
    const first = leaderAmong(all) as Node;
    propose(first, 'a', 100);
    await waitFor('100 entries applied everywhere', () => all.every((n) => n.applied.length === 100), 20_000);
    for (const n of all) expect(n.applied).toEqual(all[0]?.applied);

    // Cut the leader off both ways.
    const rest = all.filter((n) => n !== first);
    first.peer.transport.isolate(rest.map((n) => n.id));
    for (const n of rest) n.peer.transport.isolate([first.id]);
    await waitFor('a new leader in the majority', () => leaderAmong(rest) !== undefined, 20_000);
    const second = leaderAmong(rest) as Node;
    propose(second, 'b', 50);
    first.raw.propose(new TextEncoder().encode('lost')); // may be refused; either way it never commits
    await waitFor('the majority applied 150', () => rest.every((n) => n.applied.length === 150), 20_000);
    expect(first.applied).toHaveLength(100);

    // Heal: the old leader steps down and catches up; every member applied the same sequence.
    for (const n of all) n.peer.transport.isolate([]);
    await waitFor('all converge', () => all.every((n) => n.applied.length === 150) && leaderAmong(all) !== undefined, 20_000);
    for (const n of all) expect(n.applied).toEqual(second.applied);
    expect(first.applied).not.toContain('lost');
  }, 90_000);
});
