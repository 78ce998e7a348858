/**
 * Compaction, as etcd 3.4's store.updateCompactRev: Compacted when the revision is at or below
 * the compact revision (which starts at -1, so compacting 0 or 1 on a new store succeeds once),
 * FutureRev when above the current revision. The header carries the current revision; the
 * revision does not move. Old versions are removed in the background after the commit.
 */
import type { etcdserverpb } from '@corvid/proto';
import { revisionFromWire, type KvStore } from '../mvcc/index.js';
import type { WriteTxn } from '../storage/index.js';
import { revisionHeader } from './header.js';

export function applyCompaction(txn: WriteTxn, kv: KvStore, c: etcdserverpb.CompactionRequest): etcdserverpb.CompactionResponse {
  kv.compact(txn, revisionFromWire(c.revision));
  return { header: revisionHeader(kv.currentRevision()) };
}
