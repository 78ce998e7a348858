/**
 * Goal: membership changes with etcdctl work as on etcd 3.4, with etcd's answers and error texts. Properties:
 *   - `member add --learner` prints the new member's id and the ETCD_INITIAL_CLUSTER to start it with; the learner
 *     started with `--initial-cluster-state existing` catches up (its revision equals the leader's), refuses
 *     linearizable reads, and can then be promoted;
 *   - promote/add/remove refuse what etcd refuses, with etcd's texts (learner not in sync, not a learner, too many
 *     learners, member not found);
 *   - removing the leader: the removed member exits, the others elect a new leader and accept writes;
 *   - a member whose data dir was wiped is replaced (remove, add, start fresh) and ends with the same store;
 *   - a learner that joins after the leader compacted its log (`--snapshot-count`, more writes than the leader
 *     keeps for catch-up: etcd keeps 5,000 entries) catches up by snapshot and logs "received and saved database snapshot".
 * Method: etcdctl for every membership change (as a user would), raw Status/HashKV for the checks.
 */
import { bytes, kvClient, outcome, type KvApi } from '../harness/grpc.js';
import { Cluster, hexId, withCluster, type Slot } from '../harness/cluster.js';
import { etcdctl, type EtcdctlResult } from '../harness/etcdctl.js';
import { ProcessGroup, SUBJECT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

const PHASE_DEADLINE_MS = 20_000;
/** etcd refuses reconfiguration until its peers have been connected for 5 s (etcdserver.HealthInterval). */
const RECONFIG_DEADLINE_MS = 20_000;
/** etcd's compaction keeps this many entries behind a snapshot for slow followers (SnapshotCatchUpEntries). */
const ETCD_CATCH_UP_ENTRIES = 5_000;

const group = new ProcessGroup();
afterAll(async () => group.cleanup());

/** An id as etcdctl's add/remove/promote answers print it: `%16x`, padded with spaces (member list uses `%x`). */
const paddedHex = (id: bigint): string => hexId(id).padStart(16, ' ');

/** The `Error: ...` line etcdctl ends with (its retry warnings come before it). */
function errorLine(res: EtcdctlResult): string {
  return res.stderr.trim().split('\n').filter((l) => l.startsWith('Error:')).pop() ?? `(exit ${res.code}) ${res.stderr}`;
}

/** `member add`, retried while etcd answers "unhealthy cluster" (reconfiguration too soon after a start). */
async function memberAdd(endpoint: string, args: readonly string[]): Promise<EtcdctlResult> {
  return waitFor(async () => {
    const res = await etcdctl(endpoint, ['member', 'add', ...args]);
    return errorLine(res).includes('unhealthy cluster') ? undefined : res;
  }, RECONFIG_DEADLINE_MS, `member add ${args.join(' ')} to stop answering "unhealthy cluster"`);
}

interface Added {
  readonly id: bigint;
  readonly initialCluster: string;
}

/** Parses `member add`'s answer: "Member <hex> added to cluster <hex>" and the ETCD_* lines. */
function parseAdded(res: EtcdctlResult, slot: Slot): Added {
  expect(errorLine(res)).toContain('(exit 0)');
  const id = /^Member +([0-9a-f]+) added to cluster +[0-9a-f]+$/m.exec(res.stdout)?.[1];
  expect(id).toBeDefined();
  expect(res.stdout).toContain(`ETCD_NAME="${slot.name}"`);
  expect(res.stdout).toContain(`ETCD_INITIAL_ADVERTISE_PEER_URLS="${slot.peerUrl}"`);
  expect(res.stdout).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
  const initialCluster = /^ETCD_INITIAL_CLUSTER="([^"]*)"$/m.exec(res.stdout)?.[1] ?? '';
  return { id: BigInt(`0x${id ?? '0'}`), initialCluster };
}

