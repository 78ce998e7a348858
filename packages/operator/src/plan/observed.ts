/**
 * What one observation of a cluster found, as plain data: its resources in Kubernetes and, through the etcd
 * API, its membership and each member's Status. `decide` reads only this; the observer builds it fresh on
 * every pass (level-triggered), and the previous `.status` contributes only records of actions taken
 * (last compaction, last defragmentation, a defragmentation round in progress).
 */
import type { EtcdClusterSpec, EtcdClusterStatus } from '../crd/types.js';

export type Bootstrap = 'new' | 'existing' | 'restore';

export interface ObservedPod {
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  /** When the Ready condition last changed (ms since epoch), if reported. */
  readonly readyTransitionMs: number | undefined;
  readonly deleting: boolean;
}

export interface ObservedClaim {
  readonly name: string;
  readonly bootstrap: Bootstrap;
  readonly deleting: boolean;
}

/** A member's answer to Maintenance.Status. */
export interface MemberProbe {
  readonly version: string;
  readonly dbSizeBytes: number;
  readonly dbSizeInUseBytes: number;
  readonly leaderId: bigint;
  readonly raftIndex: number;
  readonly raftAppliedIndex: number;
  readonly revision: number;
  readonly isLearner: boolean;
  readonly errors: readonly string[];
}

export interface ObservedMember {
  readonly id: bigint;
  /** etcd's member name; empty until the member has started once. */
  readonly name: string;
  /** The pod (and claim) this member runs as, matched by peer URL; undefined if none matches. */
  readonly podName: string | undefined;
  readonly peerURL: string;
  readonly isLearner: boolean;
  /** undefined: the member did not answer Status. */
  readonly probe: MemberProbe | undefined;
}

export interface ObservedAlarm {
  readonly memberId: bigint;
  readonly alarm: 'NOSPACE' | 'CORRUPT';
}

export interface ObservedEtcd {
  readonly members: readonly ObservedMember[];
  readonly leaderId: bigint | undefined;
  readonly clusterId: bigint;
  readonly alarms: readonly ObservedAlarm[];
}

export interface ObservedBackup {
  readonly name: string;
  readonly phase: string;
  readonly scheduled: boolean;
  /** The schedule minute it was taken for (scheduled backups only). */
  readonly tickMs: number | undefined;
  readonly revision: number | undefined;
  readonly finishTime: string | undefined;
  readonly location: string | undefined;
}

export interface ObservedCluster {
  readonly nowMs: number;
  readonly name: string;
  readonly namespace: string;
  readonly generation: number;
  readonly createdMs: number;
  readonly deleting: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: EtcdClusterSpec;
  readonly status: EtcdClusterStatus;
  readonly pods: readonly ObservedPod[];
  readonly claims: readonly ObservedClaim[];
  readonly services: { readonly peer: boolean; readonly client: boolean };
  /** The PDB's minAvailable, or undefined if there is no PDB. */
  readonly pdbMinAvailable: number | undefined;
  /** undefined: no member answered (or the members could not be asked: see clientTlsProblem). */
  readonly etcd: ObservedEtcd | undefined;
  /** Why the client TLS Secret cannot be used (missing, or a key missing); undefined when it can or no TLS. */
  readonly clientTlsProblem?: string;
  /** The cluster's EtcdBackups (spec.clusterName = this cluster). */
  readonly backups: readonly ObservedBackup[];
  /** spec.bootstrap.backupName resolved, if set and found. */
  readonly bootstrapBackup: ObservedBackup | undefined;
}
