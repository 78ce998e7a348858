/**
 * LeaseGrant, LeaseRevoke and LeaseCheckpoint, as etcd 3.4's applierV3backend: a grant and a
 * checkpoint change no key (the header carries the current revision); a revoke deletes every key
 * attached to the lease, in byte order, at ONE revision, in the same transaction that forgets the
 * lease (etcd's lessor.Revoke), so no member can ever hold the lease without its keys or the keys
 * without their lease. The lease must exist before anything is written.
 */
import type { etcdserverpb } from '@corvid/proto';
import type { Lessor } from '../lease/index.js';
import { keyRange, type KvWrite } from '../mvcc/index.js';
import type { WriteTxn } from '../storage/index.js';
import { revisionHeader } from './header.js';

/** `atMs`: the entry's proposedAtMs, the only time an apply may see. */
export function applyLeaseGrant(txn: WriteTxn, write: KvWrite, lessor: Lessor, r: etcdserverpb.LeaseGrantRequest, atMs: number): etcdserverpb.LeaseGrantResponse {
  const lease = lessor.grant(txn, r.ID, Number(r.TTL), atMs);
  return { header: revisionHeader(write.rev()), ID: lease.id, TTL: BigInt(lease.ttlSeconds), error: '' };
}

export function applyLeaseRevoke(txn: WriteTxn, write: KvWrite, lessor: Lessor, r: etcdserverpb.LeaseRevokeRequest): etcdserverpb.LeaseRevokeResponse {
  lessor.mustExist(r.ID);
  const keys = lessor.keys(r.ID);
  for (const key of keys) write.deleteRange(txn, keyRange(key, new Uint8Array(0)));
  lessor.revoke(txn, r.ID, keys);
  return { header: revisionHeader(write.rev()) };
}

export function applyLeaseCheckpoint(txn: WriteTxn, write: KvWrite, lessor: Lessor, r: etcdserverpb.LeaseCheckpointRequest): etcdserverpb.LeaseCheckpointResponse {
  for (const cp of r.checkpoints) lessor.checkpoint(txn, cp.ID, Number(cp.remainingTTL));
  return { header: revisionHeader(write.rev()) };
}
