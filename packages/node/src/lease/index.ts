/**
 * lease: etcd's lessor on the member's backend. The applier grants, revokes, checkpoints and
 * (de)attaches keys through the apply face; the leader's expiry loop (server/lease-expiry.ts) and
 * the Lease service use the primary face. mvcc and lease never import each other: the applier
 * deletes a revoked lease's keys in the same transaction.
 */
export {
  Lessor,
  DEFAULT_LEASE_CHECKPOINT_INTERVAL_MS,
  EXPIRED_LEASE_RETRY_INTERVAL_MS,
  LEASE_REVOKE_RATE,
  MAX_LEASE_TTL_SECONDS,
  type KeyLeases,
  type LeaseView,
  type LessorOptions,
  type RenewOutcome,
} from './lessor.js';
export { IndexedHeap, type HeapItem } from './indexed-heap.js';
export { LeaseMetrics } from './metrics.js';
