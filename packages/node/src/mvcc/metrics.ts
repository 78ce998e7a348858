/**
 * etcd's mvcc metrics (names, help and buckets as in etcd 3.4's mvcc/metrics.go), registered on
 * an injected Registry. Without one the store counts into a private registry nobody scrapes.
 */
import { Counter, exponentialBuckets, Gauge, Histogram, Registry, type Metric } from 'prom-client';

/**
 * The metric already registered under `name` (a store reopened on the same registry keeps
 * counting into it), or a new one. prom-client throws on a second registration.
 */
export function registered<M extends Metric>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

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
  /** HashKV (etcd's HashByRev). */
  readonly hashRevSeconds: Histogram;

  constructor(gauges: MvccGauges, registry: Registry = new Registry()) {
    const registers = [registry];
    const counter = (name: string, help: string): Counter => registered(registry, name, () => new Counter({ name, help, registers }));
    this.putTotal = counter('etcd_mvcc_put_total', 'Total number of puts seen by this member.');
    this.deleteTotal = counter('etcd_mvcc_delete_total', 'Total number of deletes seen by this member.');
    this.rangeTotal = counter('etcd_mvcc_range_total', 'Total number of ranges seen by this member.');
    this.txnTotal = counter('etcd_mvcc_txn_total', 'Total number of txns seen by this member.');
    this.compactionKeysTotal = counter('etcd_debugging_mvcc_db_compaction_keys_total', 'Total number of db keys compacted.');
    // etcd 3.4 exports these four counts twice, also under their older etcd_debugging_mvcc_* names.
    const mirror = (name: string, help: string, source: Counter): void => {
      registered(registry, name, () => new Counter({
        name, help, registers,
        async collect(): Promise<void> {
          const value = (await source.get()).values[0]?.value ?? 0;
          this.reset();
          this.inc(value);
        },
      }));
    };
    mirror('etcd_debugging_mvcc_put_total', 'Total number of puts seen by this member.', this.putTotal);
    mirror('etcd_debugging_mvcc_delete_total', 'Total number of deletes seen by this member.', this.deleteTotal);
    mirror('etcd_debugging_mvcc_range_total', 'Total number of ranges seen by this member.', this.rangeTotal);
    mirror('etcd_debugging_mvcc_txn_total', 'Total number of txns seen by this member.', this.txnTotal);
    const histogram = (name: string, help: string, buckets: number[]): Histogram =>
      registered(registry, name, () => new Histogram({ name, help, buckets, registers }));
    this.compactionPauseMs = histogram(
      'etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds',
      'Bucketed histogram of db compaction pause duration.',
      exponentialBuckets(1, 2, 13),
    );
    this.compactionTotalMs = histogram(
      'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
      'Bucketed histogram of db compaction total duration.',
      exponentialBuckets(100, 2, 14),
    );
    this.hashRevSeconds = histogram('etcd_mvcc_hash_rev_duration_seconds', 'The latency distribution of storage hash by revision operation.', exponentialBuckets(0.01, 2, 15));
    const gauge = (name: string, help: string, read: () => number): void => {
      // A gauge reads the live store: replace one left by a previous store on this registry.
      registry.removeSingleMetric(name);
      new Gauge({ name, help, registers, collect(): void { this.set(read()); } });
    };
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', gauges.dbSizeBytes);
    gauge('etcd_debugging_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', gauges.dbSizeBytes);
    gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.', gauges.dbSizeInUseBytes);
    gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', gauges.keys);
  }
}
