/**
 * @corvid/operator — reconciles EtcdCluster and EtcdBackup resources (deploy/crds) on Kubernetes, reaching
 * members only through the etcd v3 API, so it manages Corvid and etcd 3.4 alike.
 */
export * from './crd/types.js';
export { decide, isHealthy, DISRUPTIVE, type Action, type DefragRound, type InitialPeer } from './plan/decide.js';
export type { ObservedCluster, ObservedPod, ObservedClaim, ObservedMember, ObservedEtcd, ObservedBackup, MemberProbe, Bootstrap } from './plan/observed.js';
export { parseCron, latestTick, parseRetentionMs } from './plan/cron.js';
export { DNS_ADDRESSING, CLIENT_PORT, PEER_PORT, DATA_MOUNT, BACKUP_MOUNT, type MemberAddressing, memberPod, memberClaim, peerService, clientService, podDisruptionBudget, parseVolumeLocation } from './act/resources.js';
export { buildStatus } from './controller/status.js';
export { Operator, type OperatorOptions, type PassResult } from './controller/operator.js';
export { OperatorMetrics, metricsHandler } from './controller/metrics.js';
export { LeaderElector, type LeaderElectionOptions } from './controller/leader-election.js';
export { saveSnapshot } from './backup/snapshot.js';
export { EtcdClients } from './observe/etcd-client.js';
