/**
 * Goal: an EtcdBackup streams a verified snapshot to a volume, and an EtcdCluster bootstrapped from it holds
 * the same data at the same revisions; deleting the EtcdBackup deletes its file (finalizer).
 * Method: a one-member etcd 3.4 cluster gets 100 keys; the backup file is checked independently (SHA-256 of
 * the file against status, and etcd's trailing digest against the body); a new three-member cluster is
 * seeded from it with `etcdctl snapshot restore` in the seed pod's init container, grows by learners, and
 * every key is read back at the backup's revision from a member that joined after the restore. The S3
 * destination is exercised against s3rver (an S3-compatible server) with credentials from a Secret.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { bytes, kvClient } from '../harness/grpc.js';
import { waitFor } from '../harness/wait.js';
import type { EtcdCluster } from '../../packages/operator/src/index.js';

jest.setTimeout(120_000);

let env: OperatorEnv;
const KEYS = 100;

beforeAll(async () => {
  env = await startOperatorEnv();
  // The backup volume, as the operator pod would mount it (RWX claim "backups").
  await env.core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: { metadata: { name: 'backups' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
});
afterAll(async () => {
  await env?.cleanup();
});

const healthyVoters = (c: EtcdCluster): number => (c.status?.members ?? []).filter((m) => !m.learner && m.healthy).length;
const available = (c: EtcdCluster): boolean => c.status?.conditions?.find((x) => x.type === 'Available')?.status === 'True';

let backupRevision = 0;

test('backup: snapshot streamed to the volume, SHA-256 verified, revision recorded', async () => {
  await env.createCluster('beta', { replicas: 1, backup: { retention: 2, destination: { volume: { claimName: 'backups', path: env.backupDir } } } });
  await env.waitForCluster('beta', (c) => healthyVoters(c) === 1 && available(c), 30_000, 'beta available');
  const kv = kvClient(`${env.kubelet.ipFor(NAMESPACE, 'beta-0')}:2379`);
  for (let i = 0; i < KEYS; i++) {
    const res = await kv.put({ key: bytes(`k/${String(i).padStart(3, '0')}`), value: bytes(`v${i}`) });
    backupRevision = Number(res.header?.revision);
  }
  kv.close();
  await env.custom.createNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdBackup', metadata: { name: 'beta-manual' }, spec: { clusterName: 'beta' } } });
  const b = await waitFor(async () => {
    const x = await env.getBackup('beta-manual');
    return x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed' ? x : undefined;
  }, 30_000, 'backup finished');
  expect(b.status?.message).toBeUndefined();
  expect(b.status?.phase).toBe('Succeeded');
  expect(b.status?.revision).toBe(backupRevision);
  expect(b.status?.location).toBe('volume://backups/default/beta/beta-manual.db');
  expect(b.metadata.finalizers).toContain('etcd.corvid.dev/artifact');
  const file = await readFile(join(env.backupDir, 'default/beta/beta-manual.db'));
  expect(file.length).toBe(b.status?.sizeBytes);
  expect(createHash('sha256').update(file).digest('hex')).toBe(b.status?.sha256);
  // etcd appends the SHA-256 of the database: the body must match it.
  expect(createHash('sha256').update(file.subarray(0, file.length - 32)).digest().equals(file.subarray(file.length - 32))).toBe(true);
  const c = await env.waitForCluster('beta', (x) => x.status?.lastBackup?.name === 'beta-manual' && x, 10_000, 'lastBackup in status');
  expect(c.status?.lastBackup?.revision).toBe(backupRevision);
  expect((await env.events('beta-manual')).map((e) => e.reason)).toContain('BackupSucceeded');
});

test('restore: a new 3-member cluster seeded from the backup serves every key at its revision', async () => {
  await env.createCluster('gamma', { replicas: 3, bootstrap: { backupName: 'beta-manual' } });
  const c = await env.waitForCluster('gamma', (x) => healthyVoters(x) === 3 && (x.status?.members ?? []).length === 3 && available(x) && x, 60_000, 'gamma: 3 healthy voters');
  const pod = await env.core.readNamespacedPod({ namespace: NAMESPACE, name: 'gamma-0' });
  expect(pod.spec?.initContainers?.[0]?.command?.slice(0, 3)).toEqual(['etcdctl', 'snapshot', 'restore']);
  // Read from a member that joined after the restore (it got the data from the restored seed).
  const joined = c.status?.members?.find((m) => m.name !== 'gamma-0')?.name as string;
  const kv = kvClient(`${env.kubelet.ipFor(NAMESPACE, joined)}:2379`);
  const now = await kv.range({ key: bytes('k/'), rangeEnd: bytes('k0') });
  expect(Number(now.count)).toBe(KEYS);
  expect(Number(now.header?.revision)).toBeGreaterThanOrEqual(backupRevision);
  const atBackup = await kv.range({ key: bytes('k/'), rangeEnd: bytes('k0'), revision: BigInt(backupRevision) });
  expect(atBackup.kvs).toHaveLength(KEYS);
  atBackup.kvs.forEach((x, i) => {
    expect(x.key.toString()).toBe(`k/${String(i).padStart(3, '0')}`);
    expect(x.value.toString()).toBe(`v${i}`);
    expect(Number(x.modRevision)).toBe(backupRevision - KEYS + 1 + i);
  });
  kv.close();
  // A different cluster: its own cluster id.
  const beta = await env.getCluster('beta');
  expect(c.status?.clusterId).not.toBe(beta.status?.clusterId);
});

test('deleting an EtcdBackup deletes its file (finalizer), then the object', async () => {
  const path = join(env.backupDir, 'default/beta/beta-manual.db');
  expect(existsSync(path)).toBe(true);
  await env.custom.deleteNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', name: 'beta-manual' });
  await waitFor(async () => (await env.custom.listNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups' }) as { items: unknown[] }).items.length === 0, 10_000, 'backup object gone');
  expect(existsSync(path)).toBe(false);
});

test('backup to an S3-compatible bucket: credentials from a Secret, object verified, deleted with the EtcdBackup', async () => {
  const s3dir = join(env.root, 's3');
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: 'etcd-backups' }] });
  const { port } = await s3.run();
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await env.core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 's3-creds' }, stringData: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } });
    const destination = { s3: { bucket: 'etcd-backups', prefix: 'corvid', endpoint, credentialsSecret: 's3-creds' } };
    await env.custom.createNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdBackup', metadata: { name: 'beta-s3' }, spec: { clusterName: 'beta', destination } } });
    const b = await waitFor(async () => {
      const x = await env.getBackup('beta-s3');
      return x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed' ? x : undefined;
    }, 30_000, 'S3 backup finished');
    expect(b.status?.message).toBeUndefined();
    expect(b.status?.location).toBe('s3://etcd-backups/corvid/default/beta/beta-s3.db');
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const key = 'corvid/default/beta/beta-s3.db';
    const object = await client.send(new GetObjectCommand({ Bucket: 'etcd-backups', Key: key }));
    const body = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    expect(body.length).toBe(b.status?.sizeBytes);
    expect(createHash('sha256').update(body).digest('hex')).toBe(b.status?.sha256);
    expect(createHash('sha256').update(body.subarray(0, body.length - 32)).digest().equals(body.subarray(body.length - 32))).toBe(true);
    await env.custom.deleteNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups', name: 'beta-s3' });
    await waitFor(async () => {
      try {
        await client.send(new HeadObjectCommand({ Bucket: 'etcd-backups', Key: key }));
        return false;
      } catch (err) {
        return (err as { name?: string }).name === 'NotFound';
      }
    }, 10_000, 'the S3 object deleted');
    client.destroy();
  } finally {
    await s3.close();
  }
});
