/**
 * Goal: the real `kubectl` accepts deploy/: `kubectl apply -k deploy/ --dry-run=client` and
 * `kubectl apply -f deploy/examples/ --dry-run=client` succeed, so does `--dry-run=server` (the server checks
 * every object, the CRD schemas included, and stores nothing), then a real apply of both creates every object,
 * the CRD schemas (served by the Kubernetes API test server from deploy/crds) accept the examples, and a broken
 * EtcdCluster is refused with the API's 422 Invalid.
 * Method: the Kubernetes API test server with the operator's CRDs, reached by kubectl through a kubeconfig file —
 * kubectl first reads discovery (/api, /apis, /api/v1, /apis/<group>/<version>) to map kinds to resources.
 * `--validate=false` throughout: kubectl's own schema validation needs the server's OpenAPI documents
 * (/openapi/v2 as protobuf or /openapi/v3), which the test server does not serve; the server still validates
 * the custom resources against the CRD schemas on a real apply.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { KubeApiServer } from '../harness/kube-api-server.js';
import { customTypes } from '../harness/kube/operator-env.js';
import { REPO_ROOT } from '../harness/processes.js';

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

let server: KubeApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = new KubeApiServer(await customTypes());
  await server.start();
  dir = await mkdtemp(join(tmpdir(), 'corvid-kubectl-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, server.kubeconfig('default'));
});
afterAll(async () => {
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs kubectl against the test server (its own cache dir, so discovery is really fetched). */
function kubectl(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL as string, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'cache')}`, '--request-timeout=20s', ...args], { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const DEPLOY_OBJECTS = [
  'namespace/corvid-system',
  'customresourcedefinition.apiextensions.k8s.io/etcdclusters.etcd.corvid.dev',
  'customresourcedefinition.apiextensions.k8s.io/etcdbackups.etcd.corvid.dev',
  'serviceaccount/corvid-operator',
  'clusterrole.rbac.authorization.k8s.io/corvid-operator',
  'clusterrolebinding.rbac.authorization.k8s.io/corvid-operator',
  'persistentvolumeclaim/etcd-backups',
  'deployment.apps/corvid-operator',
];

(KUBECTL === undefined ? describe.skip : describe)('kubectl against the Kubernetes API test server', () => {
  test('discovery: kubectl api-resources lists the served kinds, the operator\'s included', async () => {
    const r = await kubectl('api-resources', '-o', 'name');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n');
    expect(names).toEqual(expect.arrayContaining(['pods', 'secrets', 'etcdclusters.etcd.corvid.dev', 'etcdbackups.etcd.corvid.dev', 'leases.coordination.k8s.io', 'deployments.apps']));
  });

  test('apply -k deploy/ --dry-run=client, then the examples, change nothing on the server', async () => {
    const before = server.store.resourceVersion;
    const deploy = await kubectl('apply', '-k', 'deploy/', '--dry-run=client', '--validate=false', '-o', 'name');
    expect({ code: deploy.code, stderr: deploy.stderr }).toEqual({ code: 0, stderr: '' });
    expect(deploy.stdout.trim().split('\n').sort()).toEqual([...DEPLOY_OBJECTS, 'role.rbac.authorization.k8s.io/corvid-operator-leader-election', 'rolebinding.rbac.authorization.k8s.io/corvid-operator-leader-election'].sort());
    const examples = await kubectl('apply', '-f', 'deploy/examples/', '--dry-run=client', '--validate=false');
    expect({ code: examples.code, stderr: examples.stderr }).toEqual({ code: 0, stderr: '' });
    expect(examples.stdout).toContain('etcdcluster.etcd.corvid.dev/example created (dry run)');
    expect(examples.stdout).toContain('etcdbackup.etcd.corvid.dev/example-before-upgrade created (dry run)');
    expect(server.store.resourceVersion).toBe(before);
  });

  test('--dry-run=server: the server checks and answers, stores nothing, and still refuses a broken cluster', async () => {
    const before = server.store.resourceVersion;
    const deploy = await kubectl('apply', '-k', 'deploy/', '--dry-run=server', '--validate=false');
    expect({ code: deploy.code, stderr: deploy.stderr }).toEqual({ code: 0, stderr: '' });
    expect(deploy.stdout).toContain('deployment.apps/corvid-operator created (server dry run)');
    const examples = await kubectl('apply', '-f', 'deploy/examples/', '--dry-run=server', '--validate=false');
    expect({ code: examples.code, stderr: examples.stderr }).toEqual({ code: 0, stderr: '' });
    expect(examples.stdout).toContain('etcdcluster.etcd.corvid.dev/example created (server dry run)');
    const broken = join(dir, 'broken-dry.yaml');
    await writeFile(broken, 'apiVersion: etcd.corvid.dev/v1alpha1\nkind: EtcdCluster\nmetadata: {name: broken-dry, namespace: corvid-system}\nspec: {replicas: 2}\n');
    const refused = await kubectl('apply', '-f', broken, '--dry-run=server', '--validate=false');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec.replicas');
    expect(server.store.resourceVersion).toBe(before);
    expect((await kubectl('get', 'namespaces', '-o', 'name')).stdout).toBe('');
  });

  test('a real apply creates every object; the examples pass the CRD schemas; a broken cluster is refused', async () => {
    const deploy = await kubectl('apply', '-k', 'deploy/', '--validate=false', '-o', 'name');
    expect({ code: deploy.code, stderr: deploy.stderr }).toEqual({ code: 0, stderr: '' });
    const deployment = await kubectl('get', 'deployment', 'corvid-operator', '-n', 'corvid-system', '-o', 'jsonpath={.spec.template.spec.serviceAccountName}');
    expect(deployment.stdout).toBe('corvid-operator');
    const examples = await kubectl('apply', '-f', 'deploy/examples/', '--validate=false', '-o', 'name');
    expect({ code: examples.code, stderr: examples.stderr }).toEqual({ code: 0, stderr: '' });
    const got = await kubectl('get', 'etcdclusters', '-n', 'corvid-system', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(got.stdout.split(' ').length).toBeGreaterThanOrEqual(2);
    // Applying the same files again is a no-op for kubectl ("unchanged").
    const again = await kubectl('apply', '-f', 'deploy/examples/etcdcluster.yaml', '--validate=false');
    expect(again.stdout).toContain('etcdcluster.etcd.corvid.dev/example unchanged');
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'apiVersion: etcd.corvid.dev/v1alpha1\nkind: EtcdCluster\nmetadata: {name: broken, namespace: corvid-system}\nspec: {replicas: 4}\n');
    const refused = await kubectl('apply', '-f', broken, '--validate=false');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is invalid');
    expect(refused.stderr).toContain('spec.replicas');
  });
});
