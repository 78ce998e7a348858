/**
 * Goal: the shipped `corvid-operator` command runs against an API server named only by a kubeconfig (no test
 * seam: cluster DNS addressing), reconciles, and serves /healthz and /metrics with its metric families.
 * Method: the built CLI as a child process with KUBECONFIG pointing at the API test server; an EtcdCluster is
 * created and the operator's first steps (services, PDB, the seed member's pod and claim) appear; its pod spec
 * uses the peer Service's DNS names. No kubelet runs, so the members never start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { KubeApiServer } from '../harness/kube-api-server.js';
import { customTypes } from '../harness/kube/operator-env.js';
import { REPO_ROOT } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';

let server: KubeApiServer;
let child: ChildProcess;
let dir: string;
let stderr = '';

beforeAll(async () => {
  server = new KubeApiServer(await customTypes());
  await server.start();
  dir = await mkdtemp(join(tmpdir(), 'corvid-operator-cli-'));
  await writeFile(join(dir, 'kubeconfig'), server.kubeconfig());
  child = spawn(process.execPath, [join(REPO_ROOT, 'packages/operator/bin/corvid-operator.js'), '--metrics-port', '0', '--scratch-dir', dir, '--resync-seconds', '1'], {
    env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
});
afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test('reconciles from a kubeconfig with DNS addressing, and serves /healthz and /metrics', async () => {
  const port = await waitFor(() => /"msg":"serving metrics","port":(\d+)/u.exec(stderr)?.[1], 20_000, 'the metrics listener');
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  await custom.createNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: 'default', plural: 'etcdclusters', body: { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdCluster', metadata: { name: 'cli' }, spec: { replicas: 3 } } });
  const pod = await waitFor(async () => (await core.listNamespacedPod({ namespace: 'default' })).items[0], 20_000, 'the seed pod');
  expect(pod.metadata?.name).toBe('cli-0');
  expect(pod.spec?.containers[0]?.command).toContain('--initial-advertise-peer-urls=http://cli-0.cli-peer.default.svc:2380');
  expect(pod.spec?.containers[0]?.command?.[0]).toBe('corvid');
  expect(pod.spec?.subdomain).toBe('cli-peer');
  expect((await core.listNamespacedService({ namespace: 'default' })).items.map((s) => s.metadata?.name).sort()).toEqual(['cli-client', 'cli-peer']);
  expect((await kc.makeApiClient(PolicyV1Api).readNamespacedPodDisruptionBudget({ namespace: 'default', name: 'cli' })).spec?.minAvailable).toBe(2);
  await waitFor(async () => (await core.listNamespacedPersistentVolumeClaim({ namespace: 'default' })).items.length === 1, 10_000, 'the seed claim');
  const cluster = await waitFor(async () => {
    const c = (await custom.getNamespacedCustomObject({ group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: 'default', plural: 'etcdclusters', name: 'cli' })) as { status?: { phase?: string; conditions?: { type: string; reason: string }[] } };
    return c.status?.conditions?.find((x) => x.type === 'Progressing')?.reason === 'MembersStarting' ? c : undefined;
  }, 10_000, 'status: waiting for the seed');
  expect(cluster.status?.phase).toBe('Creating');
  expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('ok');
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const name of ['corvid_operator_reconcile_duration_seconds_count', 'corvid_operator_reconcile_errors_total', 'corvid_operator_backups_total']) expect(metrics).toContain(name);
  expect(Number(/corvid_operator_reconcile_duration_seconds_count (\d+)/u.exec(metrics)?.[1])).toBeGreaterThan(3);
});
