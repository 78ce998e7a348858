/**
 * Bad requests, as raw gRPC, for the error differential (errors.test.ts). Each case names the catalogue entry etcd
 * is expected to answer with ('ok' when the request is accepted, null when the answer is not in the catalogue, e.g.
 * gRPC's own size limit). Members start with --max-txn-ops 4 --max-request-bytes 1024, and SETUP runs first:
 * keys a, b, c at revisions 2, 3, 4, then a compaction at revision 3.
 */
import { etcdserverpb } from '@corvid/proto';
import type { ErrorCode } from '@corvid/node';
import { bytes, type KvApi } from '../harness/grpc.js';

export const MAX_TXN_OPS = 4;
export const MAX_REQUEST_BYTES = 1024;
/** etcd lets gRPC accept max-request-bytes plus this much (embed/etcd.go grpcOverheadBytes), then checks itself. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;
export const COMPACTED_AT = 3;

export async function setup(kv: KvApi): Promise<void> {
  for (const key of ['a', 'b', 'c']) await kv.put({ key: bytes(key), value: bytes(`value-${key}`) });
  await kv.compact({ revision: BigInt(COMPACTED_AT) });
}

export interface ErrorCase {
  readonly name: string;
  readonly expected: ErrorCode | 'ok' | null;
  readonly call: (kv: KvApi) => Promise<unknown>;
}

type Op = etcdserverpb.DeepPartial<etcdserverpb.RequestOp>;
const putOp = (key: string, value = 'v'): Op => ({ request: { $case: 'requestPut', value: { key: bytes(key), value: bytes(value) } } });
const rangeOp = (key: string, revision = 0): Op => ({ request: { $case: 'requestRange', value: { key: bytes(key), revision: BigInt(revision) } } });
const deleteOp = (key: string, rangeEnd = ''): Op => ({ request: { $case: 'requestDeleteRange', value: { key: bytes(key), rangeEnd: bytes(rangeEnd) } } });
const valueIs = (key: string, value: string): etcdserverpb.DeepPartial<etcdserverpb.Compare> => ({
  key: bytes(key),
  target: etcdserverpb.Compare_CompareTarget.VALUE,
  result: etcdserverpb.Compare_CompareResult.EQUAL,
  targetUnion: { $case: 'value', value: bytes(value) },
});
const filler = (length: number): Buffer => Buffer.alloc(length, 'x');

export const ERROR_CASES: readonly ErrorCase[] = [
  // Empty keys.
  { name: 'range with an empty key', expected: 'EmptyKey', call: (kv) => kv.range({ key: bytes('') }) },
  { name: 'put with an empty key', expected: 'EmptyKey', call: (kv) => kv.put({ key: bytes(''), value: bytes('v') }) },
  { name: 'delete with an empty key', expected: 'EmptyKey', call: (kv) => kv.deleteRange({ key: bytes('') }) },
  { name: 'txn compare with an empty key', expected: 'EmptyKey', call: (kv) => kv.txn({ compare: [valueIs('', 'v')], success: [putOp('x')] }) },
  { name: 'txn put op with an empty key', expected: 'EmptyKey', call: (kv) => kv.txn({ success: [putOp('')] }) },
  { name: 'txn range op with an empty key (failure branch)', expected: 'EmptyKey', call: (kv) => kv.txn({ failure: [rangeOp('')] }) },
  // Request size: etcd's own limit, then gRPC's limit above it.
  { name: 'put well under --max-request-bytes', expected: 'ok', call: (kv) => kv.put({ key: bytes('small'), value: filler(MAX_REQUEST_BYTES - 100) }) },
  { name: 'put just over --max-request-bytes', expected: 'RequestTooLarge', call: (kv) => kv.put({ key: bytes('big'), value: filler(MAX_REQUEST_BYTES + 1) }) },
  { name: 'put at --max-request-bytes + 512 KiB (etcd check, not gRPC)', expected: 'RequestTooLarge', call: (kv) => kv.put({ key: bytes('big'), value: filler(MAX_REQUEST_BYTES + GRPC_OVERHEAD_BYTES - 64) }) },
  { name: 'put over --max-request-bytes + 512 KiB (gRPC message limit)', expected: null, call: (kv) => kv.put({ key: bytes('huge'), value: filler(MAX_REQUEST_BYTES + GRPC_OVERHEAD_BYTES + 1) }) },
  { name: 'txn over --max-request-bytes', expected: 'RequestTooLarge', call: (kv) => kv.txn({ success: [putOp('t1', 'x'.repeat(600)), putOp('t2', 'x'.repeat(600))] }) },
  // Txn shape.
  { name: `txn with ${MAX_TXN_OPS} ops`, expected: 'ok', call: (kv) => kv.txn({ success: [putOp('o1'), putOp('o2'), putOp('o3'), putOp('o4')] }) },
  { name: `txn with ${MAX_TXN_OPS + 1} ops in success`, expected: 'TooManyOps', call: (kv) => kv.txn({ success: [putOp('o1'), putOp('o2'), putOp('o3'), putOp('o4'), putOp('o5')] }) },
  { name: `txn with ${MAX_TXN_OPS + 1} compares`, expected: 'TooManyOps', call: (kv) => kv.txn({ compare: ['a', 'b', 'c', 'd', 'e'].map((k) => valueIs(k, 'v')) }) },
  { name: `txn with ${MAX_TXN_OPS + 1} ops in failure`, expected: 'TooManyOps', call: (kv) => kv.txn({ failure: [rangeOp('a'), rangeOp('b'), rangeOp('c'), rangeOp('d'), rangeOp('e')] }) },
  { name: 'txn putting one key twice', expected: 'DuplicateKey', call: (kv) => kv.txn({ success: [putOp('dup'), putOp('dup')] }) },
  { name: 'txn putting and deleting one key', expected: 'DuplicateKey', call: (kv) => kv.txn({ success: [putOp('dup'), deleteOp('dup')] }) },
  { name: 'txn putting a key inside a deleted range', expected: 'DuplicateKey', call: (kv) => kv.txn({ success: [deleteOp('d', 'e'), putOp('dx')] }) },
  { name: 'txn putting one key in both branches', expected: 'ok', call: (kv) => kv.txn({ success: [putOp('both')], failure: [putOp('both')] }) },
  { name: 'txn ranging one key twice', expected: 'ok', call: (kv) => kv.txn({ success: [rangeOp('a'), rangeOp('a')] }) },
  // Put flags.
  { name: 'put with ignore_value and a value', expected: 'ValueProvided', call: (kv) => kv.put({ key: bytes('a'), value: bytes('v'), ignoreValue: true }) },
  { name: 'put with ignore_lease and a lease', expected: 'LeaseProvided', call: (kv) => kv.put({ key: bytes('a'), lease: 1n, ignoreLease: true }) },
  { name: 'put with ignore_value on a missing key', expected: 'KeyNotFound', call: (kv) => kv.put({ key: bytes('missing'), ignoreValue: true }) },
  { name: 'put with ignore_lease on a missing key', expected: 'KeyNotFound', call: (kv) => kv.put({ key: bytes('missing'), value: bytes('v'), ignoreLease: true }) },
  { name: 'put with ignore_value on an existing key', expected: 'ok', call: (kv) => kv.put({ key: bytes('a'), ignoreValue: true }) },
  { name: 'put with an unknown lease', expected: 'LeaseNotFound', call: (kv) => kv.put({ key: bytes('a'), value: bytes('v'), lease: 12345n }) },
  { name: 'txn put with an unknown lease', expected: 'LeaseNotFound', call: (kv) => kv.txn({ success: [{ request: { $case: 'requestPut', value: { key: bytes('a'), lease: 12345n } } }] }) },
  // Revisions.
  { name: 'range at a compacted revision', expected: 'Compacted', call: (kv) => kv.range({ key: bytes('a'), revision: BigInt(COMPACTED_AT - 1) }) },
  { name: 'range at the compaction revision', expected: 'ok', call: (kv) => kv.range({ key: bytes('a'), revision: BigInt(COMPACTED_AT) }) },
  { name: 'txn range at a compacted revision', expected: 'Compacted', call: (kv) => kv.txn({ success: [rangeOp('a', COMPACTED_AT - 1)] }) },
  { name: 'compaction at an older revision', expected: 'Compacted', call: (kv) => kv.compact({ revision: BigInt(COMPACTED_AT - 1) }) },
  { name: 'compaction at the compacted revision', expected: 'Compacted', call: (kv) => kv.compact({ revision: BigInt(COMPACTED_AT) }) },
  { name: 'range at a future revision', expected: 'FutureRev', call: (kv) => kv.range({ key: bytes('a'), revision: 100_000n }) },
  { name: 'txn range at a future revision', expected: 'FutureRev', call: (kv) => kv.txn({ success: [rangeOp('a', 100_000)] }) },
  { name: 'compaction at a future revision', expected: 'FutureRev', call: (kv) => kv.compact({ revision: 100_000n }) },
  { name: 'range at a negative revision', expected: 'ok', call: (kv) => kv.range({ key: bytes('a'), revision: -1n }) },
  // Sort order out of the enum's range, as a raw number: etcd 3.4 does not check it (v3rpc checks only the key;
  // apply.go sorts only for ASCEND and DESCEND), so the range is answered unsorted. etcd 3.5 says InvalidSortOption.
  { name: 'range with sort_order 5', expected: 'ok', call: (kv) => kv.range({ key: bytes('a'), sortOrder: 5 as etcdserverpb.RangeRequest_SortOrder }) },
];

/**
 * Sort target out of the enum's range: etcd 3.4.23 panics (apply.go Range: a nil sorter reaches sort.Sort) and the
 * member dies, so this request is sent last. Corvid is expected to answer as etcd 3.5 does and keep serving.
 */
export const ORACLE_CRASH_CASE: ErrorCase = {
  name: 'range with sort_target 9',
  expected: 'InvalidSortOption',
  call: (kv) => kv.range({ key: bytes('a'), sortTarget: 9 as etcdserverpb.RangeRequest_SortTarget }),
};
