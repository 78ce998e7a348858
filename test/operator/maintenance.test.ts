/**
 * Goal: the compaction policy takes effect, a requested defragmentation runs one member at a time with the
 * leader last, and a NOSPACE alarm is recovered (compact, defragment, disarm) and reported — with etcd 3.4
 * members and with Corvid members (the same scenarios, parameterised by member kind).
 * Method: members run under the operator; the effects are checked through the members themselves (a read below
 * the compacted revision fails with etcd's compacted error; writes fail with NOSPACE and succeed again after
 * recovery), and the steps through Events and status.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { bytes, kvClient, maintenanceClient, outcome } from '../harness/grpc.js';
import { waitFor } from '../harness/wait.js';
import type { EtcdCluster } from '../../packages/operator/src/index.js';

jest.setTimeout(120_000);

const healthyVoters = (c: EtcdCluster): number => (c.status?.members ?? []).filter((m) => !m.learner && m.healthy).length;
const GRPC_OUT_OF_RANGE = 11;
const RETAIN = 20;

describe.each(['etcd', 'corvid'] as const)('maintenance with %s members', (runtime) => {
  let env: OperatorEnv;

  beforeAll(async () => {
    env = await startOperatorEnv({ runtime });
  });
  afterAll(async () => {
    await env?.cleanup();
  });
  test('compaction policy (revision mode) compacts, keeping the last revisions', async () => {
    await env.createCluster('delta', { replicas: 3, compaction: { mode: 'revision', retention: String(RETAIN) } });
    await env.waitForCluster('delta', (c) => healthyVoters(c) === 3 && (c.status?.members ?? []).length === 3, 60_000, 'delta: 3 healthy voters');
    const kv = kvClient(`${env.kubelet.ipFor(NAMESPACE, 'delta-0')}:2379`);
    let revision = 0;
    for (let i = 0; i < 3 * RETAIN; i++) revision = Number((await kv.put({ key: bytes('counter'), value: bytes(String(i)) })).header?.revision);
    // A pass may compact while the writes are still coming (rev - N of a revision seen then); the policy then
    // catches up by at most N behind: wait for a compaction within [rev - 2N, rev - N] of the last revision.
    const c = await env.waitForCluster('delta', (x) => (x.status?.lastCompaction?.revision ?? 0) >= revision - 2 * RETAIN && x, 20_000, 'a compaction of the last revisions');
    const compacted = c.status?.lastCompaction?.revision ?? 0;
    expect(compacted).toBeLessThanOrEqual(revision - RETAIN);
    expect(compacted).toBeGreaterThanOrEqual(revision - 2 * RETAIN);
    // Below the compacted revision etcd answers "required revision has been compacted"; at it, it serves.
    const below = await outcome(kv.range({ key: bytes('counter'), revision: BigInt(compacted - 1) }));
    expect(below.ok ? 'ok' : below.code).toBe(GRPC_OUT_OF_RANGE);
    expect((await kv.range({ key: bytes('counter'), revision: BigInt(compacted) })).kvs).toHaveLength(1);
    kv.close();
    expect((await env.events('delta')).some((e) => e.reason === 'Compacted')).toBe(true);
  });

  test('a requested defragmentation goes member by member, leader last', async () => {
    // The operator may write the object's status between our read and our write: a 409 means read again, as kubectl does.
    let leader: string | undefined;
    await waitFor(async () => {
      const c0 = await env.getCluster('delta');
      leader = c0.status?.leader;
      try {
        await env.custom.replaceNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdclusters', name: 'delta', body: { ...c0, metadata: { ...c0.metadata, annotations: { 'etcd.corvid.dev/defragment': 'first' } } } });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      }
    }, 10_000, 'the defragment annotation to be written');
    const c = await env.waitForCluster('delta', (x) => x.status?.lastDefragmentation?.request === 'first' && x, 30_000, 'the defragmentation round');
    expect(c.status?.defragmentation).toBeUndefined();
    const defrags = (await env.events('delta')).filter((e) => e.reason === 'Defragmented');
    expect(defrags).toHaveLength(3);
    expect(defrags[2]?.message).toContain(`defragmented ${leader} `);
    expect(defrags[2]?.message).toContain('round complete');
    expect(new Set(defrags.map((e) => e.message.split(' ')[1])).size).toBe(3);
    // Nothing more to do: a second pass takes no action.
    expect((await env.operator.reconcileCluster(NAMESPACE, 'delta'))?.action).toBeNull();
  });

  test('NOSPACE: compacted, defragmented and disarmed by the operator, then writes succeed again', async () => {
    await env.createCluster('epsilon', { replicas: 1, extraFlags: ['--quota-backend-bytes=1048576'] });
    await env.waitForCluster('epsilon', (c) => healthyVoters(c) === 1, 30_000, 'epsilon available');
    const endpoint = `${env.kubelet.ipFor(NAMESPACE, 'epsilon-0')}:2379`;
    const kv = kvClient(endpoint);
    const big = Buffer.alloc(100 * 1024, 7);
    let raised = false;
    for (let i = 0; i < 100 && !raised; i++) {
      const r = await outcome(kv.put({ key: bytes('big'), value: big }));
      raised = !r.ok && r.details.includes('database space exceeded');
    }
    expect(raised).toBe(true);
    const c = await env.waitForCluster('epsilon', (x) => (x.status?.alarms ?? []).length === 0 && (x.status?.lastDefragmentation !== undefined) && x, 30_000, 'alarm recovered');
    const reasons = (await env.events('epsilon')).map((e) => e.reason);
    const compactAt = reasons.indexOf('Compacted');
    const defragAt = reasons.indexOf('Defragmented');
    const disarmAt = reasons.indexOf('AlarmDisarmed');
    expect(compactAt).toBeGreaterThanOrEqual(0);
    expect(compactAt).toBeLessThan(defragAt);
    expect(defragAt).toBeLessThan(disarmAt);
    expect(c.status?.lastCompaction?.revision).toBeGreaterThan(0);
    const m = maintenanceClient(endpoint);
    expect((await m.alarm({ action: 0 })).alarms).toHaveLength(0);
    m.close();
    await waitFor(async () => (await outcome(kv.put({ key: bytes('after'), value: bytes('ok') }))).ok, 10_000, 'a write after recovery');
    kv.close();
  });
});
