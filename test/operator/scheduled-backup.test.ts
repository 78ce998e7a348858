/**
 * Goal: the backup schedule creates an EtcdBackup for the due cron minute, which is taken and stored, and
 * retention keeps only the newest N scheduled backups (deleting the older objects and their files).
 * Method: a one-member etcd 3.4 cluster with schedule "* * * * *" and retention 2; two earlier scheduled
 * runs are stood in for by EtcdBackups carrying older schedule minutes (taken for real by the operator).
 * The first cron minute after the cluster's creation comes within 60 s; then exactly the newest two remain.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { startOperatorEnv, NAMESPACE, type OperatorEnv } from '../harness/kube/operator-env.js';
import { waitFor } from '../harness/wait.js';
import type { EtcdBackup } from '../../packages/operator/src/index.js';

jest.setTimeout(120_000);

let env: OperatorEnv;
const G = { group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NAMESPACE, plural: 'etcdbackups' };

beforeAll(async () => {
  env = await startOperatorEnv();
  await env.core.createNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, body: { metadata: { name: 'backups' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
});
afterAll(async () => {
  await env?.cleanup();
});

const list = async (): Promise<EtcdBackup[]> => ((await env.custom.listNamespacedCustomObject(G)) as { items: EtcdBackup[] }).items;

test('schedule every minute, retention 2: the due minute is backed up and only the newest two are kept', async () => {
  const created = await env.createCluster('zeta', { replicas: 1, backup: { schedule: '* * * * *', retention: 2, destination: { volume: { claimName: 'backups', path: env.backupDir } } } });
  await env.waitForCluster('zeta', (c) => (c.status?.members ?? []).some((m) => m.healthy), 30_000, 'zeta available');
  const createdMs = Date.parse(String(created.metadata.creationTimestamp));
  for (const [name, ago] of [['zeta-earlier-1', 3], ['zeta-earlier-2', 2]] as const) {
    const tick = Math.floor(createdMs / 60_000) * 60_000 - ago * 60_000;
    await env.custom.createNamespacedCustomObject({ ...G, body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdBackup', metadata: { name, labels: { 'etcd.corvid.dev/cluster': 'zeta', 'etcd.corvid.dev/scheduled': 'true' }, annotations: { 'etcd.corvid.dev/scheduled-tick': String(tick) } }, spec: { clusterName: 'zeta' } } });
  }
  await waitFor(async () => (await list()).filter((b) => b.metadata.name.startsWith('zeta-earlier') && b.status?.phase === 'Succeeded').length === 2, 20_000, 'the earlier backups taken');
  const earlier1 = join(env.backupDir, 'default/zeta/zeta-earlier-1.db');
  expect(existsSync(earlier1)).toBe(true);
  // The first scheduled minute after creation: a backup named for it, taken; then retention removes the oldest.
  const remaining = await waitFor(async () => {
    const all = await list();
    const scheduled = all.find((b) => /^zeta-\d{12}$/u.test(b.metadata.name));
    return scheduled?.status?.phase === 'Succeeded' && !all.some((b) => b.metadata.name === 'zeta-earlier-1') ? all : undefined;
  }, 75_000, 'a scheduled backup and retention applied');
  const names = remaining.map((b) => b.metadata.name).sort();
  expect(names).toHaveLength(2);
  expect(names[1]).toBe('zeta-earlier-2');
  const stamp = (names[0] as string).slice('zeta-'.length);
  const tick = Date.UTC(Number(stamp.slice(0, 4)), Number(stamp.slice(4, 6)) - 1, Number(stamp.slice(6, 8)), Number(stamp.slice(8, 10)), Number(stamp.slice(10, 12)));
  expect(tick).toBeGreaterThan(createdMs - 60_000);
  expect(tick % 60_000).toBe(0);
  expect(existsSync(earlier1)).toBe(false);
  expect(existsSync(join(env.backupDir, 'default/zeta', `${names[0]}.db`))).toBe(true);
  const reasons = (await env.events('zeta')).map((e) => e.reason);
  expect(reasons).toContain('BackupScheduled');
  expect(reasons).toContain('BackupExpired');
});