/** Waits until `slot` serves the leader's revision (Status is served locally, so a learner answers too). */
async function waitCaughtUp(cluster: Cluster, slot: Slot): Promise<number> {
  return waitFor(async () => {
    const leader = await cluster.leader();
    const [l, s] = [await cluster.status(leader), await cluster.status(slot)];
    const rev = l.header?.revision;
    return rev !== undefined && rev === s.header?.revision && l.raftAppliedIndex === s.raftAppliedIndex ? Number(rev) : undefined;
  }, PHASE_DEADLINE_MS, `${slot.name} to reach the leader's revision`);
}

/** Puts `prefix/0..count-1` from `parallel` writers; a failed put (a reset connection on a loaded machine) is retried. */
async function putKeys(endpoints: readonly string[], prefix: string, count: number, parallel = 8): Promise<void> {
  const kvs = endpoints.map((e) => kvClient(e));
  try {
    let next = 0;
    await Promise.all(Array.from({ length: parallel }, async (_, w) => {
      for (let i = next++; i < count; i = next++) {
        const kv = kvs[(w + i) % kvs.length] as KvApi;
        await waitFor(async () => (await outcome(kv.put({ key: bytes(`${prefix}/${i}`), value: bytes(`v${i}`) }))).ok, PHASE_DEADLINE_MS, `put ${prefix}/${i}`);
      }
    }));
  } finally {
    for (const kv of kvs) kv.close();
  }
}

