/**
 * Goal: `etcdctl move-leader` (Maintenance.MoveLeader) hands leadership to the member asked for, as on etcd 3.4.
 * Properties: through the leader, the target becomes the leader every member names, and etcdctl prints etcd's
 * "Leadership transferred from <id> to <id>"; the cluster accepts writes afterwards; a MoveLeader sent to a follower,
 * or naming an unknown member, is refused with etcd's code and text (etcdctl itself refuses to send one through a
 * follower: it reads Status first and prints "no leader endpoint given").
 * Method: a 3-member cluster; etcdctl as a user would run it, raw gRPC for what etcdctl does not send.
 */
import { hexId, withCluster, type Slot } from '../harness/cluster.js';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { errorOf, outcome } from '../harness/grpc.js';
import { waitFor } from '../harness/wait.js';

const PHASE_DEADLINE_MS = 15_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

const lastLine = (res: EtcdctlResult): string => (res.code === 0 ? res.stdout : res.stderr).trim().split('\n').pop() ?? '';

async function moveTo(via: Slot, target: Slot): Promise<EtcdctlResult> {
  return etcdctl(via.endpoint, ['move-leader', hexId(target.id ?? 0n)]);
}

test(`${SUBJECT}: move-leader hands leadership to the target, and is refused through a follower or to an unknown member`, async () => {
  await withCluster(group, { kind: SUBJECT, size: 3 }, async (cluster) => {
    await cluster.statuses(); // learns every member's id
    const leader = await cluster.leader();
    const [target, other] = cluster.slots.filter((s) => s !== leader) as [Slot, Slot];

    expect(lastLine(await moveTo(other, target))).toBe(`Error: no leader endpoint given at [${other.endpoint}]`);
    expect(errorOf(await outcome(cluster.moveLeader(other, target.id ?? 0n)))).toEqual({ code: 9, details: 'etcdserver: not leader' });
    expect(errorOf(await outcome(cluster.moveLeader(leader, 0xabcdef123n)))).toEqual({ code: 9, details: 'etcdserver: bad leader transferee' });

    const moved = await moveTo(leader, target);
    expect(lastLine(moved)).toBe(`Leadership transferred from ${hexId(leader.id ?? 0n)} to ${hexId(target.id ?? 0n)}`);
    await waitFor(async () => (await cluster.agreedLeader()) === target, PHASE_DEADLINE_MS, `${target.name} to be the leader every member names`);
    expect((await etcdctl(other.endpoint, ['put', 'after-move', 'x'])).stdout.trim()).toBe('OK');
  }, 50_000);
}, 60_000);
