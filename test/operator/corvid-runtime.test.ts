/**
 * Goal: the operator manages Corvid members exactly as etcd 3.4 ones — the same pod spec with runtime
 * `corvid` (the `corvid` command with etcd's flags, `corvid snapshot restore` to seed from a backup).
 * Method: the test kubelet runs the built `corvid` CLI for each pod; a 3-member cluster is created through
 * learners and promotions, written to, backed up, and restored into a new cluster that serves the keys at the
 * backup's revision. (Scaling, healing, maintenance and TLS with Corvid members are the parameterised
 * cluster-lifecycle, maintenance and tls tests.)
 */
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { waitFor } from '../harness/wait.js';
import type { EtcdCluster } from '../../packages/operator/src/index.js';

jest.setTimeout(120_000);

let env: OperatorEnv;

beforeAll(async () => {
  env = await startOperatorEnv({ runtime: 'corvid' });
  await env.core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: { metadata: { name: 'backups' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
});
afterAll(async () => {
  await env?.cleanup();
});

const settled = (n: number) => (c: EtcdCluster): boolean => {
  const ms = c.status?.members ?? [];
  return ms.length === n && ms.every((m) => m.healthy && !m.learner) && c.status?.conditions?.find((x) => x.type === 'Available')?.status === 'True';
};

test('Corvid: create 3 by learners, back up, restore into a new cluster', async () => {
  await env.createCluster('cv', { replicas: 3, backup: { retention: 2, destination: { volume: { claimName: 'backups', path: env.backupDir } } } });
  const c = await env.waitForCluster('cv', (x) => settled(3)(x) && x, 90_000, 'cv: 3 healthy Corvid voters');
  expect(c.status?.members?.map((m) => m.name).sort()).toEqual(['cv-0', 'cv-1', 'cv-2']);
  expect((await env.events('cv')).filter((e) => e.reason === 'LearnerPromoted')).toHaveLength(2);
  const kv = kvClient(`${env.kubelet.ipFor(NAMESPACE, c.status?.leader ?? 'cv-0')}:2379`);
  let revision = 0;
  for (let i = 0; i < 20; i++) revision = Number((await kv.put({ key: bytes(`cv/${i}`), value: bytes(`v${i}`) })).header?.revision);
  kv.close();
  await env.custom.createNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdBackup', metadata: { name: 'cv-b' }, spec: { clusterName: 'cv' } } });
  const b = await waitFor(async () => {
    const x = await env.getBackup('cv-b');
    return x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed' ? x : undefined;
  }, 30_000, 'the Corvid backup');
  expect(b.status?.message).toBeUndefined();
  expect(b.status?.revision).toBe(revision);
  await env.createCluster('cv-restored', { replicas: 1, bootstrap: { backupName: 'cv-b' } });
  await env.waitForCluster('cv-restored', (x) => settled(1)(x) && x, 60_000, 'the restored Corvid cluster');
  const pod = await env.core.readNamespacedPod({ namespace: NAMESPACE, name: 'cv-restored-0' });
  expect(pod.spec?.initContainers?.[0]?.command?.slice(0, 3)).toEqual(['corvid', 'snapshot', 'restore']);
  const restored = kvClient(`${env.kubelet.ipFor(NAMESPACE, 'cv-restored-0')}:2379`);
  const res = await restored.range({ key: bytes('cv/'), rangeEnd: bytes('cv0'), revision: BigInt(revision) });
  expect(res.kvs).toHaveLength(20);
  restored.close();
});
