/**
 * The lessor's metrics, on the member's registry: etcd 3.4's `etcd_debugging_lease_*` (lease/metrics.go)
 * and `etcd_debugging_server_lease_expired_total` (etcdserver/metrics.go) with etcd's names, help
 * and buckets, plus Corvid's own for the leader's expiry and checkpoint batches.
 */
import { Counter, Histogram, exponentialBuckets, type Registry } from 'prom-client';

export class LeaseMetrics {
  readonly granted: Counter;
  readonly revoked: Counter;
  readonly renewed: Counter;
  readonly ttls: Histogram;
  readonly expired: Counter;
  readonly expiryBatchLeases: Histogram;
  readonly checkpoints: Counter;
  readonly checkpointBatchLeases: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.granted = new Counter({ name: 'etcd_debugging_lease_granted_total', help: 'The total number of granted leases.', registers });
    this.revoked = new Counter({ name: 'etcd_debugging_lease_revoked_total', help: 'The total number of revoked leases.', registers });
    this.renewed = new Counter({ name: 'etcd_debugging_lease_renewed_total', help: 'The number of renewed leases seen by the leader.', registers });
    // 1 second -> 3 months, as etcd: ExponentialBuckets(1, 2, 24).
    this.ttls = new Histogram({ name: 'etcd_debugging_lease_ttl_total', help: 'Bucketed histogram of lease TTLs.', buckets: exponentialBuckets(1, 2, 24), registers });
    this.expired = new Counter({ name: 'etcd_debugging_server_lease_expired_total', help: 'The total number of expired leases.', registers });
    this.expiryBatchLeases = new Histogram({
      name: 'corvid_lease_expiry_batch_leases',
      help: 'Expired leases the leader proposed to revoke in one pass of its expiry loop.',
      buckets: exponentialBuckets(1, 2, 11),
      registers,
    });
    this.checkpoints = new Counter({ name: 'corvid_lease_checkpoints_total', help: 'Lease remaining-TTL checkpoints the leader proposed (clears on renewal included).', registers });
    this.checkpointBatchLeases = new Histogram({
      name: 'corvid_lease_checkpoint_batch_leases',
      help: 'Leases in one proposed LeaseCheckpointRequest.',
      buckets: exponentialBuckets(1, 2, 11),
      registers,
    });
  }
}
