/**
 * The raft driver's own metrics, with etcd 3.4's names, help texts and buckets; registered on the
 * member's injected Registry. The etcd_server_* gauges it drives (has_leader, is_leader,
 * proposals_*) are defined once in server/metrics.ts and passed in.
 */
import { Counter, exponentialBuckets, Histogram, type Registry } from 'prom-client';

export interface RaftDriverMetrics {
  /** One WAL save (one durable LMDB commit per Ready). */
  readonly walFsyncSeconds: Histogram;
  readonly leaderChanges: Counter;
}

export function createRaftDriverMetrics(registry: Registry): RaftDriverMetrics {
  const registers = [registry];
  return {
    walFsyncSeconds: new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      buckets: exponentialBuckets(0.001, 2, 14),
      registers,
    }),
    leaderChanges: new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers }),
  };
}
