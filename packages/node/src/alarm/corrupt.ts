/**
 * What the CORRUPT alarm refuses, as etcd 3.4's applierV3Corrupt: every request that changes the
 * store (put, delete, txn, compaction, lease grant and revoke) fails with `etcdserver: corrupt
 * cluster`. Lease checkpoints, alarms, auth and membership go on. A read-only txn goes on too: etcd
 * serves it outside the log (isTxnReadonly → applyV3Base), so the alarm never sees it; Corvid
 * logs every txn, so the applier must let it through to answer as etcd does.
 */
import type { corvidpb, etcdserverpb } from '@corvid/proto';

/** etcd's isTxnReadonly: every operation of both branches is a range (a nested txn is not). */
export function isTxnReadonly(r: etcdserverpb.TxnRequest): boolean {
  return [...r.success, ...r.failure].every((op) => op.request?.$case === 'requestRange');
}

export function refusedUnderCorrupt(op: NonNullable<corvidpb.InternalRequest['request']>): boolean {
  switch (op.$case) {
    case 'put':
    case 'deleteRange':
    case 'compaction':
    case 'leaseGrant':
    case 'leaseRevoke':
      return true;
    case 'txn':
      return !isTxnReadonly(op.value);
    default:
      return false;
  }
}
