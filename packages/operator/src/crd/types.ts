/**
 * TypeScript shapes of the EtcdCluster and EtcdBackup resources, matching deploy/crds/*.yaml field for field
 * (the CRD test loads both and checks every property here is declared there). Defaults are the CRD's: the API
 * server applies them, and `withDefaults` applies the same ones for objects read from older servers.
 */
export const GROUP = 'etcd.corvid.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CLUSTER_PLURAL = 'etcdclusters';
export const BACKUP_PLURAL = 'etcdbackups';

/** Labels and annotations the operator writes; selectors use only these. */
export const LABEL_CLUSTER = 'etcd.corvid.dev/cluster';
export const LABEL_MEMBER = 'etcd.corvid.dev/member';
export const LABEL_SCHEDULED = 'etcd.corvid.dev/scheduled';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** On a member's claim: how its member was born (new | existing | restore), read when its pod is re-created. */
export const ANNOTATION_BOOTSTRAP = 'etcd.corvid.dev/bootstrap';
/** On an EtcdCluster: any new value requests one defragmentation round. */
export const ANNOTATION_DEFRAGMENT = 'etcd.corvid.dev/defragment';
export const BACKUP_FINALIZER = 'etcd.corvid.dev/artifact';

export type Runtime = 'corvid' | 'etcd';

export interface VolumeDestination {
  claimName: string;
  path: string;
}

export interface S3Destination {
  bucket: string;
  prefix?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentialsSecret?: string;
}

export interface BackupDestination {
  volume?: VolumeDestination;
  s3?: S3Destination;
}

export interface EtcdClusterSpec {
  replicas: number;
  runtime: Runtime;
  version: string;
  image?: string;
  storage: { storageClassName?: string; size: string };
  resources?: Record<string, unknown>;
  podTemplate?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    nodeSelector?: Record<string, string>;
    priorityClassName?: string;
    tolerations?: Record<string, unknown>[];
    affinity?: Record<string, unknown>;
  };
  extraFlags?: string[];
  tls?: { client?: { secretName: string }; peer?: { secretName: string } };
  memberFailureTimeoutSeconds: number;
  compaction?: { mode: 'periodic' | 'revision'; retention: string };
  defragmentation?: { schedule?: string };
  backup?: { schedule?: string; retention: number; destination: BackupDestination };
  bootstrap?: { backupName?: string };
}

export interface MemberStatus {
  name: string;
  id: string;
  learner: boolean;
  leader: boolean;
  healthy: boolean;
  version?: string;
  revision?: number;
  dbSizeBytes?: number;
  dbSizeInUseBytes?: number;
}

export interface Condition {
  type: 'Available' | 'Progressing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface EtcdClusterStatus {
  phase?: string;
  observedGeneration?: number;
  clusterId?: string;
  leader?: string;
  readyMembers?: number;
  lastAction?: string;
  members?: MemberStatus[];
  conditions?: Condition[];
  alarms?: string[];
  lastBackup?: { name: string; finishTime: string; revision: number };
  lastCompaction?: { revision: number; time: string };
  compactionCheckpoint?: { revision: number; time: string };
  lastDefragmentation?: { time: string; request?: string };
  defragmentation?: { startTime: string; request?: string; reason: string; done: string[] };
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface EtcdCluster {
  apiVersion: string;
  kind: 'EtcdCluster';
  metadata: ObjectMeta;
  spec: EtcdClusterSpec;
  status?: EtcdClusterStatus;
}

export type BackupPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface EtcdBackupStatus {
  phase?: BackupPhase;
  location?: string;
  member?: string;
  revision?: number;
  sizeBytes?: number;
  sha256?: string;
  startTime?: string;
  finishTime?: string;
  message?: string;
}

export interface EtcdBackup {
  apiVersion: string;
  kind: 'EtcdBackup';
  metadata: ObjectMeta;
  spec: { clusterName: string; destination?: BackupDestination };
  status?: EtcdBackupStatus;
}

/** The CRD's defaults, for objects that reach the operator without them. */
export function withDefaults(spec: Partial<EtcdClusterSpec>): EtcdClusterSpec {
  return {
    ...spec,
    replicas: spec.replicas ?? 3,
    runtime: spec.runtime ?? 'corvid',
    version: spec.version ?? '3.4.23',
    storage: { ...spec.storage, size: spec.storage?.size ?? '1Gi' },
    memberFailureTimeoutSeconds: spec.memberFailureTimeoutSeconds ?? 120,
    ...(spec.compaction === undefined ? {} : { compaction: { mode: spec.compaction.mode ?? 'revision', retention: spec.compaction.retention ?? '10000' } }),
    ...(spec.backup === undefined ? {} : { backup: { ...spec.backup, retention: spec.backup.retention ?? 3 } }),
  };
}

/** Pod and claim name of member `ordinal` of `cluster`. */
export const memberName = (cluster: string, ordinal: number): string => `${cluster}-${ordinal}`;

/** The ordinal in a member name, or undefined when the name is not one of this cluster's. */
export function ordinalOf(cluster: string, name: string): number | undefined {
  if (!name.startsWith(`${cluster}-`)) return undefined;
  const rest = name.slice(cluster.length + 1);
  return /^\d+$/u.test(rest) ? Number(rest) : undefined;
}

/** Majority of `voters`. */
export const quorum = (voters: number): number => Math.floor(voters / 2) + 1;
