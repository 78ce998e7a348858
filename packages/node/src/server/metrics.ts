/**
 * etcd_server_* metrics with etcd 3.4's names, help texts and buckets, so etcd's dashboards and
 * alerts work unchanged, plus Corvid's own corvid_server_* series where etcd users are blind.
 * Registered on the member's injected Registry. The raft driver keeps the proposal and leader
 * series up to date; etcd_disk_backend_* belong to the backend (storage/backend.ts) and
 * etcd_disk_wal_fsync_duration_seconds to raft-driver/metrics.ts.
 */
import { Counter, exponentialBuckets, Gauge, Histogram, type Registry } from 'prom-client';
import type { ApplyObserver } from '../apply/index.js';
import { CellHistogram, type HistogramCell } from '../metrics/index.js';
import type { ProposalMetrics } from '../raft-driver/index.js';
import type { Logger } from '../util/logger.js';
import { ETCD_CLUSTER_VERSION } from '../version.js';

/** etcd's default warnApplyDuration: an apply slower than this counts in etcd_server_slow_apply_total. */
export const SLOW_APPLY_SECONDS = 0.1;

/** 100 µs … 3.3 s: apply and ReadIndex waits span a sub-millisecond apply to an election. */
const CORVID_LATENCY_BUCKETS = exponentialBuckets(0.0001, 2, 16);

/** The series the raft driver keeps up to date (their shape is the driver's), the learner flag, and the member's own timings. */
export type ServerMetrics = ProposalMetrics & {
  readonly isLearner: Gauge;
  /** Times one linearizable read's ReadIndex wait (corvid_server_read_index_wait_seconds). */
  readonly readIndexWait: Histogram;
};

export interface ServerFacts {
  readonly serverVersion: string;
  /** The cluster version etcd_cluster_version reports (major.minor); default: etcd 3.4's. */
  readonly clusterVersion?: string;
  readonly memberIdHex: string;
  /** The quota in force (etcd reports the default for 0 and a negative value as given). */
  readonly quotaBackendBytes: number;
}

export function createServerMetrics(registry: Registry, labels: ServerFacts): ServerMetrics {
  const registers = [registry];
  new Gauge({ name: 'etcd_server_quota_backend_bytes', help: 'Current backend storage quota size in bytes.', registers }).set(labels.quotaBackendBytes);
  new Gauge({ name: 'etcd_server_version', help: "Which version is running. 1 for 'server_version' label with current version.", labelNames: ['server_version'], registers }).set({ server_version: labels.serverVersion }, 1);
  new Gauge({ name: 'etcd_server_id', help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", labelNames: ['server_id'], registers }).set({ server_id: labels.memberIdHex }, 1);
  new Gauge({ name: 'etcd_cluster_version', help: "Which version is running. 1 for 'cluster_version' label with current cluster version", labelNames: ['cluster_version'], registers }).set({ cluster_version: labels.clusterVersion ?? ETCD_CLUSTER_VERSION.split('.').slice(0, 2).join('.') }, 1);
  return {
    proposalsCommitted: new Gauge({ name: 'etcd_server_proposals_committed_total', help: 'The total number of consensus proposals committed.', registers }),
    proposalsApplied: new Gauge({ name: 'etcd_server_proposals_applied_total', help: 'The total number of consensus proposals applied.', registers }),
    proposalsPending: new Gauge({ name: 'etcd_server_proposals_pending', help: 'The current number of pending proposals to commit.', registers }),
    proposalsFailed: new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers }),
    hasLeader: new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers }),
    isLeader: new Gauge({ name: 'etcd_server_is_leader', help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.', registers }),
    readIndexesFailed: new Counter({ name: 'etcd_server_read_indexes_failed_total', help: 'The total number of failed read indexes seen.', registers }),
    slowReadIndexes: new Counter({ name: 'etcd_server_slow_read_indexes_total', help: 'The total number of pending read indexes not in sync with leader\'s or timed out read index requests.', registers }),
    // Kept up to date by the member as its membership changes.
    isLearner: new Gauge({ name: 'etcd_server_is_learner', help: 'Whether or not this member is a learner. 1 if is, 0 otherwise.', registers }),
    readIndexWait: new Histogram({
      name: 'corvid_server_read_index_wait_seconds',
      help: 'Time a linearizable read waited for its ReadIndex: the quorum round trip plus applying up to the read index.',
      buckets: CORVID_LATENCY_BUCKETS,
      registers,
    }),
  };
}

/**
 * Observes every applied entry: corvid_server_apply_duration_seconds{op}, and etcd_server_slow_apply_total
 * for one slower than etcd's warnApplyDuration. Made before the member's identity is known (the applier
 * is built first).
 */
export function createApplyObserver(registry: Registry, slow: { readonly warnApplySeconds: number; readonly logger?: Logger } = { warnApplySeconds: SLOW_APPLY_SECONDS }): ApplyObserver {
  const slowApplies = new Counter({ name: 'etcd_server_slow_apply_total', help: 'The total number of slow apply requests (likely overloaded from slow disk).', registers: [registry] });
  // Called for every applied entry: cells, looked up by operation, rather than prom-client's labelled observe.
  const applySeconds = new CellHistogram(
    registry, 'corvid_server_apply_duration_seconds',
    'Time to apply one committed entry to the state machine, by operation (put, deleteRange, txn, leaseGrant, ...).',
    CORVID_LATENCY_BUCKETS,
  );
  const byOp = new Map<string, HistogramCell>();
  return {
    entryApplied(op: string, seconds: number): void {
      let cell = byOp.get(op);
      if (cell === undefined) {
        cell = applySeconds.cell({ op });
        byOp.set(op, cell);
      }
      cell.observe(seconds);
      if (seconds > slow.warnApplySeconds) {
        slowApplies.inc();
        // etcd's warnOfExpensiveRequest (--experimental-warning-apply-duration).
        slow.logger?.warn('apply request took too long', { took: `${(seconds * 1000).toFixed(3)}ms`, 'expected-duration': `${slow.warnApplySeconds * 1000}ms`, op });
      }
    },
  };
}

export interface StateReaders {
  currentRevision(): number;
  compactedRevision(): number;
  /** Leases alive now (granted, not yet revoked or expired). */
  leases(): number;
  /** The auth store's revision (bumped by every auth change). */
  authRevision(): number;
}

/**
 * Gauges read from the live state at scrape time: etcd's current and compacted revision
 * (etcd_debugging_mvcc_*_revision) and auth revision, and Corvid's count of live leases, which
 * etcd 3.4 does not export.
 */
export function registerStateGauges(registry: Registry, state: StateReaders): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers, collect(): void { this.set(read()); } });
  };
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => state.currentRevision());
  gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', () => state.compactedRevision());
  gauge('corvid_lease_active', 'Leases alive now: granted and not yet revoked or expired.', () => state.leases());
  gauge('etcd_debugging_auth_revision', 'The current revision of auth store.', () => state.authRevision());
}

/**
 * The /health check counted as etcd 3.4 counts it: etcd_server_health_success and
 * etcd_server_health_failures (a check that throws counts as a failure).
 */
export function countHealthChecks(registry: Registry, check: () => Promise<boolean>): () => Promise<boolean> {
  const registers = [registry];
  const success = new Counter({ name: 'etcd_server_health_success', help: 'The total number of successful health checks', registers });
  const failures = new Counter({ name: 'etcd_server_health_failures', help: 'The total number of failed health checks', registers });
  return async () => {
    let healthy = false;
    try {
      healthy = await check();
      return healthy;
    } finally {
      (healthy ? success : failures).inc();
    }
  };
}
