/**
 * etcd_server_* metrics with etcd 3.4's names, help texts and buckets, so etcd's dashboards and
 * alerts work unchanged. Registered on the member's injected Registry. The raft driver keeps the
 * proposal and leader series up to date; etcd_disk_backend_commit_duration_seconds belongs to the
 * backend (storage/backend.ts) and etcd_disk_wal_fsync_duration_seconds to raft-driver/metrics.ts.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProposalMetrics } from '../raft-driver/index.js';

/** The series the raft driver keeps up to date (their shape is the driver's), and the learner flag. */
export type ServerMetrics = ProposalMetrics & { readonly isLearner: Gauge };

export interface ServerFacts {
  readonly serverVersion: string;
  readonly memberIdHex: string;
  /** The quota in force (etcd reports the default for 0 and a negative value as given). */
  readonly quotaBackendBytes: number;
}

export function createServerMetrics(registry: Registry, labels: ServerFacts): ServerMetrics {
  const registers = [registry];
  new Gauge({ name: 'etcd_server_quota_backend_bytes', help: 'Current backend storage quota size in bytes.', registers }).set(labels.quotaBackendBytes);
  new Gauge({ name: 'etcd_server_version', help: "Which version is running. 1 for 'server_version' label with current version.", labelNames: ['server_version'], registers }).set({ server_version: labels.serverVersion }, 1);
  new Gauge({ name: 'etcd_server_id', help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", labelNames: ['server_id'], registers }).set({ server_id: labels.memberIdHex }, 1);
  return {
    proposalsCommitted: new Gauge({ name: 'etcd_server_proposals_committed_total', help: 'The total number of consensus proposals committed.', registers }),
    proposalsApplied: new Gauge({ name: 'etcd_server_proposals_applied_total', help: 'The total number of consensus proposals applied.', registers }),
    proposalsPending: new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers }),
    proposalsFailed: new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers }),
    hasLeader: new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers }),
    isLeader: new Gauge({ name: 'etcd_server_is_leader', help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.', registers }),
    readIndexesFailed: new Counter({ name: 'etcd_server_read_indexes_failed_total', help: 'The total number of failed read indexes seen.', registers }),
    // Kept up to date by the member as its membership changes.
    isLearner: new Gauge({ name: 'etcd_server_is_learner', help: 'Whether or not this member is a learner. 1 if is, 0 otherwise.', registers }),
  };
}
