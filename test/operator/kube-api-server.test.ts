/**
 * Goal: the Kubernetes API test server keeps the API conventions the operator depends on, as seen through
 * @kubernetes/client-node over HTTP (the same client the operator uses).
 * Method: one server, each convention exercised through the client: optimistic concurrency, generation,
 * the status subresource, schema defaulting and validation, label selectors, watch from a resourceVersion
 * (with bookmarks and 410 Gone), finalizers and ownerReference garbage collection; errors are compared to
 * kube-apiserver's Status shape (kind, code, reason).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { KubeApiServer } from '../harness/kube-api-server.js';
import { customTypes } from '../harness/kube/operator-env.js';
import { waitFor } from '../harness/wait.js';

let server: KubeApiServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let kc: KubeConfig;
const NS = 'default';
const G = { group: 'etcd.corvid.dev', version: 'v1alpha1', namespace: NS, plural: 'etcdclusters' };

beforeAll(async () => {
  server = new KubeApiServer(await customTypes(), { historyLimit: 50 });
  await server.start();
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await server?.stop();
});

async function failure(p: Promise<unknown>): Promise<{ code: number; body: { kind: string; code: number; reason: string; message: string; details?: { causes?: { field: string }[] } } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: number; body: string };
    return { code: e.code, body: JSON.parse(e.body) as never };
  }
  throw new Error('expected the call to fail');
}

const cluster = (name: string, spec: Record<string, unknown> = {}): object => ({ apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdCluster', metadata: { name }, spec });

describe('objects', () => {
  test('create: defaults from the CRD schema, uid, resourceVersion, generation 1; status dropped', async () => {
    const c = (await custom.createNamespacedCustomObject({ ...G, body: { ...cluster('d1'), status: { phase: 'Fake' } } })) as { metadata: { uid: string; resourceVersion: string; generation: number }; spec: { replicas: number; runtime: string; storage: { size: string } }; status?: unknown };
    expect(c.spec).toMatchObject({ replicas: 3, runtime: 'corvid', storage: { size: '1Gi' } });
    expect(c.metadata.uid).toMatch(/^[0-9a-f-]{36}$/u);
    expect(c.metadata.generation).toBe(1);
    expect(Number(c.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(c.status).toBeUndefined();
  });

  test('422 Invalid with causes for a schema violation; unknown fields pruned', async () => {
    const f = await failure(custom.createNamespacedCustomObject({ ...G, body: cluster('bad', { replicas: 4 }) }));
    expect(f.code).toBe(422);
    expect(f.body).toMatchObject({ kind: 'Status', code: 422, reason: 'Invalid' });
    expect(f.body.details?.causes?.[0]?.field).toBe('spec.replicas');
    const pruned = (await custom.createNamespacedCustomObject({ ...G, body: cluster('pruned', { replicas: 1, bogus: true }) })) as { spec: Record<string, unknown> };
    expect(pruned.spec['bogus']).toBeUndefined();
  });

  test('409 AlreadyExists, 404 NotFound', async () => {
    expect((await failure(custom.createNamespacedCustomObject({ ...G, body: cluster('d1') }))).body).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    expect((await failure(custom.getNamespacedCustomObject({ ...G, name: 'nope' }))).body).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  test('409 Conflict on a stale resourceVersion; generation bumps on spec changes only; status subresource', async () => {
    const c = (await custom.getNamespacedCustomObject({ ...G, name: 'd1' })) as { metadata: { resourceVersion: string; generation: number; labels?: Record<string, string> }; spec: Record<string, unknown>; status?: Record<string, unknown> };
    const labelled = (await custom.replaceNamespacedCustomObject({ ...G, name: 'd1', body: { ...c, metadata: { ...c.metadata, labels: { a: 'b' } } } })) as typeof c;
    expect(labelled.metadata.generation).toBe(1);
    expect((await failure(custom.replaceNamespacedCustomObject({ ...G, name: 'd1', body: { ...c, spec: { ...c.spec, replicas: 5 } } }))).body).toMatchObject({ code: 409, reason: 'Conflict' });
    const scaled = (await custom.replaceNamespacedCustomObject({ ...G, name: 'd1', body: { ...labelled, spec: { ...labelled.spec, replicas: 5 }, status: { phase: 'Ignored' } } })) as typeof c;
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.status).toBeUndefined(); // the main resource ignores status
    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({ ...G, name: 'd1', body: { ...scaled, spec: { ...scaled.spec, replicas: 7 }, status: { phase: 'Running' } } })) as typeof c;
    expect(withStatus.status).toEqual({ phase: 'Running' });
    expect(withStatus.spec['replicas']).toBe(5); // /status ignores spec
    expect(withStatus.metadata.generation).toBe(2);
  });
});

describe('lists and watches', () => {
  test('labelSelector: =, !=, in, notin, exists, !exists', async () => {
    for (const [name, labels] of [['p1', { app: 'etcd', tier: 'a' }], ['p2', { app: 'etcd', tier: 'b' }], ['p3', { app: 'web' }]] as const) {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    }
    const names = async (labelSelector: string): Promise<string[]> => (await core.listNamespacedPod({ namespace: NS, labelSelector })).items.map((p) => p.metadata?.name ?? '');
    expect(await names('app=etcd')).toEqual(['p1', 'p2']);
    expect(await names('app!=etcd')).toEqual(['p3']);
    expect(await names('tier in (b,c)')).toEqual(['p2']);
    expect(await names('tier notin (a),app=etcd')).toEqual(['p2']);
    expect(await names('tier')).toEqual(['p1', 'p2']);
    expect(await names('!tier')).toEqual(['p3']);
  });

  test('watch from a resourceVersion replays later events in order, with bookmarks', async () => {
    const list = await core.listNamespacedPod({ namespace: NS });
    const from = list.metadata?.resourceVersion as string;
    const seen: string[] = [];
    const w = await new Watch(kc).watch(`/api/v1/namespaces/${NS}/pods`, { resourceVersion: from, allowWatchBookmarks: true, labelSelector: 'app=etcd' }, (type, obj: { metadata: { name?: string } }) => seen.push(`${type} ${obj.metadata.name ?? ''}`), () => undefined);
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'p4', labels: { app: 'etcd' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'p5', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    await core.deleteNamespacedPod({ namespace: NS, name: 'p4' });
    await waitFor(() => seen.includes('DELETED p4') && seen.some((s) => s.startsWith('BOOKMARK')), 5_000, 'events and a bookmark');
    w.abort();
    expect(seen.filter((s) => !s.startsWith('BOOKMARK'))).toEqual(['ADDED p4', 'DELETED p4']);
  });

  test('watch from a version older than the history: ERROR 410 Gone (Expired)', async () => {
    for (let i = 0; i < 60; i++) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `cm${i}` } } });
    const events: { type: string; code?: number; reason?: string }[] = [];
    let done = false;
    await new Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: '2' }, (type, obj: { code?: number; reason?: string }) => events.push({ type, ...(obj.code === undefined ? {} : { code: obj.code }), ...(obj.reason === undefined ? {} : { reason: obj.reason }) }), () => {
      done = true;
    });
    await waitFor(() => done, 5_000, 'the watch to end');
    expect(events).toEqual([{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  });
});

describe('deletion', () => {
  test('finalizers hold an object with deletionTimestamp until they are removed', async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'held', finalizers: ['x/y'] } } });
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'held' });
    const held = await core.readNamespacedConfigMap({ namespace: NS, name: 'held' });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'held', body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    expect((await failure(core.readNamespacedConfigMap({ namespace: NS, name: 'held' }))).code).toBe(404);
  });

  test('ownerReferences: dependents are garbage-collected when the owner goes', async () => {
    const owner = (await custom.createNamespacedCustomObject({ ...G, body: cluster('owner') })) as { metadata: { uid: string } };
    const ref = { apiVersion: 'etcd.corvid.dev/v1alpha1', kind: 'EtcdCluster', name: 'owner', uid: owner.metadata.uid, controller: true };
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'owned-svc', ownerReferences: [ref] }, spec: { ports: [{ port: 1 }] } } });
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: 'owned-pvc', ownerReferences: [ref] }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    await custom.deleteNamespacedCustomObject({ ...G, name: 'owner' });
    expect((await failure(core.readNamespacedService({ namespace: NS, name: 'owned-svc' }))).code).toBe(404);
    expect((await failure(core.readNamespacedPersistentVolumeClaim({ namespace: NS, name: 'owned-pvc' }))).code).toBe(404);
  });
});