describe(`membership with etcdctl on ${SUBJECT}`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start(group, { kind: SUBJECT, size: 3 });
    await putKeys(cluster.endpoints(), 'before', 50);
  }, 45_000);
  afterAll(() => {
    cluster.close();
    expect(cluster.unexpectedExits).toEqual([]);
  });

  let learner: Slot;
  let learnerId: bigint;

  test('member add --learner prints the id and the initial cluster to start it with; the unstarted learner is listed without a name', async () => {
    learner = await cluster.newSlot('m3');
    const res = await memberAdd(cluster.slots[0]?.endpoint ?? '', [learner.name, '--learner', `--peer-urls=${learner.peerUrl}`]);
    const added = parseAdded(res, learner);
    learnerId = added.id;
    expect(added.initialCluster.split(',').sort()).toEqual([...cluster.slots, learner].map((s) => `${s.name}=${s.peerUrl}`).sort());
    const list = await etcdctl(cluster.slots[0]?.endpoint ?? '', ['member', 'list']);
    expect(list.stdout).toContain(`${hexId(learnerId)}, unstarted, , ${learner.peerUrl}, , true`);
    // Not started, so not in sync: etcd refuses to promote it.
    const early = await etcdctl(cluster.slots[0]?.endpoint ?? '', ['member', 'promote', hexId(learnerId)]);
    expect(errorLine(early)).toBe('Error: etcdserver: can only promote a learner member which is in sync with leader');
    await cluster.startAdded(learner, added.initialCluster);
  }, 30_000);

  test("etcd's refusals: a second learner, a peer URL in use, promoting a voter, unknown ids", async () => {
    const ep = cluster.slots[0]?.endpoint ?? '';
    const extra = await cluster.newSlot('m9');
    expect(errorLine(await memberAdd(ep, [extra.name, '--learner', `--peer-urls=${extra.peerUrl}`]))).toBe('Error: etcdserver: too many learner members in cluster');
    expect(errorLine(await memberAdd(ep, [extra.name, `--peer-urls=${cluster.slots[1]?.peerUrl ?? ''}`]))).toBe('Error: etcdserver: Peer URLs already exists');
    await cluster.statuses();
    expect(errorLine(await etcdctl(ep, ['member', 'promote', hexId(cluster.slots[1]?.id ?? 0n)]))).toBe('Error: etcdserver: can only promote a learner member');
    expect(errorLine(await etcdctl(ep, ['member', 'promote', 'abcdef123']))).toBe('Error: etcdserver: member not found');
    expect(errorLine(await etcdctl(ep, ['member', 'remove', 'abcdef123']))).toBe('Error: etcdserver: member not found');
  }, 45_000);

  test('the learner catches up, refuses linearizable reads, serves serializable ones, and is promoted', async () => {
    const revision = await waitCaughtUp(cluster, learner);
    expect(revision).toBeGreaterThanOrEqual(51);
    expect((await cluster.status(learner)).isLearner).toBe(true);
    // Asserted after the promotion, so a wrong answer here does not leave a learner behind for the next tests.
    const kv = kvClient(learner.endpoint);
    const linearizable = await outcome(kv.range({ key: bytes('before/1') }));
    const serializable = await outcome(kv.range({ key: bytes('before/'), rangeEnd: bytes('before0'), serializable: true, countOnly: true }));
    kv.close();
    const ep = cluster.slots[0]?.endpoint ?? '';
    const promoted = await waitFor(async () => {
      const res = await etcdctl(ep, ['member', 'promote', hexId(learnerId)]);
      return res.code === 0 || !errorLine(res).includes('in sync with leader') ? res : undefined;
    }, PHASE_DEADLINE_MS, 'the learner to be in sync for promote');
    expect(promoted.stdout.trim()).toMatch(new RegExp(`^Member ${paddedHex(learnerId)} promoted in cluster +[0-9a-f]+$`));
    expect(errorLine(await etcdctl(ep, ['member', 'promote', hexId(learnerId)]))).toBe('Error: etcdserver: can only promote a learner member');
    expect((await cluster.status(learner)).isLearner).toBe(false);
    expect(linearizable.ok ? 'ok' : linearizable.details).toBe('etcdserver: rpc not supported for learner');
    expect(serializable.ok ? Number(serializable.value.count) : serializable.details).toBe(50);
  }, 45_000);

  test('removing the leader: it exits, the others elect a new leader and accept writes', async () => {
    const leader = await cluster.leader();
    const others = cluster.slots.filter((s) => s !== leader && s.process !== undefined);
    cluster.expectExit(leader);
    const res = await etcdctl(others[0]?.endpoint ?? '', ['member', 'remove', hexId(leader.id ?? 0n)]);
    expect(res.stdout.trim()).toMatch(new RegExp(`^Member ${paddedHex(leader.id ?? 0n)} removed from cluster +[0-9a-f]+$`));
    await waitFor(() => leader.process?.hasExited(), PHASE_DEADLINE_MS, 'the removed leader to exit');
    const newLeader = await cluster.waitReady(PHASE_DEADLINE_MS, others);
    expect(others).toContain(newLeader);
    expect((await etcdctl(others[1]?.endpoint ?? '', ['put', 'after-remove', 'x'])).stdout.trim()).toBe('OK');
    // A member publishes its name and client URLs through the log after it starts (etcd's publish, retried): wait
    // for it with a deadline rather than expect it at this instant.
    const expected = others.map((s) => `${hexId(s.id ?? 0n)}, started, ${s.name}, ${s.peerUrl}, ${s.clientUrl}, false`).sort();
    let listed: string[] = [];
    await waitFor(async () => {
      listed = (await etcdctl(newLeader.endpoint, ['member', 'list'])).stdout.trim().split('\n').sort();
      return JSON.stringify(listed) === JSON.stringify(expected);
    }, PHASE_DEADLINE_MS, 'every member listed as started').catch(() => undefined);
    expect(listed).toEqual(expected);
    cluster.slots.splice(cluster.slots.indexOf(leader), 1);
  }, 45_000);

  test('a member whose data dir was wiped is replaced: remove, add, start fresh; it ends with the same store', async () => {
    const leader = await cluster.leader();
    const lost = cluster.slots.find((s) => s !== leader) as Slot;
    await cluster.kill(lost);
    await cluster.wipe(lost);
    const ep = leader.endpoint;
    expect((await etcdctl(ep, ['member', 'remove', hexId(lost.id ?? 0n)])).code).toBe(0);
    cluster.slots.splice(cluster.slots.indexOf(lost), 1);
    const fresh = await cluster.newSlot('m4');
    const added = parseAdded(await memberAdd(ep, [fresh.name, `--peer-urls=${fresh.peerUrl}`]), fresh);
    await cluster.startAdded(fresh, added.initialCluster);
    await cluster.waitReady(PHASE_DEADLINE_MS);
    await waitCaughtUp(cluster, fresh);
    const { hashes } = await cluster.waitConverged(PHASE_DEADLINE_MS);
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes).size).toBe(1);
  }, 45_000);
});

