/**
 * Goal: in a cluster, auto-compaction is the leader's job, as etcd 3.4's (its compactor is paused on followers):
 * only the leader logs compactions, every member ends at the same compact revision (it goes through the log), and
 * after the leader is killed the new leader takes over and the compact revision keeps moving.
 * Method: on SUBJECT (etcd proves the test), 3 members with --auto-compaction-mode periodic
 * --auto-compaction-retention 1s; a writer puts through the current leader; the compact revision is read on each
 * member as the lowest revision a serializable range at it still answers.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { compactRevision } from '../harness/compaction.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { withCluster, type Cluster, type Slot } from '../harness/cluster.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const COMPLETED = 'completed auto periodic compaction';
const PHASE_MS = 4_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

/** The compact revision `slot` itself serves (serializable ranges). */
async function compactRevisionOn(slot: Slot, head: number): Promise<number> {
  const kv = kvClient(slot.endpoint);
  try {
    return await compactRevision(kv, head, { serializable: true });
  } finally {
    kv.close();
  }
}

/** Puts through `slot` for PHASE_MS; the last revision written. */
async function writeFor(slot: Slot): Promise<number> {
  const kv = kvClient(slot.endpoint);
  let revision = 0;
  try {
    const startMs = performance.now();
    while (performance.now() - startMs < PHASE_MS) {
      revision = Number((await kv.put({ key: bytes('k'), value: bytes(String(revision)) })).header?.revision);
      await delay(20);
    }
    return revision;
  } finally {
    kv.close();
  }
}

const logged = (slot: Slot): boolean => slot.process?.outputTail(2_000).includes(COMPLETED) ?? false;

async function agreedCompactRevision(cluster: Cluster, head: number): Promise<number> {
  return waitFor(async () => {
    const revs = await Promise.all(cluster.running().map((s) => compactRevisionOn(s, head)));
    return new Set(revs).size === 1 && (revs[0] as number) > 1 ? (revs[0] as number) : undefined;
  }, 10_000, 'every member at the same compact revision');
}

test(`${SUBJECT}: only the leader auto-compacts, and a new leader takes over`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3, extraArgs: ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1s'] }, async (cluster) => {
    const leader = await cluster.leader();
    const head = await writeFor(leader);
    const first = await agreedCompactRevision(cluster, head);
    await waitFor(() => logged(leader), 5_000, 'the leader to log a compaction');
    expect(cluster.running().filter((s) => s !== leader).map(logged)).toEqual([false, false]);

    await cluster.kill(leader);
    const next = await cluster.leader();
    const head2 = await writeFor(next);
    const second = await agreedCompactRevision(cluster, head2);
    expect(second).toBeGreaterThan(head);
    expect(second).toBeGreaterThan(first);
    await waitFor(() => logged(next), 5_000, 'the new leader to log a compaction');
  }, 90_000);
}, 120_000);
