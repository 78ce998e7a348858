/**
 * Goal: the operator creates, scales and heals a real cluster, one safe step at a time, with etcd 3.4 members
 * and with Corvid members (the same scenarios, parameterised by member kind).
 * Method: the Kubernetes API test server + test kubelet run each member pod as a real process; the
 * operator reaches both exactly as it would a real cluster. Each scenario asserts the resulting membership
 * (through the members' own MemberList), health, status and Events; the healing scenario keeps a writer running
 * and requires every write acknowledged before the kill to be readable after the replacement.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { etcdserverpb } from '@corvid/proto';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { waitFor } from '../harness/wait.js';
import type { EtcdCluster } from '../../packages/operator/src/index.js';

jest.setTimeout(120_000);

const NAME = 'alpha';

describe.each(['etcd', 'corvid'] as const)('with %s members', (runtime) => {
  let env: OperatorEnv;

  beforeAll(async () => {
    env = await startOperatorEnv({ runtime });
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  const voters = (c: EtcdCluster): number => (c.status?.members ?? []).filter((m) => !m.learner).length;
  const cond = (c: EtcdCluster, type: string): string | undefined => c.status?.conditions?.find((x) => x.type === type)?.status;
  const settled = (n: number) => (c: EtcdCluster): boolean =>
    voters(c) === n && (c.status?.members ?? []).length === n && (c.status?.members ?? []).every((m) => m.healthy) && cond(c, 'Available') === 'True' && cond(c, 'Progressing') === 'False';

  async function memberList(c: EtcdCluster): Promise<etcdserverpb.Member[]> {
    const leader = c.status?.members?.find((m) => m.leader);
    const client = new etcdserverpb.ClusterClient(`${env.kubelet.ipFor(NAMESPACE, leader?.name ?? '')}:2379`, (await import('@grpc/grpc-js')).credentials.createInsecure());
    try {
      return await new Promise((resolve, reject) => client.memberList(etcdserverpb.MemberListRequest.fromPartial({}), (err, res) => (err ? reject(err) : resolve(res.members))));
    } finally {
      client.close();
    }
  }

  async function podNames(): Promise<string[]> {
    const pods = await env.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `etcd.corvid.dev/cluster=${NAME}` });
    return pods.items.map((p) => p.metadata?.name ?? '').sort();
  }

  describe('EtcdCluster lifecycle', () => {
    test('create 3: pods, services, PDB, three healthy voters, Available', async () => {
      await env.createCluster(NAME, { replicas: 3 });
      const c = await env.waitForCluster(NAME, (x) => settled(3)(x) && x, 60_000, '3 healthy voters');
      expect(await podNames()).toEqual(['alpha-0', 'alpha-1', 'alpha-2']);
      const members = await memberList(c);
      expect(members.map((m) => m.name).sort()).toEqual(['alpha-0', 'alpha-1', 'alpha-2']);
      expect(members.every((m) => !m.isLearner)).toBe(true);
      expect(c.status?.phase).toBe('Running');
      expect(c.status?.observedGeneration).toBe(c.metadata.generation);
      const services = await env.core.listNamespacedService({ namespace: NAMESPACE });
      expect(services.items.map((s) => s.metadata?.name).sort()).toEqual(['alpha-client', 'alpha-peer']);
      const reasons = (await env.events(NAME)).map((e) => e.reason);
      // The second and third members joined as learners and were promoted.
      expect(reasons.filter((r) => r === 'LearnerAdded')).toHaveLength(2);
      expect(reasons.filter((r) => r === 'LearnerPromoted')).toHaveLength(2);
    });

    test('idempotence: passes over a settled cluster take no action and write nothing', async () => {
      // Member db sizes can still move just after settling (the backend commits on its own interval): let one
      // pass absorb that, then two more passes must change nothing anywhere.
      await waitFor(async () => (await env.operator.reconcileCluster(NAMESPACE, NAME))?.statusWritten === false, 10_000, 'a pass that writes nothing');
      const before = await env.getCluster(NAME);
      const rvBefore = env.server.store.resourceVersion;
      const first = await env.operator.reconcileCluster(NAMESPACE, NAME);
      const second = await env.operator.reconcileCluster(NAMESPACE, NAME);
      expect(first?.action).toBeNull();
      expect(second?.action).toBeNull();
      expect(first?.statusWritten).toBe(false);
      expect(second?.statusWritten).toBe(false);
      const after = await env.getCluster(NAME);
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(env.server.store.resourceVersion).toBe(rvBefore);
    });
  });

  async function setReplicas(n: number): Promise<void> {
    const c = await env.getCluster(NAME);
    await env.custom.replaceNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdclusters', name: NAME, body: { ...c, spec: { ...c.spec, replicas: n } } });
  }

  /** Waits for `settled(n)` while checking, on every poll, that no status ever shows more than one learner. */
  async function waitSettledOneLearnerAtATime(n: number, deadlineMs: number): Promise<EtcdCluster> {
    let maxLearners = 0;
    const c = await env.waitForCluster(NAME, (x) => {
      maxLearners = Math.max(maxLearners, (x.status?.members ?? []).filter((m) => m.learner).length);
      return settled(n)(x) && x;
    }, deadlineMs, `${n} healthy voters`);
    expect(maxLearners).toBeLessThanOrEqual(1);
    return c;
  }

  const reasonsOf = async (): Promise<string[]> => (await env.events(NAME)).map((e) => e.reason);

  describe('scaling', () => {
    test('3 → 5: each new member joins as a learner and is promoted, one at a time', async () => {
      const before = await reasonsOf();
      const generation = (await env.getCluster(NAME)).metadata.generation ?? 0;
      await setReplicas(5);
      const c = await waitSettledOneLearnerAtATime(5, 60_000);
      expect(c.metadata.generation).toBe(generation + 1);
      expect(c.status?.observedGeneration).toBe(generation + 1);
      const members = await memberList(c);
      expect(members).toHaveLength(5);
      expect(members.every((m) => !m.isLearner)).toBe(true);
      const after = await reasonsOf();
      expect(after.filter((r) => r === 'LearnerAdded').length - before.filter((r) => r === 'LearnerAdded').length).toBe(2);
      expect(after.filter((r) => r === 'LearnerPromoted').length - before.filter((r) => r === 'LearnerPromoted').length).toBe(2);
    });

    test('5 → 3: leadership is moved off the victim, members removed before their pods and claims are deleted', async () => {
      // Make the first victim (highest ordinal) the leader, so the operator must move leadership first.
      const c5 = await env.getCluster(NAME);
      const leader = c5.status?.members?.find((m) => m.leader);
      const victim = c5.status?.members?.find((m) => m.name === 'alpha-4');
      if (leader?.name !== 'alpha-4') {
        const grpc = await import('@grpc/grpc-js');
        const m = new etcdserverpb.MaintenanceClient(`${env.kubelet.ipFor(NAMESPACE, leader?.name ?? '')}:2379`, grpc.credentials.createInsecure());
        await new Promise((resolve, reject) => m.moveLeader(etcdserverpb.MoveLeaderRequest.fromPartial({ targetID: BigInt(`0x${victim?.id}`) }), (err, res) => (err ? reject(err) : resolve(res))));
        m.close();
        await env.waitForCluster(NAME, (x) => x.status?.leader === 'alpha-4', 20_000, 'alpha-4 to lead');
      }
      await setReplicas(3);
      const c = await env.waitForCluster(NAME, (x) => settled(3)(x) && x, 60_000, '3 healthy voters');
      expect((await memberList(c)).map((m) => m.name).sort()).toEqual(['alpha-0', 'alpha-1', 'alpha-2']);
      expect(await podNames()).toEqual(['alpha-0', 'alpha-1', 'alpha-2']);
      const claims = await env.core.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, labelSelector: `etcd.corvid.dev/cluster=${NAME}` });
      expect(claims.items.map((p) => p.metadata?.name).sort()).toEqual(['alpha-0', 'alpha-1', 'alpha-2']);
      const events = await env.events(NAME);
      const moved = events.findIndex((e) => e.reason === 'LeaderMoved');
      const removed4 = events.findIndex((e) => e.reason === 'MemberRemoved' && e.message.includes('alpha-4'));
      const deleted4 = events.findIndex((e) => e.reason === 'MemberResourcesDeleted' && e.message.includes('alpha-4'));
      expect(moved).toBeGreaterThanOrEqual(0);
      expect(moved).toBeLessThan(removed4);
      expect(removed4).toBeLessThan(deleted4);
      expect(c.status?.leader).not.toBe('alpha-4');
    });
  });

  describe('healing', () => {
    test('a pod briefly gone is re-created from its claim: same member, not a scale-in', async () => {
      const before = await memberList(await env.getCluster(NAME));
      await env.core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'alpha-2' });
      await waitFor(async () => (await podNames()).includes('alpha-2') && (await env.core.readNamespacedPod({ namespace: NAMESPACE, name: 'alpha-2' })).status?.podIP !== undefined, 20_000, 'alpha-2 re-created');
      const c = await env.waitForCluster(NAME, (x) => settled(3)(x) && x, 30_000, '3 healthy voters again');
      const after = await memberList(c);
      expect(after.map((m) => m.ID).sort()).toEqual(before.map((m) => m.ID).sort());
      expect((await reasonsOf()).filter((r) => r === 'MemberRemoved')).toHaveLength(2); // only the two of 5 → 3
    });

    test('a member killed for good is replaced while quorum holds, with no failed writes and no data lost', async () => {
      const c0 = await env.getCluster(NAME);
      const follower = c0.status?.members?.find((m) => !m.leader && m.name !== 'alpha-0') ?? c0.status?.members?.[1];
      const deadId = follower?.id;
      const endpoints = ['alpha-0', 'alpha-1', 'alpha-2'].filter((n) => n !== follower?.name).map((n) => `${env.kubelet.ipFor(NAMESPACE, n)}:2379`);
      const kv = kvClient(endpoints[0] as string);
      const acknowledged: string[] = [];
      let failures = 0;
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          try {
            await kv.put({ key: bytes(`heal/${i}`), value: bytes(String(i)) });
            acknowledged.push(`heal/${i}`);
          } catch {
            failures += 1;
          }
        }
      })();
      await waitFor(() => acknowledged.length >= 20, 10_000, 'writes before the kill');
      env.kubelet.killForGood(NAMESPACE, follower?.name ?? '');
      const c = await env.waitForCluster(NAME, (x) => settled(3)(x) && !(x.status?.members ?? []).some((m) => m.id === deadId) && x, 60_000, 'the failed member replaced');
      writing = false;
      await writer;
      expect(failures).toBe(0);
      // The replacement is a new member (a new ID; its pod name may reuse the freed ordinal).
      const oldIds = new Set((c0.status?.members ?? []).map((m) => m.id));
      const members = await memberList(c);
      expect(members).toHaveLength(3);
      expect(members.some((m) => m.ID.toString(16) === deadId)).toBe(false);
      const replacement = members.filter((m) => !oldIds.has(m.ID.toString(16)));
      expect(replacement).toHaveLength(1);
      const newcomer = replacement[0]?.name as string;
      // Every acknowledged write is on the replacement member.
      const fresh = kvClient(`${env.kubelet.ipFor(NAMESPACE, newcomer)}:2379`);
      const res = await fresh.range({ key: bytes('heal/'), rangeEnd: bytes('heal0'), countOnly: true, serializable: true });
      expect(Number(res.count)).toBeGreaterThanOrEqual(acknowledged.length);
      fresh.close();
      kv.close();
      const events = await env.events(NAME);
      expect(events.some((e) => e.reason === 'MemberRemoved' && e.type === 'Warning' && e.message.includes('failed'))).toBe(true);
    });
  });
});
