/**
 * The Kubernetes objects the operator owns for a cluster, built from its spec: one Pod and one
 * PersistentVolumeClaim per member (per-member pods rather than a StatefulSet, so every membership change is
 * a step the operator takes and can check — a StatefulSet's controller would start and stop pods on its own
 * schedule, and scaling it down removes the highest ordinal whether or not its member was removed first),
 * a headless peer Service (stable DNS names for peer URLs), a client Service and a PodDisruptionBudget that
 * keeps a quorum. Every object carries the cluster label and a controller ownerReference, so deleting the
 * EtcdCluster garbage-collects them.
 */
import type { V1PersistentVolumeClaim, V1Pod, V1PodDisruptionBudget, V1Service, V1Container, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { ANNOTATION_BOOTSTRAP, API_VERSION, LABEL_CLUSTER, LABEL_MANAGED_BY, LABEL_MEMBER, type EtcdCluster } from '../crd/types.js';
import type { Bootstrap } from '../plan/observed.js';
import type { InitialPeer } from '../plan/decide.js';

export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;
/** Where the member's claim is mounted and the data dir inside it. */
export const DATA_MOUNT = '/var/lib/etcd';
export const DATA_DIR = `${DATA_MOUNT}/data`;
/** Where a restore init container mounts the backup volume. */
export const BACKUP_MOUNT = '/backup';
export const MANAGER = 'corvid-operator';
/** Where the TLS Secrets are mounted in member pods. */
export const CLIENT_TLS_MOUNT = '/etc/etcd/tls/client';
export const PEER_TLS_MOUNT = '/etc/etcd/tls/peer';
/** The files a TLS Secret must hold: the kubernetes.io/tls keys plus the CA (cert-manager's layout). */
export const TLS_SECRET_FILES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

/**
 * How members are addressed. The default is the peer Service's DNS name for the pod
 * (`<pod>.<cluster>-peer.<namespace>.svc`), which is what a real cluster resolves; an embedding program may
 * supply another mapping (the tests give each pod its own loopback address).
 */
export interface MemberAddressing {
  host(namespace: string, cluster: string, podName: string): string;
}

export const DNS_ADDRESSING: MemberAddressing = {
  host: (namespace, cluster, podName) => `${podName}.${cluster}-peer.${namespace}.svc`,
};

const clientScheme = (c: EtcdCluster): string => (c.spec.tls?.client === undefined ? 'http' : 'https');
const peerScheme = (c: EtcdCluster): string => (c.spec.tls?.peer === undefined ? 'http' : 'https');

export const peerUrl = (a: MemberAddressing, c: EtcdCluster, pod: string): string => `${peerScheme(c)}://${a.host(c.metadata.namespace, c.metadata.name, pod)}:${PEER_PORT}`;
export const clientEndpoint = (a: MemberAddressing, c: EtcdCluster, pod: string): string => `${a.host(c.metadata.namespace, c.metadata.name, pod)}:${CLIENT_PORT}`;

export function labelsFor(c: EtcdCluster, member?: string): Record<string, string> {
  return { [LABEL_CLUSTER]: c.metadata.name, [LABEL_MANAGED_BY]: MANAGER, 'app.kubernetes.io/name': 'etcd', ...(member === undefined ? {} : { [LABEL_MEMBER]: member }) };
}

export function ownerRef(c: EtcdCluster): { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean } {
  return { apiVersion: API_VERSION, kind: 'EtcdCluster', name: c.metadata.name, uid: c.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export function imageOf(c: EtcdCluster): string {
  if (c.spec.image !== undefined) return c.spec.image;
  const v = c.spec.version.startsWith('v') ? c.spec.version : `v${c.spec.version}`;
  return c.spec.runtime === 'etcd' ? `quay.io/coreos/etcd:${v}` : `ghcr.io/corvid-db/corvid:latest`;
}

/** A volume backup's location: `volume://<claim>/<path inside it>`. */
export function parseVolumeLocation(location: string): { claimName: string; path: string } | undefined {
  const m = location.match(/^volume:\/\/([^/]+)\/(.+)$/u);
  return m === null ? undefined : { claimName: m[1] as string, path: m[2] as string };
}

export interface MemberPodInput {
  readonly podName: string;
  readonly bootstrap: Bootstrap;
  readonly peers: readonly InitialPeer[];
  readonly restoreFrom?: string | undefined;
}

/** etcd's TLS flags for the mounted Secrets: both sides verify the other's certificate against the CA. */
function tlsFlags(c: EtcdCluster): string[] {
  const client = c.spec.tls?.client === undefined ? [] : [
    `--cert-file=${CLIENT_TLS_MOUNT}/${TLS_SECRET_FILES.cert}`,
    `--key-file=${CLIENT_TLS_MOUNT}/${TLS_SECRET_FILES.key}`,
    `--trusted-ca-file=${CLIENT_TLS_MOUNT}/${TLS_SECRET_FILES.ca}`,
    '--client-cert-auth',
  ];
  const peer = c.spec.tls?.peer === undefined ? [] : [
    `--peer-cert-file=${PEER_TLS_MOUNT}/${TLS_SECRET_FILES.cert}`,
    `--peer-key-file=${PEER_TLS_MOUNT}/${TLS_SECRET_FILES.key}`,
    `--peer-trusted-ca-file=${PEER_TLS_MOUNT}/${TLS_SECRET_FILES.ca}`,
    '--peer-client-cert-auth',
  ];
  return [...client, ...peer];
}

/** The Secret volumes and their mounts for `spec.tls`. */
function tlsVolumes(c: EtcdCluster): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const sides = [
    { name: 'client-tls', secret: c.spec.tls?.client?.secretName, mountPath: CLIENT_TLS_MOUNT },
    { name: 'peer-tls', secret: c.spec.tls?.peer?.secretName, mountPath: PEER_TLS_MOUNT },
  ].filter((s): s is { name: string; secret: string; mountPath: string } => s.secret !== undefined);
  return {
    volumes: sides.map((s) => ({ name: s.name, secret: { secretName: s.secret } })),
    mounts: sides.map((s) => ({ name: s.name, mountPath: s.mountPath, readOnly: true })),
  };
}

function memberFlags(a: MemberAddressing, c: EtcdCluster, input: MemberPodInput): string[] {
  const self = peerUrl(a, c, input.podName);
  const initialCluster = [...input.peers, { name: input.podName, peerURL: self }].map((p) => `${p.name}=${p.peerURL}`).join(',');
  return [
    `--name=${input.podName}`,
    `--data-dir=${DATA_DIR}`,
    `--listen-client-urls=${clientScheme(c)}://0.0.0.0:${CLIENT_PORT}`,
    `--advertise-client-urls=${clientScheme(c)}://${a.host(c.metadata.namespace, c.metadata.name, input.podName)}:${CLIENT_PORT}`,
    `--listen-peer-urls=${peerScheme(c)}://0.0.0.0:${PEER_PORT}`,
    `--initial-advertise-peer-urls=${self}`,
    `--initial-cluster=${initialCluster}`,
    `--initial-cluster-state=${input.bootstrap === 'existing' ? 'existing' : 'new'}`,
    `--initial-cluster-token=${c.metadata.uid}`,
    ...tlsFlags(c),
    ...(c.spec.extraFlags ?? []),
  ];
}

/** `etcdctl snapshot restore` (etcd) or `corvid snapshot restore` (Corvid), with etcd's flags. */
function restoreContainer(a: MemberAddressing, c: EtcdCluster, podName: string, file: string): V1Container {
  const self = peerUrl(a, c, podName);
  const command = c.spec.runtime === 'etcd' ? ['etcdctl', 'snapshot', 'restore'] : ['corvid', 'snapshot', 'restore'];
  return {
    name: 'restore',
    image: imageOf(c),
    command: [...command, `${BACKUP_MOUNT}/${file}`, `--name=${podName}`, `--data-dir=${DATA_DIR}`, `--initial-cluster=${podName}=${self}`, `--initial-advertise-peer-urls=${self}`, `--initial-cluster-token=${c.metadata.uid}`],
    env: [{ name: 'ETCDCTL_API', value: '3' }],
    volumeMounts: [
      { name: 'data', mountPath: DATA_MOUNT },
      { name: 'backup', mountPath: BACKUP_MOUNT, readOnly: true },
    ],
  };
}

export function memberPod(a: MemberAddressing, c: EtcdCluster, input: MemberPodInput): V1Pod {
  const restore = input.restoreFrom === undefined ? undefined : parseVolumeLocation(input.restoreFrom);
  if (input.restoreFrom !== undefined && restore === undefined) throw new Error(`restore from ${input.restoreFrom}: only volume:// backups can seed a cluster`);
  const t = c.spec.podTemplate ?? {};
  const binary = c.spec.runtime === 'etcd' ? 'etcd' : 'corvid';
  const tls = tlsVolumes(c);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: input.podName, namespace: c.metadata.namespace, labels: { ...t.labels, ...labelsFor(c, input.podName) }, ...(t.annotations === undefined ? {} : { annotations: t.annotations }), ownerReferences: [ownerRef(c)] },
    spec: {
      hostname: input.podName,
      subdomain: `${c.metadata.name}-peer`,
      restartPolicy: 'Always',
      ...(t.nodeSelector === undefined ? {} : { nodeSelector: t.nodeSelector }),
      ...(t.priorityClassName === undefined ? {} : { priorityClassName: t.priorityClassName }),
      ...(t.tolerations === undefined ? {} : { tolerations: t.tolerations as V1Pod['spec'] extends { tolerations?: infer T } ? T : never }),
      ...(t.affinity === undefined ? {} : { affinity: t.affinity }),
      ...(restore === undefined ? {} : { initContainers: [restoreContainer(a, c, input.podName, restore.path)] }),
      containers: [
        {
          name: 'member',
          image: imageOf(c),
          command: [binary, ...memberFlags(a, c, input)],
          ports: [
            { name: 'client', containerPort: CLIENT_PORT },
            { name: 'peer', containerPort: PEER_PORT },
          ],
          readinessProbe: { tcpSocket: { port: CLIENT_PORT }, periodSeconds: 5 },
          ...(c.spec.resources === undefined ? {} : { resources: c.spec.resources }),
          volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT }, ...tls.mounts],
        },
      ],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: input.podName } },
        ...tls.volumes,
        ...(restore === undefined ? [] : [{ name: 'backup', persistentVolumeClaim: { claimName: restore.claimName, readOnly: true } }]),
      ],
    },
  };
}

