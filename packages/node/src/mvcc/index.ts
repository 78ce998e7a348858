/**
 * mvcc: etcd's multi-version key-value store on the member's LMDB backend. `KvStore` serves reads
 * and HashKV; the applier writes through `KvStore.beginWrite` → `KvWrite` → `endWrite`.
 */
export { KvStore, INLINE_READ_ENTRIES, MAX_RESPONSE_BYTES, type HashKvResult, type KvStoreOptions } from './kv-store.js';
export { EncodedRangeResponse, withPreEncodedRange, encodeRangeResponse } from './read-pool/index.js';
export { KvWrite, type ChangeEvent, type DeletedKey } from './kv-write.js';
export { keyRange, inKeyRange, toBuffer, type KeyRange } from './key-range.js';
export { toKeyValue, type KvRecord } from './record.js';
export { resolveReadRevision, type RangeOutcome } from './range.js';
export { revisionFromWire, type RevisionView } from './revision.js';
export { MvccMetrics } from './metrics.js';
export { COMPACTION_CHUNK_ENTRIES } from './compaction.js';