describe(`a learner joining after the leader compacted its log catches up by snapshot (${SUBJECT})`, () => {
  test('add, start, catch up by snapshot, promote', async () => {
    await withCluster(group, { kind: SUBJECT, size: 3, snapshotCount: 100 }, async (cluster) => {
      const keys = ETCD_CATCH_UP_ENTRIES + 300;
      // 32 writers: enough concurrency for the members to batch proposals, so the 5,300 entries go in seconds.
      await putKeys(cluster.endpoints(), 'bulk', keys, 32);
      const learner = await cluster.newSlot('m3');
      const added = parseAdded(await memberAdd(cluster.slots[0]?.endpoint ?? '', [learner.name, '--learner', `--peer-urls=${learner.peerUrl}`]), learner);
      await cluster.startAdded(learner, added.initialCluster);
      expect(await waitCaughtUp(cluster, learner)).toBeGreaterThan(keys);
      // rafthttp's message, which Corvid's transport logs too (etcd then logs "applied snapshot", Corvid "installed snapshot").
      expect(learner.process?.outputTail(10_000)).toMatch(/"msg":"received and saved database snapshot"/);
      const kv = kvClient(learner.endpoint);
      try {
        const count = await kv.range({ key: bytes('bulk/'), rangeEnd: bytes('bulk0'), serializable: true, countOnly: true });
        expect(Number(count.count)).toBe(keys);
      } finally {
        kv.close();
      }
      const res = await waitFor(async () => {
        const r = await etcdctl(cluster.slots[0]?.endpoint ?? '', ['member', 'promote', hexId(added.id)]);
        return r.code === 0 ? r : undefined;
      }, PHASE_DEADLINE_MS, 'promote');
      expect(res.stdout).toContain('promoted');
    }, 80_000);
  }, 90_000);
});

// A follower away while the leader compacted past its log comes back through a snapshot whose backend copy is
// ahead of the snapshot's index; its own log compaction must then snapshot at an index its log holds (it once
// asserted 'snapshot N is out of bound' and exited). Writes after the catch-up make it compact.
describe(`a restarted follower behind the leader's compacted log catches up by snapshot and goes on (${SUBJECT})`, () => {
  test('stop a follower, write past the catch-up entries, restart it, write more: all converge', async () => {
    await withCluster(group, { kind: SUBJECT, size: 3, snapshotCount: 100 }, async (cluster) => {
      const leader = await cluster.leader();
      const follower = cluster.slots.find((s) => s !== leader) as Slot;
      await cluster.stop(follower);
      const up = cluster.slots.filter((s) => s !== follower).map((s) => s.endpoint);
      await putKeys(up, 'away', ETCD_CATCH_UP_ENTRIES + 300, 32);
      await cluster.restart(follower);
      await waitCaughtUp(cluster, follower);
      expect(follower.process?.outputTail(10_000)).toMatch(/"msg":"received and saved database snapshot"/);
      await putKeys(cluster.endpoints(), 'after', 300, 16);
      const { hashes } = await cluster.waitConverged(PHASE_DEADLINE_MS);
      expect(hashes).toHaveLength(3);
      expect(new Set(hashes).size).toBe(1);
    }, 100_000);
  }, 110_000);
});
