/**
 * One operator test environment: the Kubernetes API test server serving EtcdCluster and EtcdBackup with the
 * CRDs' schemas from deploy/crds, the test kubelet running member pods as real processes (etcd 3.4 by
 * default), and the operator itself connected through a kubeconfig exactly as to a real cluster — the only
 * seam is `addressing`, the kubelet's pod → loopback address map standing in for cluster DNS.
 * `cleanup()` stops everything and removes the temp root, even after a failure.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { Operator, type EtcdBackup, type EtcdCluster, type EtcdClusterSpec, type OperatorOptions } from '../../../packages/operator/src/index.js';
import { KubeApiServer, type ResourceType } from '../kube-api-server.js';
import type { JsonSchema } from './openapi-schema.js';
import { CORVID_MAIN, REPO_ROOT } from '../processes.js';
import { waitFor } from '../wait.js';
import { TestKubelet } from './kubelet.js';

export const NAMESPACE = 'default';
/**
 * How long a member pod may stay not Ready before the operator replaces it (120 s by default; short here so
 * the healing tests are quick). A joining Corvid member is a Node process that loads its modules before it
 * listens: on this shared 2-core machine that took over 3 s at times, and the operator then replaced a learner
 * that was merely starting (an extra LearnerAdded/MemberRemoved pair in the lifecycle test).
 */
const FAILURE_TIMEOUT_SECONDS = { etcd: 3, corvid: 10 } as const;
const GROUP = 'etcd.corvid.dev';
const VERSION = 'v1alpha1';

export interface CrdDoc {
  spec: { group: string; names: { kind: string; plural: string }; scope: string; versions: { name: string; subresources?: { status?: object }; schema: { openAPIV3Schema: JsonSchema } }[] };
}

export async function loadCrd(file: string): Promise<CrdDoc> {
  return yaml.load(await readFile(join(REPO_ROOT, 'deploy/crds', file), 'utf8')) as CrdDoc;
}

export async function customTypes(): Promise<ResourceType[]> {
  const out: ResourceType[] = [];
  for (const file of ['etcd.corvid.dev_etcdclusters.yaml', 'etcd.corvid.dev_etcdbackups.yaml']) {
    const crd = await loadCrd(file);
    const v = crd.spec.versions[0] as CrdDoc['spec']['versions'][number];
    out.push({ group: crd.spec.group, version: v.name, plural: crd.spec.names.plural, kind: crd.spec.names.kind, namespaced: crd.spec.scope === 'Namespaced', statusSubresource: v.subresources?.status !== undefined, schema: v.schema.openAPIV3Schema });
  }
  return out;
}

export interface OperatorEnv {
  readonly server: KubeApiServer;
  readonly kubelet: TestKubelet;
  readonly operator: Operator;
  readonly kubeConfig: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly root: string;
  /** Where the operator writes volume backups (the claim `backups` as the operator pod would mount it). */
  readonly backupDir: string;
  createCluster(name: string, spec: Partial<EtcdClusterSpec>): Promise<EtcdCluster>;
  getCluster(name: string): Promise<EtcdCluster>;
  getBackup(name: string): Promise<EtcdBackup>;
  /** Waits until the cluster's status satisfies `check` (returns its value), with a deadline. */
  waitForCluster<T>(name: string, check: (c: EtcdCluster) => T | undefined | false, deadlineMs: number, what: string): Promise<T>;
  events(name: string): Promise<{ reason: string; message: string; type: string }[]>;
  cleanup(): Promise<void>;
}

export interface EnvOptions {
  readonly runtime?: 'etcd' | 'corvid';
  readonly operator?: Partial<OperatorOptions>;
  readonly startOperator?: boolean;
}

export async function startOperatorEnv(options: EnvOptions = {}): Promise<OperatorEnv> {
  const root = await mkdtemp(join(tmpdir(), 'corvid-operator-test-'));
  const server = new KubeApiServer(await customTypes());
  await server.start();
  const kubelet = new TestKubelet({
    store: server.store,
    root,
    binaries: { etcd: ['/usr/bin/etcd'], etcdctl: ['/usr/bin/etcdctl'], corvid: [process.execPath, CORVID_MAIN] },
  });
  kubelet.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(server.kubeconfig(NAMESPACE));
  const logs: string[] = [];
  const operator = new Operator({
    kubeConfig,
    addressing: kubelet.addressing,
    resyncMs: 500,
    actedRequeueMs: 50,
    waitRequeueMs: 250,
    scratchDir: join(root, 'scratch'),
    log: (level, msg, fields) => {
      logs.push(JSON.stringify({ level, msg, ...fields }));
      if (logs.length > 500) logs.shift();
    },
    ...options.operator,
  });
  if (options.startOperator !== false) await operator.start();
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const getCluster = async (name: string): Promise<EtcdCluster> => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NAMESPACE, plural: 'etcdclusters', name })) as EtcdCluster;
  return {
    server,
    kubelet,
    operator,
    kubeConfig,
    custom,
    core,
    root,
    backupDir: kubelet.claimDir(NAMESPACE, 'backups'),
    createCluster: async (name, spec) =>
      (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NAMESPACE, plural: 'etcdclusters', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'EtcdCluster', metadata: { name }, spec: { runtime: options.runtime ?? 'etcd', memberFailureTimeoutSeconds: FAILURE_TIMEOUT_SECONDS[options.runtime ?? 'etcd'], ...spec } } })) as EtcdCluster,
    getCluster,
    getBackup: async (name) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NAMESPACE, plural: 'etcdbackups', name })) as EtcdBackup,
    waitForCluster: async (name, check, deadlineMs, what) => {
      try {
        return await waitFor(async () => check(await getCluster(name)) ?? undefined, deadlineMs, what);
      } catch (err) {
        const c = await getCluster(name).catch(() => undefined);
        throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(c?.status)}\noperator log tail:\n${logs.slice(-15).join('\n')}`);
      }
    },
    events: async (name) => {
      const list = await core.listNamespacedEvent({ namespace: NAMESPACE });
      return list.items.filter((e) => e.involvedObject.name === name).map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '' }));
    },
    cleanup: async () => {
      await operator.stop().catch(() => undefined);
      await kubelet.stop();
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
