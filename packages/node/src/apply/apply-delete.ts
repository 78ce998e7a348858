/**
 * DeleteRange, as etcd 3.4's applierV3backend.DeleteRange: tombstones every live key in range and
 * detaches each from its lease (etcd's storeTxnWrite.delete).
 */
import type { etcdserverpb } from '@corvid/proto';
import { CorvidError } from '../errors/index.js';
import type { KeyLeases } from '../lease/index.js';
import { keyRange, toKeyValue, type KvWrite } from '../mvcc/index.js';
import type { WriteTxn } from '../storage/index.js';
import { revisionHeader } from './header.js';

export function checkDelete(d: etcdserverpb.DeleteRangeRequest): void {
  if (d.key.length === 0) throw new CorvidError('EmptyKey');
}

/**
 * header.revision is the request's revision so far: unchanged when nothing was deleted, unless
 * an earlier op of the same txn already changed something (etcd: storeTxnWrite.DeleteRange).
 */
export function applyDelete(txn: WriteTxn, write: KvWrite, leases: KeyLeases, d: etcdserverpb.DeleteRangeRequest): etcdserverpb.DeleteRangeResponse {
  const deleted = write.deleteRange(txn, keyRange(d.key, d.rangeEnd));
  for (const { key, record } of deleted) if (record.lease !== 0n) leases.detach(txn, record.lease, key);
  return {
    header: revisionHeader(write.rev()),
    deleted: BigInt(deleted.length),
    prevKvs: d.prevKv ? deleted.map(({ key, record }) => toKeyValue(key, record, false)) : [],
  };
}
