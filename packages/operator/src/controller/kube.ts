/**
 * The operator's calls to the Kubernetes API, through @kubernetes/client-node's generated clients: the same
 * code runs in a pod (in-cluster config) or from a kubeconfig. Writes use PUT with the read resourceVersion,
 * so a concurrent change surfaces as 409 Conflict and the pass is retried from a fresh observation.
 */
import { CoreV1Api, CustomObjectsApi, PolicyV1Api, type KubeConfig, type V1PersistentVolumeClaim, type V1Pod, type V1PodDisruptionBudget, type V1Service } from '@kubernetes/client-node';
import { BACKUP_PLURAL, CLUSTER_PLURAL, GROUP, VERSION, type EtcdBackup, type EtcdCluster } from '../crd/types.js';

export const httpCode = (err: unknown): number | undefined => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
};
export const isNotFound = (err: unknown): boolean => httpCode(err) === 404;
export const isConflict = (err: unknown): boolean => httpCode(err) === 409;

/** Runs `write`, treating "already there" (create) or "already gone" (delete) as done. */
export async function idempotent(write: () => Promise<unknown>, okCode: 404 | 409): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (httpCode(err) !== okCode) throw err;
  }
}

export interface EventInput {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export class Kube {
  readonly core: CoreV1Api;
  readonly policy: PolicyV1Api;
  readonly custom: CustomObjectsApi;

  constructor(readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.policy = config.makeApiClient(PolicyV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
  }

  async listClusters(): Promise<EtcdCluster[]> {
    const list = (await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: CLUSTER_PLURAL })) as { items: EtcdCluster[] };
    return list.items;
  }

  async getCluster(namespace: string, name: string): Promise<EtcdCluster | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: CLUSTER_PLURAL, name })) as EtcdCluster;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async replaceClusterStatus(c: EtcdCluster): Promise<EtcdCluster> {
    return (await this.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: c.metadata.namespace, plural: CLUSTER_PLURAL, name: c.metadata.name, body: c })) as EtcdCluster;
  }

  async listBackups(namespace?: string): Promise<EtcdBackup[]> {
    const list = (namespace === undefined
      ? await this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: BACKUP_PLURAL })
      : await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: BACKUP_PLURAL })) as { items: EtcdBackup[] };
    return list.items;
  }

  async getBackup(namespace: string, name: string): Promise<EtcdBackup | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: BACKUP_PLURAL, name })) as EtcdBackup;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async createBackup(b: Omit<EtcdBackup, 'metadata'> & { metadata: Partial<EtcdBackup['metadata']> }): Promise<void> {
    await idempotent(() => this.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: b.metadata.namespace as string, plural: BACKUP_PLURAL, body: b }), 409);
  }

  async replaceBackup(b: EtcdBackup): Promise<EtcdBackup> {
    return (await this.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: b.metadata.namespace, plural: BACKUP_PLURAL, name: b.metadata.name, body: b })) as EtcdBackup;
  }

  async replaceBackupStatus(b: EtcdBackup): Promise<EtcdBackup> {
    return (await this.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: b.metadata.namespace, plural: BACKUP_PLURAL, name: b.metadata.name, body: b })) as EtcdBackup;
  }

  async deleteBackup(namespace: string, name: string): Promise<void> {
    await idempotent(() => this.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: BACKUP_PLURAL, name }), 404);
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  async listClaims(namespace: string, labelSelector: string): Promise<V1PersistentVolumeClaim[]> {
    return (await this.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector })).items;
  }

  async listServices(namespace: string, labelSelector: string): Promise<V1Service[]> {
    return (await this.core.listNamespacedService({ namespace, labelSelector })).items;
  }

  async getPdb(namespace: string, name: string): Promise<V1PodDisruptionBudget | undefined> {
    try {
      return await this.policy.readNamespacedPodDisruptionBudget({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async getSecret(namespace: string, name: string): Promise<Record<string, Buffer>> {
    const s = await this.core.readNamespacedSecret({ namespace, name });
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  }

  /** A core/v1 Event on `involved`, as `kubectl describe` shows them. */
  async event(involved: { kind: string; apiVersion: string; metadata: { name: string; namespace: string; uid: string } }, e: EventInput): Promise<void> {
    const now = new Date();
    const suffix = `${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    await this.core.createNamespacedEvent({
      namespace: involved.metadata.namespace,
      body: {
        metadata: { name: `${involved.metadata.name}.${suffix}`, namespace: involved.metadata.namespace },
        involvedObject: { kind: involved.kind, apiVersion: involved.apiVersion, name: involved.metadata.name, namespace: involved.metadata.namespace, uid: involved.metadata.uid },
        type: e.type,
        reason: e.reason,
        message: e.message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: 'corvid-operator' },
        reportingComponent: 'corvid-operator',
      },
    });
  }
}
