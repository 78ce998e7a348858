/**
 * Put, as etcd 3.4's applierV3backend.Put: lease checked first (a non-zero lease that does not
 * exist is LeaseNotFound), then ignore_value / ignore_lease need a live key (KeyNotFound). Checks
 * run before anything is written so a failed put changes nothing. The written key moves from its
 * previous lease to its new one (etcd's storeTxnWrite.put: Detach, then Attach).
 */
import type { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import type { KeyLeases } from '../lease/index.js';
import { toBuffer, toKeyValue, type KvWrite } from '../mvcc/index.js';
import type { WriteTxn } from '../storage/index.js';
import { keyFitsLayout } from '../storage/schema.js';
import { revisionHeader } from './header.js';

/** The errors a put can end with; `view` is the state the check reads (pre-txn for a txn). */
export function checkPut(txn: WriteTxn, view: KvWrite, leases: KeyLeases, p: etcdserverpb.PutRequest): void {
  if (p.key.length === 0) throw new CorvidError('EmptyKey');
  // LMDB's key limit: etcd accepts longer keys; we refuse them deterministically at apply.
  if (!keyFitsLayout(p.key)) throw new CorvidError('RequestTooLarge', { detail: 'key exceeds the storage key limit' });
  if (p.lease !== 0n && !leases.has(p.lease)) throw new CorvidError('LeaseNotFound');
  if ((p.ignoreValue || p.ignoreLease) && view.get(txn, toBuffer(p.key)) === undefined) throw new CorvidError('KeyNotFound');
}

/** Writes the put; call after `checkPut` passed. */
export function applyPut(txn: WriteTxn, write: KvWrite, leases: KeyLeases, p: etcdserverpb.PutRequest): etcdserverpb.PutResponse {
  const key = toBuffer(p.key);
  const prev = write.get(txn, key);
  // In a txn the checks ran on the pre-txn state; a key the txn itself deleted has no value to keep.
  const value = p.ignoreValue ? (prev?.value ?? Buffer.alloc(0)) : p.value;
  const lease = p.ignoreLease ? (prev?.lease ?? 0n) : p.lease;
  write.put(txn, key, value, lease, prev);
  const prevLease = prev?.lease ?? 0n;
  if (prevLease !== lease) {
    if (prevLease !== 0n) leases.detach(txn, prevLease, key);
    if (lease !== 0n) leases.attach(txn, lease, key);
  }
  return { header: revisionHeader(write.rev()), prevKv: p.prevKv && prev !== undefined ? toKeyValue(key, prev, false) : undefined };
}