export function memberClaim(c: EtcdCluster, podName: string, bootstrap: Bootstrap): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: podName, namespace: c.metadata.namespace, labels: labelsFor(c, podName), annotations: { [ANNOTATION_BOOTSTRAP]: bootstrap }, ownerReferences: [ownerRef(c)] },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: c.spec.storage.size } },
      ...(c.spec.storage.storageClassName === undefined ? {} : { storageClassName: c.spec.storage.storageClassName }),
    },
  };
}

export function peerService(c: EtcdCluster): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${c.metadata.name}-peer`, namespace: c.metadata.namespace, labels: labelsFor(c), ownerReferences: [ownerRef(c)] },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { [LABEL_CLUSTER]: c.metadata.name },
      ports: [
        { name: 'peer', port: PEER_PORT, targetPort: PEER_PORT },
        { name: 'client', port: CLIENT_PORT, targetPort: CLIENT_PORT },
      ],
    },
  };
}

export function clientService(c: EtcdCluster): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${c.metadata.name}-client`, namespace: c.metadata.namespace, labels: labelsFor(c), ownerReferences: [ownerRef(c)] },
    spec: { selector: { [LABEL_CLUSTER]: c.metadata.name }, ports: [{ name: 'client', port: CLIENT_PORT, targetPort: CLIENT_PORT }] },
  };
}

/** minAvailable = a quorum of the declared size, so voluntary evictions never take the cluster below it. */
export function podDisruptionBudget(c: EtcdCluster, minAvailable: number): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: c.metadata.name, namespace: c.metadata.namespace, labels: labelsFor(c), ownerReferences: [ownerRef(c)] },
    spec: { minAvailable, selector: { matchLabels: { [LABEL_CLUSTER]: c.metadata.name } } },
  };
}
