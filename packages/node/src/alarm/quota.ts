/**
 * The backend space quota, as etcd 3.4's backendQuota (etcdserver/quota.go): a put, a txn or a
 * lease grant is refused when the backend's size plus the request's cost would reach the quota;
 * the API then raises the NOSPACE alarm. --quota-backend-bytes 0 means etcd's default (2 GiB),
 * a negative value switches the quota off.
 *
 * The size is the bytes of LMDB pages in use, not the file's size: bolt's file shrinks only by
 * defragmentation, which is how etcd users recover from NOSPACE (compact, defrag, disarm), while
 * LMDB reuses freed pages in place, so pages in use are what compaction gives back.
 */
import type { etcdserverpb } from '@corvid/proto';

/** etcd's DefaultQuotaBytes. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** etcd's estimate of the bytes one key-value adds besides key and value (kvOverhead). */
const KV_OVERHEAD_BYTES = 256;
/** etcd's leaseOverhead. */
export const LEASE_OVERHEAD_BYTES = 64;

export type QuotaRequest =
  | { readonly $case: 'put'; readonly value: etcdserverpb.PutRequest }
  | { readonly $case: 'txn'; readonly value: etcdserverpb.TxnRequest }
  | { readonly $case: 'leaseGrant' };

function costPut(r: etcdserverpb.PutRequest): number {
  return KV_OVERHEAD_BYTES + r.key.length + r.value.length;
}

/** etcd 3.4's costTxn: the dearer branch, counting its top-level puts only (nested txns cost nothing). */
function costTxn(r: etcdserverpb.TxnRequest): number {
  const branch = (ops: readonly etcdserverpb.RequestOp[]): number =>
    ops.reduce((sum, op) => sum + (op.request?.$case === 'requestPut' ? costPut(op.request.value) : 0), 0);
  return Math.max(branch(r.success), branch(r.failure));
}

export function requestCost(request: QuotaRequest): number {
  switch (request.$case) {
    case 'put':
      return costPut(request.value);
    case 'txn':
      return costTxn(request.value);
    case 'leaseGrant':
      return LEASE_OVERHEAD_BYTES;
  }
}

export class QuotaChecker {
  /** The quota in force, or null when switched off. */
  readonly quotaBytes: number | null;

  constructor(
    configuredBytes: number,
    private readonly backendSizeBytes: () => number,
  ) {
    this.quotaBytes = configuredBytes < 0 ? null : configuredBytes === 0 ? DEFAULT_QUOTA_BYTES : configuredBytes;
  }

  /** etcd's Available: size + cost < quota. */
  available(request: QuotaRequest): boolean {
    return this.quotaBytes === null || this.backendSizeBytes() + requestCost(request) < this.quotaBytes;
  }
}
