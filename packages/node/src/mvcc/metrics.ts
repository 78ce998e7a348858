/**
 * etcd's mvcc metrics (names, help and buckets as in etcd 3.4's mvcc/metrics.go), registered on
 * an injected Registry. Without one the store counts into a private registry nobody scrapes.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MvccGauges {
  /** Physical size of the backend file. */
  dbSizeBytes(): number;
  /** Pages in use. */
  dbSizeInUseBytes(): number;
  /** Live keys. */
  keys(): number;
}

export class MvccMetrics {
  readonly putTotal: Counter;
  readonly deleteTotal: Counter;
  readonly rangeTotal: Counter;
  readonly txnTotal: Counter;
  readonly compactionPauseMs: Histogram;
  readonly compactionTotalMs: Histogram;
  readonly compactionKeysTotal: Counter;

  constructor(gauges: MvccGauges, registry: Registry = new Registry()) {
    const registers = [registry];
    this.putTotal = new Counter({ name: 'etcd_mvcc_put_total', help: 'Total number of puts seen by this member.', registers });
    this.deleteTotal = new Counter({ name: 'etcd_mvcc_delete_total', help: 'Total number of deletes seen by this member.', registers });
    this.rangeTotal = new Counter({ name: 'etcd_mvcc_range_total', help: 'Total number of ranges seen by this member.', registers });
    this.txnTotal = new Counter({ name: 'etcd_mvcc_txn_total', help: 'Total number of txns seen by this member.', registers });
    this.compactionPauseMs = new Histogram({
      name: 'etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds',
      help: 'Bucketed histogram of db compaction pause duration.',
      buckets: exponentialBuckets(1, 2, 12),
      registers,
    });
    this.compactionTotalMs = new Histogram({
      name: 'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
      help: 'Bucketed histogram of db compaction total duration.',
      buckets: exponentialBuckets(100, 2, 14),
      registers,
    });
    this.compactionKeysTotal = new Counter({
      name: 'etcd_debugging_mvcc_db_compaction_keys_total',
      help: 'Total number of db keys compacted.',
      registers,
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect(): void { this.set(read()); } });
    };
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', gauges.dbSizeBytes);
    gauge('etcd_debugging_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', gauges.dbSizeBytes);
    gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', gauges.dbSizeInUseBytes);
    gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', gauges.keys);
  }
}

export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) out.push(b);
  return out;
}
